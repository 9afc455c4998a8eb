// rigd and the CLI tried as a hostile or clumsy user would (issue 20): protocol paths outside the rig's
// protocol directories, files that are not files, oversized files, unknown request fields, foreign Host and
// Origin headers, files the dashboard does not own, and a session's history that outgrows the status. Each
// case ends in a clear refusal, and rigd stays idle and able to start the next session.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "rigd_fixture.hpp"

using namespace rig_test;
namespace fs = std::filesystem;

namespace {

const std::map<std::string, std::string> kAuth{{"Authorization", "Bearer s3cret-token"}};

// rigd on its own copy of the e2e rig: protocols in dir/protocols (the only protocol directory), beside them
// a FIFO, a huge file and a symlink out of the directory, and a secret outside it.
class RigdSecurity : public Rigd {
 protected:
  std::string config_path() override { return (dir_ / "rig.yaml").string(); }
  std::string subjects_path() override { return (dir_ / "subjects.yaml").string(); }

  void prepare() override {
    fs::create_directories(dir_ / "protocols");
    fs::copy_file(e2e("protocol.yaml"), dir_ / "protocols" / "protocol.yaml");
    std::ifstream rig_in(e2e("rig.yaml"));
    std::ofstream(dir_ / "rig.yaml") << rig_in.rdbuf() << "\nfiles:\n  protocol_dirs: [protocols]\n";
    std::ifstream subjects_in(e2e("subjects.yaml"));
    std::stringstream subjects;
    subjects << subjects_in.rdbuf();
    std::string text = subjects.str();
    for (std::size_t at; (at = text.find("stage: protocol.yaml")) != std::string::npos;) {
      text.replace(at, std::string("stage: protocol.yaml").size(), "stage: protocols/protocol.yaml");
    }
    std::ofstream(dir_ / "subjects.yaml") << text;
    std::ofstream(dir_ / "secret.yaml") << "name: TOP-SECRET-LINE\n";
    ASSERT_EQ(::mkfifo((dir_ / "protocols" / "fifo.yaml").c_str(), 0600), 0);
    fs::create_symlink(dir_ / "secret.yaml", dir_ / "protocols" / "escape.yaml");
    std::ofstream(dir_ / "protocols" / "huge.yaml") << "name: huge\n" << std::string(2 << 20, '#') << "\n";
  }

  // POST /api/sessions with `body`, the token given.
  rig::testing::HttpResult start_request(const nlohmann::json& body) {
    return http_request(port_, http::verb::post, "/api/sessions", body.dump(), kAuth);
  }

