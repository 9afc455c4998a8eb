// The animal's record from the command line (issue 17): `rig weigh`, `rig water`, `rig subject`, `rig subjects`
// and the weight check of `rig run`, as an operator would use them, on a fresh database each.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include <fcntl.h>
#include <stdlib.h>

#include <fstream>

#include "host/store/store.hpp"
#include "program_test_support.hpp"
#include "support/child_process.hpp"
#include "support/run_command.hpp"

namespace {

using Command = rig::testing::CommandRun;
using rig::testing::e2e;

class WelfareCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = rig::testing::fresh_test_dir("rig-welfare");
    db_ = (dir_ / "rig.sqlite").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // `rig ARGS` on the end-to-end fixtures and this test's database; stdin empty (nobody at a terminal).
  Command rig(const std::string& args) const {
    return rig::testing::run_command(std::string(RIG_BINARY) + " " + args + " --config " + e2e("rig.yaml") +
                                     " --subjects " + e2e("subjects.yaml") + " --db " + db_ + " </dev/null 2>&1");
  }
  Command run_session(const std::string& more = "") const {
    return rig("run --subject SAVVY --device sim --speed 50 --max-trials 10 --seed 3 --crt 0 --quiet" + more);
  }
  nlohmann::json subject_json(const std::string& id) const {
    const Command c = rig("subject " + id + " --json");
    EXPECT_EQ(c.exit_code, 0) << c.output;
    return nlohmann::json::parse(c.output);
  }

  // The detail of the weight_check event of the subject's only session (null, with a failure, when there is none).
  nlohmann::json weight_check(const std::string& subject) const {
    const auto db = rig::store::Store::open(db_, rig::store::OpenOptions::reading());
    const auto sessions = db.sessions(subject);
    EXPECT_EQ(sessions.size(), 1u);
    for (const auto& session : sessions) {
      for (const auto& e : db.events(session.session_id)) {
        if (e.kind == "weight_check") return nlohmann::json::parse(e.detail_json);
      }
    }
    ADD_FAILURE() << "no weight_check event for " << subject;
    return nullptr;
  }

  std::filesystem::path dir_;
  std::string db_;
};

TEST_F(WelfareCli, BadWeightsAndUnknownSubjectsAreRefusedWithExitTwoAndNothingStored) {
  const std::pair<std::string, std::string> cases[] = {
      {"weigh SAVVY 0", "a weight must be a number of grams"},
      {"weigh SAVVY -2", "a weight must be a number of grams"},
      {"weigh SAVVY 24g", "GRAMS: '24g' is not a number"},
      {"weigh NOBODY 24", "subjects.yaml: no subject 'NOBODY' (known: SAVVY, NAIVE)"},
      {"water SAVVY 0", "the unit is microlitres"},
      {"water SAVVY lots", "UL: 'lots' is not a number"},
      {"water SAVVY 300 --kind session", "--kind: session not in {topup,gel,free}"},
      {"subject NOBODY", "no subject 'NOBODY'"},
  };
  for (const auto& [args, message] : cases) {
    const Command c = rig(args);
    EXPECT_EQ(c.exit_code, 2) << args << "\n" << c.output;
    EXPECT_NE(c.output.find(message), std::string::npos) << args << "\n" << c.output;
  }
  const auto s = subject_json("SAVVY");
  EXPECT_TRUE(s["weight_today_g"].is_null());
  EXPECT_EQ(s["water"]["by_hand_today_ul"], 0.0);
  // A jump of more than half the last weight is a typo until forced.
  ASSERT_EQ(rig("weigh SAVVY 25 --baseline").exit_code, 0);
  Command c = rig("weigh SAVVY 250");
  EXPECT_EQ(c.exit_code, 2) << c.output;
  EXPECT_NE(c.output.find("more than 50% away from the last weighing (25.0 g)"), std::string::npos) << c.output;
  EXPECT_EQ(subject_json("SAVVY")["weight_today_g"], 25.0);
  c = rig("weigh SAVVY 40 --force \"new scale, checked twice\"");
  EXPECT_EQ(c.exit_code, 0) << c.output;
  EXPECT_EQ(subject_json("SAVVY")["weight_today_g"], 40.0);
}

TEST_F(WelfareCli, ASubjectUnderItsThresholdDoesNotTrainWithoutAStoredReason) {
  ASSERT_EQ(rig("weigh SAVVY 25 --baseline").exit_code, 0);
  Command c = rig("weigh SAVVY 19.5");
  ASSERT_EQ(c.exit_code, 0) << c.output;
  EXPECT_NE(c.output.find("under its threshold of 80%"), std::string::npos) << c.output;
  EXPECT_NE(rig("subjects").output.find("under threshold"), std::string::npos);

  c = run_session();
  EXPECT_EQ(c.exit_code, 3) << c.output;
  EXPECT_NE(c.output.find("SAVVY weighs 19.5 g today, 78% of its baseline 25.0 g"), std::string::npos) << c.output;
  EXPECT_NE(c.output.find("--override-weight"), std::string::npos) << c.output;
  {
    const auto db = rig::store::Store::open(db_, rig::store::OpenOptions::reading());
    EXPECT_TRUE(db.sessions("SAVVY").empty()) << "nothing started";
  }

  c = run_session(" --override-weight \"vet approved: recovering from surgery\"");
  ASSERT_EQ(c.exit_code, 0) << c.output;
  const auto detail = weight_check("SAVVY");
  EXPECT_EQ(detail["override_reason"], "vet approved: recovering from surgery");
  EXPECT_EQ(detail["under_threshold"], true);
  EXPECT_EQ(detail["weight_g"], 19.5);
}

