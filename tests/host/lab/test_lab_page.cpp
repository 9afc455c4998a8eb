// The lab page's queries (issue 18) against a private PostgreSQL server: what the overview and a subject page say
// is checked against the rigs' own stores (the regression fitted on their trials, their rows) and against the
// clock the page is given.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "host/analysis/history_regression.hpp"
#include "host/lab/lab_page.hpp"
#include "host/model/alert.hpp"
#include "lab_test_support.hpp"
#include "support/postgres_server.hpp"

namespace rig::lab {
namespace {

using store::Store;
using testing::fill_rig;

constexpr std::int64_t kT0 = 1'736'155'800'000'000;  // 2025-01-06T09:30:00Z: the synthetic sessions' start
constexpr std::int64_t kMinuteUs = 60'000'000;

std::chrono::sys_days utc_day(std::int64_t unix_us) {
  return std::chrono::floor<std::chrono::days>(std::chrono::sys_time<std::chrono::microseconds>(std::chrono::microseconds(unix_us)));
}

LabClock clock_at(std::int64_t now_unix_us) { return {now_unix_us, utc_day(now_unix_us), utc_day}; }

// A session of the lab as the test expects it ordered: start, rig, id.
struct RigSession {
  std::int64_t started_at_unix_us;
  std::string rig_id;
  std::int64_t session_id;
  const Store* store;
  auto key() const { return std::tie(started_at_unix_us, rig_id, session_id); }
};

// The regression's input for `sessions` as the rigs stored them: the reference the page must match.
std::vector<analysis::TrialRecord> reference_trials(const std::vector<RigSession>& sessions, const std::string& subject_id) {
  std::vector<analysis::TrialRecord> records;
  for (const auto& s : sessions) {
    for (const auto& t : s.store->subject_trials(subject_id)) {
      if (t.session_id != s.session_id) continue;
      analysis::TrialRecord r;
      r.session_id = s.rig_id + "/" + std::to_string(s.session_id);
      r.choice = !t.choice ? analysis::Choice::kMiss : *t.choice == wire::Side::kLeft ? analysis::Choice::kLeft : analysis::Choice::kRight;
      r.free_choice = t.free_choice;
      r.controllable_delivered = t.controllable_delivered;
      r.distractor_delivered = t.distractor_delivered;
      records.push_back(r);
    }
  }
  return records;
}

void expect_estimate(const nlohmann::json& actual, const std::optional<analysis::Estimate>& expected, const std::string& what) {
  ASSERT_TRUE(expected.has_value()) << what << ": the reference fit has no estimate";
  ASSERT_TRUE(actual.is_object()) << what << ": " << actual.dump();
  EXPECT_NEAR(actual["value"].get<double>(), expected->value, 1e-9) << what;
  EXPECT_NEAR(actual["se"].get<double>(), expected->se, 1e-9) << what;
}

class LabPageTest : public testing::LabSuite {
 protected:
  // A rig's store whose clock ticks a second at each reading, from kT0.
  Store open_rig(const std::string& name) {
    return Store::open(dir_.file(name + ".sqlite"), store::OpenOptions::with_clock([this] { return now_us_ += 1'000'000; }));
  }
  // Every session of `subject_id` in the rigs, in the lab's order.
  static std::vector<RigSession> sessions_of(const std::vector<std::pair<const Store*, std::string>>& rigs,
                                             const std::string& subject_id) {
    std::vector<RigSession> out;
    for (const auto& [store, rig_id] : rigs) {
      for (const auto& info : store->sessions(subject_id)) out.push_back({info.started_at_unix_us, rig_id, info.session_id, store});
    }
    std::sort(out.begin(), out.end(), [](const RigSession& a, const RigSession& b) { return a.key() < b.key(); });
    return out;
  }