  // rigd refused the start and is idle again (not stuck "starting").
  void expect_refused_and_idle(const rig::testing::HttpResult& r, unsigned status, const std::string& says) {
    EXPECT_EQ(r.status, status) << r.body;
    const auto body = nlohmann::json::parse(r.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << r.body;
    EXPECT_NE(body.value("error", "").find(says), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("TOP-SECRET"), std::string::npos) << "a file's content leaked: " << r.body;
    wait_status([](const nlohmann::json& s) { return s["state"] == "idle"; });
  }
};

}  // namespace

TEST_F(RigdSecurity, AProtocolOutsideTheProtocolDirectoriesIsRefusedUnread) {
  for (const std::string& protocol :
       {(dir_ / "secret.yaml").string(), std::string("../secret.yaml"), std::string("/etc/shadow"),
        std::string("/dev/zero"), std::string("escape.yaml"), std::string("protocols/../../secret.yaml")}) {
    SCOPED_TRACE(protocol);
    expect_refused_and_idle(start_request({{"subject", "SAVVY"}, {"protocol", protocol}}), 400,
                            "not a protocol file in the rig's protocol directories");
  }
  EXPECT_FALSE(fs::exists(db_)) << "nothing was started, so no database was opened";
  const std::string log = [&] {
    std::ifstream in(dir_ / "rigd.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }();
  EXPECT_EQ(log.find("TOP-SECRET"), std::string::npos) << log;
}

TEST_F(RigdSecurity, AFifoOrAHugeFileInTheProtocolDirectoryIsRefusedAtOnce) {
  expect_refused_and_idle(start_request({{"subject", "SAVVY"}, {"protocol", "fifo.yaml"}}), 400,
                          "not a regular file (a FIFO)");
  expect_refused_and_idle(start_request({{"subject", "SAVVY"}, {"protocol", "huge.yaml"}}), 400,
                          "larger than 1048576 bytes");
  // Still able to run: the protocol by its name in the directory.
  const auto started = start_request({{"subject", "SAVVY"}, {"protocol", "protocol.yaml"}, {"max_trials", 3}});
  EXPECT_EQ(started.status, 202u) << started.body;
  const auto s = wait_status(idle_after_a_session);
  EXPECT_EQ(s["last_report"]["trials"], 3);
}

TEST_F(RigdSecurity, AnUnknownFieldInAStartRequestIsRefusedWithTheAllowedOnes) {
  expect_refused_and_idle(start_request({{"subject", "SAVVY"}, {"max_trial", 5}}), 400,
                          "unknown field \"max_trial\" in the request; allowed: subject, protocol, max_trials, seed");
}

TEST_F(RigdSecurity, ForeignHostsAndOriginsAreRefused) {
  EXPECT_EQ(http_request(port_, http::verb::get, "/api/status", "", {{"Host", "attacker.example"}}).status, 421u);
  auto headers = kAuth;
  headers["Origin"] = "http://attacker.example";
  EXPECT_EQ(http_request(port_, http::verb::post, "/api/sessions", R"({"subject":"SAVVY"})", headers).status, 403u);
  EXPECT_THROW(rig::testing::WsClient(port_, 0, "http://attacker.example"), boost::system::system_error);
  EXPECT_EQ(http_get(port_, "/package.json").status, 404u);
  EXPECT_EQ(status()["state"], "idle");
}

// The status stays the same size however long the session; the whole history is paged from the store.
TEST_F(RigdSecurity, TheStatusKeepsRecentTrialsAndTheStorePagesTheRest) {
  ASSERT_EQ(start_request({{"subject", "SAVVY"}, {"max_trials", 260}}).status, 202u);
  const auto s = wait_status(idle_after_a_session);
  ASSERT_EQ(s["last_report"]["trials"], 260);
  EXPECT_EQ(s["trial_log"].size(), 200u);
  EXPECT_EQ(s["trial_log"].front()["trial_number"], 61);
  EXPECT_EQ(s["trial_log"].back()["trial_number"], 260);
  const int64_t session_id = s["session_id"].get<int64_t>();
  std::vector<int64_t> numbers;
  nlohmann::json after = 0;
  while (!after.is_null()) {
    const auto page = http_get(port_, "/api/sessions/" + std::to_string(session_id) + "/trials?limit=100&after=" +
                                          std::to_string(after.get<int64_t>()));
    ASSERT_EQ(page.status, 200u) << page.body;
    const auto json = nlohmann::json::parse(page.body);
    for (const auto& t : json["trials"]) numbers.push_back(t["trial_number"].get<int64_t>());
    after = json["next_after"];
    ASSERT_LE(numbers.size(), 260u);
  }
  ASSERT_EQ(numbers.size(), 260u);
  for (std::size_t i = 0; i < numbers.size(); ++i) EXPECT_EQ(numbers[i], static_cast<int64_t>(i) + 1);
  EXPECT_EQ(http_get(port_, "/api/sessions/999/trials").status, 404u);
}

TEST(RigCheckSecurity, FilesThatAreNotFilesAreRefusedAtOnceWithExitTwo) {
  const rig::testing::TempDir scratch("rig-check-security");
  const auto& dir = scratch.path;
  ASSERT_EQ(::mkfifo((dir / "fifo.yaml").c_str(), 0600), 0);
  for (const std::string& path : {std::string("/dev/zero"), (dir / "fifo.yaml").string()}) {
    const Command c = run(std::string(RIG_BINARY) + " check " + path);
    EXPECT_EQ(c.exit_code, 2) << c.output;
    EXPECT_NE(c.output.find(path + ":1:1: cannot read file (not a regular file"), std::string::npos) << c.output;
  }
}

// A protocol that states only its name runs with the documented limits; these never run at all.
TEST(RigCheckSecurity, ProtocolsThatCouldRunAMouseWithoutEndAreRefused) {
  const rig::testing::TempDir scratch("rig-check-limits");
  const auto& dir = scratch.path;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"name: \"unterminated\n", "2:1: YAML syntax error: found unexpected end of stream"},
      {"name: x\nlimits:\n  max_trials: ~\n", "3:3: limits.max_trials: expected a whole number of trials"},
      {"name: x\nschedule:\n  reversal:\n    criterion_high_fraction: 1.0\n",
       "4:30: schedule.reversal.criterion_high_fraction: expected a fraction in [0, 1)"},
      {"name: x\nschedule:\n  reversal:\n    hazard_per_trial: 0\n",
       "4:23: schedule.reversal.hazard_per_trial: expected a probability in (0, 1]"},
      {"name: x\nschedule:\n  free_choice_fraction: 0\n", "3:25: schedule.free_choice_fraction: expected a fraction"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto path = (dir / ("p" + std::to_string(i) + ".yaml")).string();
    std::ofstream(path) << cases[i].first;
    const Command c = run(std::string(RIG_BINARY) + " check " + path);
    EXPECT_EQ(c.exit_code, 2) << c.output;
    EXPECT_NE(c.output.find(path + ":" + cases[i].second), std::string::npos) << c.output;
  }
  std::ofstream(dir / "bare.yaml") << "name: x\n";
  const Command bare = run(std::string(RIG_BINARY) + " check --effective " + (dir / "bare.yaml").string());
  EXPECT_EQ(bare.exit_code, 0) << bare.output;
  EXPECT_NE(bare.output.find("max_trials: 1000"), std::string::npos) << bare.output;
  EXPECT_NE(bare.output.find("max_minutes: 90"), std::string::npos) << bare.output;
  EXPECT_NE(bare.output.find("max_volume_per_spout_ul: 1000"), std::string::npos) << bare.output;
}

TEST(RigRunSecurity, ResumingWithNothingToResumeCreatesNothing) {
  const rig::testing::TempDir scratch("rig-resume-nothing");
  const auto& dir = scratch.path;
  const auto db = dir / "none.sqlite";
  const Command c = run(std::string(RIG_BINARY) + " run --subject SAVVY --config " + e2e("rig.yaml") +
                        " --subjects " + e2e("subjects.yaml") + " --db " + db.string() + " --resume --quiet");
  EXPECT_EQ(c.exit_code, 2) << c.output;
  EXPECT_NE(c.output.find("no session of SAVVY to resume"), std::string::npos) << c.output;
  EXPECT_FALSE(fs::exists(db));
}

TEST(RigFitSecurity, NoUsableRowsIsExitTwoWithTheReason) {
  const rig::testing::TempDir scratch("rig-fit-empty");
  const auto& dir = scratch.path;
  std::ofstream(dir / "header.csv") << "choice,controllable,distractor\n";
  const Command c = run(std::string(RIG_BINARY) + " fit --csv " + (dir / "header.csv").string());
  EXPECT_EQ(c.exit_code, 2) << c.output;
  EXPECT_NE(c.output.find("no trials: the file has a header and no rows"), std::string::npos) << c.output;
}
