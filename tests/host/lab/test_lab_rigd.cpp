// rigd pushing to the lab database in the background (issue 18): a session's records reach the lab and the
// status shows the backlog; a lab away when rigd starts is reported as unreachable, the rig keeps running, and
// everything arrives once the lab is back; a subject's record on another rig is read before a session starts.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "../app/rigd_fixture.hpp"
#include "lab_test_support.hpp"
#include "support/postgres_server.hpp"

namespace rig::lab {
namespace {

class LabRigd : public rig_test::Rigd {
 protected:
  static void SetUpTestSuite() { server_ = std::make_unique<rig::testing::PostgresServer>("lab-rigd"); }
  static void TearDownTestSuite() { server_.reset(); }

  std::string config_path() override { return (dir_ / "rig.yaml").string(); }
  // A database of its own with the lab schema, and the e2e rig config with a `lab:` section pointing to it.
  void prepare() override {
    database_ = server_->fresh_database("rigd");
    PgConnection lab(server_->url(database_));
    migrate_lab(lab);
    std::ifstream in(rig::testing::e2e("rig.yaml"));
    std::stringstream text;
    text << in.rdbuf() << "\nlab:\n  url: \"" << server_->url(database_) << "\"\n  push_interval_s: 0.2\n";
    std::ofstream(config_path()) << text.str();
    if (lab_away_at_start()) server_->stop("fast");
  }
  virtual bool lab_away_at_start() const { return false; }
  void TearDown() override {
    rig_test::Rigd::TearDown();
    if (lab_away_at_start()) {
      try {
        server_->start();  // for the next test, also after a failed assertion
      } catch (const std::exception&) {
      }
    }
  }

  static bool caught_up(const nlohmann::json& s) {
    return idle_after_a_session(s) && s.contains("lab") && s["lab"]["state"] == "ok" && s["lab"]["backlog_entries"] == 0;
  }

  void expect_lab_equals_store() {
    PgConnection lab(server_->url(database_));
    auto store = store::Store::open(db_, store::OpenOptions::reading());
    testing::expect_lab_equals(lab, {{&store, "sim-1"}});
  }

  static std::unique_ptr<rig::testing::PostgresServer> server_;
  std::string database_;
};
std::unique_ptr<rig::testing::PostgresServer> LabRigd::server_;

TEST_F(LabRigd, ASessionReachesTheLabAndTheStatusShowsTheBacklog) {
  const rig_test::Command started = rig_control("start --subject SAVVY --max-trials 30");
  ASSERT_EQ(started.exit_code, 0) << started.output;
  const auto s = wait_status(caught_up);
  ASSERT_TRUE(caught_up(s)) << s.dump().substr(0, 600);
  EXPECT_GT(s["lab"]["rows_pushed"].get<int>(), 60) << "30 trials, their wheel traces, licks and sync edges";
  EXPECT_TRUE(s["lab"]["oldest_waiting_s"].is_null());
  EXPECT_NE(s["lab"]["server"].get<std::string>().find(database_), std::string::npos);
  EXPECT_EQ(s["lab"]["last_error"], "");
  expect_lab_equals_store();
}

class LabAwayAtStart : public LabRigd {
 protected:
  bool lab_away_at_start() const override { return true; }
};

TEST_F(LabAwayAtStart, TheRigRunsMeanwhileAndEverythingArrivesWhenTheLabIsBack) {
  const auto away = wait_status([](const nlohmann::json& s) { return s.contains("lab") && s["lab"]["state"] == "unreachable"; });
  EXPECT_NE(away["lab"]["last_error"].get<std::string>().find("cannot connect"), std::string::npos) << away["lab"].dump();
  const rig_test::Command started = rig_control("start --subject SAVVY --max-trials 15");
  ASSERT_EQ(started.exit_code, 0) << started.output;
  const auto done = wait_status([](const nlohmann::json& s) {
    return idle_after_a_session(s) && s["lab"]["backlog_entries"].get<int>() > 0 && !s["lab"]["oldest_waiting_s"].is_null();
  });
  EXPECT_EQ(done["last_report"]["trials"], 15);
  EXPECT_EQ(done["lab"]["state"], "unreachable");
  server_->start();
  const auto s = wait_status(caught_up);
  ASSERT_TRUE(caught_up(s)) << s.dump().substr(0, 600);
  expect_lab_equals_store();
}

// A mouse across rigs (issue 18): rigd reads the subject's record on the other rigs before it starts a session,
// refuses one the subject is running elsewhere, and pools the other rig's trials and water with its own.
TEST_F(LabRigd, ASubjectRunningOnAnotherRigIsRefusedAndItsRecordThereCountsHere) {
  auto other = store::Store::open((dir_ / "other-rig.sqlite").string());
  testing::fill_rig(other, "SAVVY", 71, 2, 25);
  store::synthetic::Session running(73, "SAVVY");
  const auto running_id = other.begin_session(store::testing::session_start("SAVVY", 73, running.state()));
  const auto trial = running.next();
  other.commit_trial(running_id, trial.record(), trial.wheel, trial.state_after);
  PgConnection lab(server_->url(database_));
  push_outbox(other, lab, "rig-other");

  const rig_test::Command refused = rig_control("start --subject SAVVY --max-trials 30");
  EXPECT_NE(refused.exit_code, 0) << refused.output;
  EXPECT_NE(refused.output.find("SAVVY is running on rig rig-other"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("409"), std::string::npos) << refused.output;
  EXPECT_TRUE(stored_sessions("SAVVY").empty()) << "nothing recorded for a refused start";

  other.end_session(running_id, "operator stop", "{}");
  push_outbox(other, lab, "rig-other");
  const rig_test::Command started = rig_control("start --subject SAVVY --max-trials 30");
  ASSERT_EQ(started.exit_code, 0) << started.output;
  const auto s = wait_status(caught_up);
  ASSERT_TRUE(caught_up(s)) << s.dump().substr(0, 600);
  EXPECT_EQ(s["last_report"]["trials"], 30);
  EXPECT_EQ(s["last_report"]["fit_trials"], 2 * 25 + 1 + 30) << "the other rig's 51 trials pooled with this session's";
  double other_ul = 0.0;
  for (const auto& w : other.welfare_rows<model::WaterGiven>("SAVVY")) {
    if (w.kind == model::WaterKind::kSession) other_ul += w.volume_ul;  // all committed today, by the store's clock
  }
  const double session_ul = s["last_report"]["water"]["session_ul"].get<double>();
  EXPECT_NEAR(s["last_report"]["water"]["today_ul"].get<double>(), other_ul + session_ul, 1e-6)
      << s["last_report"]["water"].dump();
  std::ifstream log((dir_ / "rigd.log").string());
  const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("the lab has 3 sessions (51 trials)"), std::string::npos) << text.substr(0, 4000);
}

}  // namespace
}  // namespace rig::lab