TEST_F(WelfareCli, ASimulatedSubjectIsWeighedByItsBodyAndTheSummarySaysTheTopUpOwed) {
  Command c = run_session();
  ASSERT_EQ(c.exit_code, 0) << c.output;
  EXPECT_NE(c.output.find("water: "), std::string::npos) << c.output;
  EXPECT_NE(c.output.find("give a top-up of"), std::string::npos) << c.output;
  auto s = subject_json("SAVVY");
  ASSERT_TRUE(s["weight_today_g"].is_number());
  EXPECT_NEAR(s["weight_today_g"].get<double>(), 25.0, 0.4) << "config: simulated_weight_g defaults to 25";
  const double earned = s["water"]["session_today_ul"].get<double>();
  EXPECT_GT(earned, 0.0);
  const double owed = s["water"]["owed_ul"].get<double>();
  EXPECT_NEAR(owed, s["water"]["minimum_ul"].get<double>() - earned, 1e-9);
  c = rig("water SAVVY 200");
  ASSERT_EQ(c.exit_code, 0) << c.output;
  s = subject_json("SAVVY");
  EXPECT_NEAR(s["water"]["owed_ul"].get<double>(), owed - 200.0, 1e-9);
  EXPECT_EQ(s["days"].size(), 14u);
  // A second session the same day uses today's weight, not a new one.
  ASSERT_EQ(run_session().exit_code, 0);
  const auto db = rig::store::Store::open(db_, rig::store::OpenOptions::reading());
  EXPECT_EQ(db.welfare_rows<rig::model::Weighing>("SAVVY").size(), 1u);
  const auto water = db.welfare_rows<rig::model::WaterGiven>("SAVVY");
  ASSERT_EQ(water.size(), 3u) << "two session rows and the top-up";
  const auto listing = rig("subjects");
  EXPECT_EQ(listing.exit_code, 0);
  EXPECT_NE(listing.output.find("NAIVE"), std::string::npos);
  EXPECT_NE(listing.output.find("unweighed today"), std::string::npos) << listing.output;
}

// At a terminal, `rig run` asks for today's weight of a subject that is not simulated, asks again after an answer
// that is not a weight, and starts the session with the weight given (stdin on a pseudo-terminal).
TEST_F(WelfareCli, AtATerminalRunAsksForTodaysWeightUntilTheAnswerIsOne) {
  std::filesystem::copy_file(e2e("protocol.yaml"), dir_ / "protocol.yaml");
  std::ofstream(dir_ / "subjects.yaml") << "subjects:\n  - id: REAL\n    controllable: cherry\n    stage: protocol.yaml\n"
                                           "    daily_water_target_ml: 1.0\n";
  const int terminal = ::posix_openpt(O_RDWR | O_NOCTTY);
  ASSERT_GE(terminal, 0);
  ASSERT_EQ(::grantpt(terminal), 0);
  ASSERT_EQ(::unlockpt(terminal), 0);
  const std::string answers = "heavy\n24.5\n";
  ASSERT_EQ(::write(terminal, answers.data(), answers.size()), static_cast<ssize_t>(answers.size()));
  const auto log = (dir_ / "run.log").string();
  rig::testing::ChildProcess run({RIG_BINARY, "run", "--subject", "REAL", "--config", e2e("rig.yaml"), "--subjects",
                                  (dir_ / "subjects.yaml").string(), "--db", db_, "--device", "sim", "--speed", "50",
                                  "--max-trials", "5", "--seed", "3", "--crt", "0", "--quiet"},
                                 log, true, ::ptsname(terminal));
  const int code = run.wait();
  ::close(terminal);
  std::ifstream in(log);
  const std::string output((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(code, 0) << output;
  EXPECT_NE(output.find("Weight of REAL today, in grams: "), std::string::npos) << output;
  EXPECT_NE(output.find("not a number. Weight in grams: "), std::string::npos) << output;
  const auto detail = weight_check("REAL");
  EXPECT_EQ(detail["weight_g"], 24.5);
  EXPECT_EQ(detail["source"], "entered at the start");
  const auto db = rig::store::Store::open(db_, rig::store::OpenOptions::reading());
  EXPECT_EQ(db.welfare_rows<rig::model::Weighing>("REAL").size(), 1u);
}

}  // namespace
