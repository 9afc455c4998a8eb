// `rig lab init` and `rig sync` as an operator runs them (issue 18), against a private PostgreSQL server; and
// `rig sync` killed with SIGKILL mid-push, after which a new push leaves the lab equal to the store.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <random>
#include <thread>

#include "lab_test_support.hpp"
#include "support/child_process.hpp"
#include "support/postgres_server.hpp"
#include "support/run_command.hpp"

namespace rig::lab {
namespace {

using rig::testing::run_command;

const std::string kRigConfig = RIG_SOURCE_DIR "/config/rig.sim.yaml";  // rig.id: sim-1

class LabCli : public rig::testing::PostgresSuite {
 protected:
  LabCli() : PostgresSuite("cli") {}
  rig::testing::CommandRun rig(const std::string& arguments) {
    return run_command(std::string(RIG_BINARY) + " " + arguments + " 2>&1");
  }

  store::testing::TempDir dir_;
};

TEST_F(LabCli, InitCreatesThenSaysThereIsNothingToDo) {
  const auto created = rig("lab init --url '" + url() + "'");
  EXPECT_EQ(created.exit_code, 0) << created.output;
  EXPECT_NE(created.output.find("created at schema version " + std::to_string(store::kSchemaVersion)), std::string::npos)
      << created.output;
  const auto again = rig("lab init --url '" + url() + "'");
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("nothing to do"), std::string::npos) << again.output;
}

TEST_F(LabCli, BadUrlsAndUnreachableServersAreClearErrors) {
  const auto password = rig("lab init --url 'postgresql://postgres:secret@127.0.0.1/x'");
  EXPECT_EQ(password.exit_code, 2) << password.output;
  EXPECT_NE(password.output.find("~/.pgpass"), std::string::npos) << password.output;
  EXPECT_EQ(password.output.find("secret"), std::string::npos) << "the password must not be echoed: " << password.output;
  const auto nobody = rig("lab init --url 'postgresql:///x?host=" + dir_.path().string() + "&port=1&connect_timeout=2'");
  EXPECT_EQ(nobody.exit_code, 1) << nobody.output;
  EXPECT_NE(nobody.output.find("cannot connect"), std::string::npos) << nobody.output;
  const auto no_lab = rig("sync --db " + dir_.file("rig.sqlite"));
  EXPECT_EQ(no_lab.exit_code, 2) << no_lab.output;
  EXPECT_NE(no_lab.output.find("--lab"), std::string::npos) << no_lab.output;
  const auto no_db = rig("sync --db " + dir_.file("none.sqlite") + " --lab '" + url() + "' --config " + kRigConfig);
  EXPECT_EQ(no_db.exit_code, 2) << no_db.output;
  EXPECT_NE(no_db.output.find("none.sqlite: no such database file"), std::string::npos) << no_db.output;
}

TEST_F(LabCli, SyncKilledMidPushThenRunAgainLeavesTheLabEqualToTheStore) {
  ASSERT_EQ(rig("lab init --url '" + url() + "'").exit_code, 0);
  const auto db = dir_.file("rig.sqlite");
  {
    auto store = store::Store::open(db);
    testing::fill_rig(store, "M1", 21, 3, 60);
  }
  std::mt19937 random(18);  // the kill points; whatever they are, nothing may be lost or duplicated
  std::uniform_int_distribution<int> delay_ms(0, 400);
  for (int kill = 0; kill < 3; ++kill) {
    rig::testing::ChildProcess sync({RIG_BINARY, "sync", "--db", db, "--lab", url(), "--config", kRigConfig, "--batch",
                                     "40", "--quiet"},
                                    dir_.file("sync.log"));
    ASSERT_TRUE(sync.started());
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
    sync.signal(SIGKILL);
    sync.wait();
  }
  const auto last = rig("sync --db " + db + " --lab '" + url() + "' --config " + kRigConfig);
  ASSERT_EQ(last.exit_code, 0) << last.output;
  EXPECT_NE(last.output.find("as rig sim-1"), std::string::npos) << last.output;
  auto store = store::Store::open(db);
  EXPECT_EQ(store.outbox_backlog().entries, 0);
  PgConnection lab(url());
  testing::expect_lab_equals(lab, {{&store, "sim-1"}});
}

// `rig run` with a `lab:` section in its rig config (issue 18, "a mouse across rigs"): the subject's sessions on
// another rig are pooled into the fit; with the lab away the session runs on this rig's records and says so.
TEST_F(LabCli, RunPoolsTheSubjectsSessionsOnOtherRigsAndGoesOnWithoutTheLabWhenItIsAway) {
  ASSERT_EQ(rig("lab init --url '" + url() + "'").exit_code, 0);
  {
    auto other = store::Store::open(dir_.file("other.sqlite"));
    testing::fill_rig(other, "SAVVY", 81, 1, 12);
    PgConnection lab(url());
    push_outbox(other, lab, "rig-other");
  }
  const std::string e2e = RIG_SOURCE_DIR "/tests/host/app/e2e/";
  const auto config_with_lab = [&](const std::string& name, const std::string& lab_url) {
    std::ifstream in(e2e + "rig.yaml");
    std::stringstream text;
    text << in.rdbuf() << "\nlab:\n  url: \"" << lab_url << "\"\n  timeout_s: 5\n";
    std::ofstream(dir_.file(name)) << text.str();
    return dir_.file(name);
  };
  const auto run = [&](const std::string& config) {
    return rig("run --subject SAVVY --config " + config + " --subjects " + e2e + "subjects.yaml --db " +
               dir_.file("rig.sqlite") + " --device sim --speed 50 --max-trials 10 --seed 3 --crt 0 </dev/null");
  };
  const auto with_lab = run(config_with_lab("with-lab.yaml", url()));
  ASSERT_EQ(with_lab.exit_code, 0) << with_lab.output;
  EXPECT_NE(with_lab.output.find("the lab has 1 sessions (12 trials)"), std::string::npos) << with_lab.output;
  EXPECT_NE(with_lab.output.find("fit pooled over 22 trials"), std::string::npos) << with_lab.output;

  const auto away = run(config_with_lab("away.yaml", "postgresql:///lab?host=" + dir_.path().string() + "&port=1"));
  ASSERT_EQ(away.exit_code, 0) << away.output;
  EXPECT_NE(away.output.find("the lab database could not be read"), std::string::npos) << away.output;
  EXPECT_NE(away.output.find("fit pooled over 20 trials"), std::string::npos) << "this rig's two sessions only: " << away.output;
}

// `rig lab add-rig` and `rig lab add-reader` as an administrator runs them (issue 18, least privilege), and a
// rig pushing with its own role.
TEST_F(LabCli, AddRigMakesTheRoleARigSyncsWithAndRefusesAPasswordFileOthersCanRead) {
  ASSERT_EQ(rig("lab init --url '" + url() + "'").exit_code, 0);
  const auto password_file = dir_.file("password");
  std::ofstream(password_file) << "correct horse\n";
  std::filesystem::permissions(password_file, std::filesystem::perms::owner_read | std::filesystem::perms::group_read);
  const auto readable = rig("lab add-rig sim-1 --url '" + url() + "' --password-file " + password_file);
  EXPECT_EQ(readable.exit_code, 2) << readable.output;
  EXPECT_NE(readable.output.find("readable by others"), std::string::npos) << readable.output;
  std::filesystem::permissions(password_file, std::filesystem::perms::owner_read);
  const auto added = rig("lab add-rig sim-1 --url '" + url() + "' --password-file " + password_file);
  ASSERT_EQ(added.exit_code, 0) << added.output;
  EXPECT_NE(added.output.find("role sim-1 created in lab_rig"), std::string::npos) << added.output;
  EXPECT_NE(added.output.find("with the password given"), std::string::npos) << added.output;
  const auto reader = rig("lab add-reader lab-page --url '" + url() + "'");
  ASSERT_EQ(reader.exit_code, 0) << reader.output;
  EXPECT_NE(reader.output.find("no password yet"), std::string::npos) << reader.output;
  const auto no_name = rig("lab add-rig --url '" + url() + "'");
  EXPECT_EQ(no_name.exit_code, 2) << no_name.output;

  const auto db = dir_.file("rig.sqlite");
  {
    auto store = store::Store::open(db);
    testing::fill_rig(store, "M1", 31, 1, 10);
  }
  const auto as_reader = rig("sync --db " + db + " --lab '" + server_->url(database_, "lab-page") + "' --config " + kRigConfig);
  EXPECT_EQ(as_reader.exit_code, 2) << as_reader.output;
  EXPECT_NE(as_reader.output.find("connects as role \"lab-page\""), std::string::npos) << as_reader.output;
  const auto as_rig = rig("sync --db " + db + " --lab '" + server_->url(database_, "sim-1") + "' --config " + kRigConfig);
  ASSERT_EQ(as_rig.exit_code, 0) << as_rig.output;
  auto store = store::Store::open(db);
  PgConnection lab(url());
  testing::expect_lab_equals(lab, {{&store, "sim-1"}});
}

}  // namespace
}  // namespace rig::lab