  std::int64_t now_us_ = kT0;
};

TEST_F(LabPageTest, TheOverviewShowsEveryRigAndSubjectWithIndicesFittedOnTheRigsTrials) {
  Store a = open_rig("rig-a");
  Store b = open_rig("rig-b");
  fill_rig(a, "M1", 11, 4, 160);
  fill_rig(b, "M1", 21, 3, 160);
  fill_rig(b, "M2", 31, 2, 160);
  model::Alert alert{model::AlertKind::kTest, "valve test failed", "rig-a", "M1", std::nullopt, now_us_};
  a.log_event(std::nullopt, "alert", alert.raised_at_unix_us, model::alert_json(alert).dump());
  push_outbox(a, *lab_, "rig-a");
  push_outbox(b, *lab_, "rig-b");

  LabPageOptions options;
  options.index_sessions = 5;
  LabPage page(options);
  const auto now = now_us_ + kMinuteUs;
  const auto overview = page.overview(*lab_, clock_at(now));

  ASSERT_EQ(overview["rigs"].size(), 2u);
  for (const auto& rig : overview["rigs"]) {
    EXPECT_EQ(rig["state"], "idle") << rig.dump();
    EXPECT_EQ(rig["backlog_entries"], 0) << "the push's last batch found nothing more waiting";
    EXPECT_TRUE(rig["subject"].is_null());
  }
  EXPECT_EQ(overview["rigs"][0]["rig"], "rig-a");
  EXPECT_EQ(overview["rigs"][0]["last_alert"]["text"], "valve test failed");
  EXPECT_TRUE(overview["rigs"][1]["last_alert"].is_null());

  ASSERT_EQ(overview["subjects"].size(), 2u);
  const auto& m1 = overview["subjects"][0];
  EXPECT_EQ(m1["subject"], "M1");
  const std::vector<std::pair<const Store*, std::string>> rigs{{&a, "rig-a"}, {&b, "rig-b"}};
  auto sessions = sessions_of(rigs, "M1");
  ASSERT_EQ(sessions.size(), 7u);
  // The last five of seven sessions, pooled, as `rig fit` would fit them.
  const std::vector<RigSession> last5(sessions.end() - 5, sessions.end());
  const auto reference = analysis::fit_history(reference_trials(last5, "M1"), analysis::FitOptions{});
  EXPECT_EQ(m1["indices"]["sessions"], 5);
  EXPECT_EQ(m1["indices"]["trials"], reference.n_trials);
  EXPECT_EQ(m1["indices"]["estimable"], true);
  EXPECT_TRUE(m1["indices"]["reason"].is_null());
  expect_estimate(m1["indices"]["controllable"], reference.controllable_index, "M1 controllable");
  expect_estimate(m1["indices"]["distractor"], reference.distractor_index, "M1 distractor");
  EXPECT_EQ(m1["last_session"]["rig"], sessions.back().rig_id);
  EXPECT_EQ(m1["last_session"]["session_id"], sessions.back().session_id);
  EXPECT_EQ(m1["last_session"]["trials"], 160);
  EXPECT_TRUE(m1["running_on"].is_null());
  // Welfare from every rig's rows: the last weighing (rig-b's, seed 21) is the day's weight.
  EXPECT_EQ(m1["welfare_rules"], "defaults");
  EXPECT_EQ(overview["subjects"][1]["subject"], "M2");
  EXPECT_EQ(overview["subjects"][1]["indices"]["sessions"], 2);
}

TEST_F(LabPageTest, ASubjectWithTooFewChoicesShowsTheReasonInsteadOfIndices) {
  Store a = open_rig("rig-a");
  fill_rig(a, "M3", 61, 1, 100);
  push_outbox(a, *lab_, "rig-a");
  LabPage page(LabPageOptions{});
  const auto overview = page.overview(*lab_, clock_at(now_us_ + kMinuteUs));
  ASSERT_EQ(overview["subjects"].size(), 1u);
  const auto& indices = overview["subjects"][0]["indices"];
  const std::vector<std::pair<const Store*, std::string>> rigs{{&a, "rig-a"}};
  const auto reference = analysis::fit_history(reference_trials(sessions_of(rigs, "M3"), "M3"), analysis::FitOptions{});
  EXPECT_EQ(indices["trials"], reference.n_trials);
  EXPECT_EQ(indices["estimable"], false);
  EXPECT_EQ(indices["reason"], analysis::estimability(reference).reason);
  EXPECT_TRUE(indices["controllable"].is_null()) << indices.dump();
  EXPECT_TRUE(indices["distractor"].is_null()) << indices.dump();
  const auto json = page.subject(*lab_, "M3", 5, clock_at(now_us_ + kMinuteUs));
  EXPECT_EQ(json["pooled"]["fit"]["estimable"], false);
  EXPECT_TRUE(json["pooled"]["fit"]["controllable_index"].is_null());
}

TEST_F(LabPageTest, ASubjectPageFitsEachSessionAndPoolsTheLastOnesAsAsked) {
  Store a = open_rig("rig-a");
  fill_rig(a, "M1", 41, 3, 200);
  push_outbox(a, *lab_, "rig-a");
  LabPage page(LabPageOptions{});
  const auto json = page.subject(*lab_, "M1", 2, clock_at(now_us_));
  const std::vector<std::pair<const Store*, std::string>> rigs{{&a, "rig-a"}};
  const auto sessions = sessions_of(rigs, "M1");
  ASSERT_EQ(json["sessions"].size(), 3u);
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    const auto one = analysis::fit_history(reference_trials({sessions[i]}, "M1"), analysis::FitOptions{});
    const auto& point = json["sessions"][i];
    EXPECT_EQ(point["session_id"], sessions[i].session_id);
    EXPECT_EQ(point["day"], "2025-01-06");
    EXPECT_EQ(point["fitted_trials"], one.n_trials);
    // A 200-trial session has fewer than 210 choices to fit: its indices are not printed, its reason is, in
    // the words of every other place that prints a fit.
    const auto state = analysis::estimability(one);
    ASSERT_FALSE(state.estimable) << "session " << i << " has " << one.n_trials << " choices";
    EXPECT_EQ(point["estimable"], false);
    EXPECT_EQ(point["reason"], state.reason);
    EXPECT_NE(state.reason.find("not estimable yet: " + std::to_string(one.n_trials) + " choices"), std::string::npos)
        << state.reason;
    EXPECT_TRUE(point["controllable"].is_null()) << point.dump();
    EXPECT_TRUE(point["distractor"].is_null()) << point.dump();
  }
  const auto pooled = analysis::fit_history(reference_trials({sessions[1], sessions[2]}, "M1"), analysis::FitOptions{});
  EXPECT_EQ(json["pooled"]["sessions"], 2);
  EXPECT_EQ(json["pooled"]["fit"]["n_trials"], pooled.n_trials);
  EXPECT_NEAR(json["pooled"]["fit"]["controllable_index"].get<double>(), pooled.controllable_index->value, 1e-9);
  EXPECT_NEAR(json["pooled"]["fit"]["weights"]["controllable"][0].get<double>(),
              pooled.weights[1][0]->value, 1e-9);
  EXPECT_EQ(json["welfare"]["days"].size(), static_cast<std::size_t>(task::kWelfareHistoryDays));
  EXPECT_THROW(page.subject(*lab_, "nobody", 5, clock_at(now_us_)), SubjectNotFound);
  EXPECT_THROW(page.subject(*lab_, "M1", 0, clock_at(now_us_)), std::invalid_argument);
  EXPECT_THROW(page.subject(*lab_, "M1", kMaxPooledSessions + 1, clock_at(now_us_)), std::invalid_argument);
}

TEST_F(LabPageTest, ARunningSessionIsReadOnAsItGrowsAndItsRigShowsRunningThenIdleThenOffline) {
  Store a = open_rig("rig-a");
  fill_rig(a, "M1", 51, 2, 120);
  store::synthetic::Session session(77, "M1");
  const auto session_id = a.begin_session(store::testing::session_start("M1", 77, session.state()));
  const auto commit = [&](int n) {
    for (int t = 0; t < n; ++t) {
      const auto trial = session.next();
      a.commit_trial(session_id, trial.record(), trial.wheel, trial.state_after, {});
    }
  };
  commit(60);
  push_outbox(a, *lab_, "rig-a");
  LabPage page(LabPageOptions{});
  auto overview = page.overview(*lab_, clock_at(now_us_ + kMinuteUs));
  ASSERT_EQ(overview["rigs"].size(), 1u);
  EXPECT_EQ(overview["rigs"][0]["state"], "running");
  EXPECT_EQ(overview["rigs"][0]["subject"], "M1");
  EXPECT_EQ(overview["rigs"][0]["session"]["trials"], 60);
  EXPECT_EQ(overview["subjects"][0]["running_on"], "rig-a");

  commit(90);
  push_outbox(a, *lab_, "rig-a");
  overview = page.overview(*lab_, clock_at(now_us_ + kMinuteUs));
  EXPECT_EQ(overview["rigs"][0]["session"]["trials"], 150) << "the open session is read on from its last trial";
  const std::vector<std::pair<const Store*, std::string>> rigs{{&a, "rig-a"}};
  const auto reference = analysis::fit_history(reference_trials(sessions_of(rigs, "M1"), "M1"), analysis::FitOptions{});
  EXPECT_EQ(overview["subjects"][0]["indices"]["trials"], reference.n_trials) << "the pooled fit follows the new trials";
  expect_estimate(overview["subjects"][0]["indices"]["controllable"], reference.controllable_index, "controllable");

  // Ten minutes without a trial: its rig no longer runs it (a rig that died mid-session).
  overview = page.overview(*lab_, clock_at(now_us_ + 11 * kMinuteUs));
  EXPECT_EQ(overview["rigs"][0]["state"], "idle");
  EXPECT_TRUE(overview["subjects"][0]["running_on"].is_null());

  // No push for longer than offline_after (by the server's clock): offline since the last push.
  server_->psql("UPDATE rigs SET last_push_at = now() - interval '2 hours'", database_);
  overview = page.overview(*lab_, clock_at(now_us_ + kMinuteUs));
  EXPECT_EQ(overview["rigs"][0]["state"], "offline");
  EXPECT_EQ(overview["rigs"][0]["offline_since_unix_us"], overview["rigs"][0]["last_push_unix_us"]);
  EXPECT_GT(overview["rigs"][0]["last_push_s_ago"].get<double>(), 7000.0);
}

TEST_F(LabPageTest, ReadingAheadFitsEverySessionThenStops) {
  Store a = open_rig("rig-a");
  Store b = open_rig("rig-b");
  fill_rig(a, "M1", 61, 3, 100);
  fill_rig(b, "M2", 71, 2, 100);
  push_outbox(a, *lab_, "rig-a");
  push_outbox(b, *lab_, "rig-b");
  LabPage page(LabPageOptions{});
  int steps = 0;
  while (page.warm_step(*lab_, clock_at(now_us_))) ASSERT_LT(++steps, 10);
  EXPECT_EQ(steps, 2) << "a step per subject";
  EXPECT_EQ(page.progress().sessions, 5u);
  EXPECT_EQ(page.progress().final, 5u);
  EXPECT_FALSE(page.warm_step(*lab_, clock_at(now_us_)));
}

TEST(LabPageOptions, AreChecked) {
  LabPageOptions options;
  options.index_sessions = 0;
  EXPECT_THROW(LabPage{options}, std::invalid_argument);
  options.index_sessions = kMaxPooledSessions + 1;
  EXPECT_THROW(LabPage{options}, std::invalid_argument);
}

}  // namespace
}  // namespace rig::lab
