// A subject's record on other rigs (issue 18, "a mouse across rigs"), as the lab hands it to a session: merged
// into the fitter's history and the welfare day so that both are the same whichever rig the mouse is on.
#include <gtest/gtest.h>

#include "host/session/run_support.hpp"
#include "host/session/welfare_support.hpp"
#include "host/store/subject_elsewhere.hpp"
#include "host/store/store_test_support.hpp"

namespace rig::app {
namespace {

constexpr std::int64_t kHourUs = 3'600'000'000;

task::Subject subject() {
  task::Subject s;
  s.id = "M1";
  s.welfare.baseline_weight_g = 25.0;
  s.welfare.daily_water_min_ml = 0.8;
  return s;
}

model::Weighing weighing(std::int64_t at_unix_us, double grams) {
  model::Weighing w;
  w.subject_id = "M1";
  w.weighed_at_unix_us = at_unix_us;
  w.weight_g = grams;
  w.who = "someone at rig-a";
  return w;
}

TEST(ReadWelfare, AnotherRigsWeighingWaterAndRewardsTodayCountAsThisRigs) {
  store::testing::TempDir dir;
  auto db = store::Store::open(dir.file("rig-b.sqlite"));
  const std::int64_t now_us = db.now_unix_us();
  const auto today = local_day_of(now_us);
  db.add_welfare(weighing(now_us - 48 * kHourUs, 24.8));  // this rig, two days ago

  store::SubjectElsewhere elsewhere;
  elsewhere.weighings = {weighing(now_us - 72 * kHourUs, 25.1), weighing(now_us, 19.0)};  // today: under 80 %
  model::WaterGiven topup;
  topup.subject_id = "M1";
  topup.given_at_unix_us = now_us;
  topup.volume_ul = 150.0;
  topup.kind = model::WaterKind::kTopup;
  elsewhere.water = {topup};
  elsewhere.rewards = {{now_us, 3.0}, {now_us, 4.5}, {now_us - 40 * 24 * kHourUs, 999.0}};

  const auto alone = read_welfare(db, subject(), today);
  EXPECT_FALSE(alone.weighed_today());
  EXPECT_EQ(alone.total_today_ul(), 0.0);

  const auto merged = read_welfare(db, subject(), today, &elsewhere);
  ASSERT_TRUE(merged.weighed_today());
  EXPECT_EQ(*merged.weight_today_g, 19.0);
  EXPECT_TRUE(merged.under_threshold) << "19 g is 76 % of 25 g, under 80 %";
  EXPECT_DOUBLE_EQ(merged.session_today_ul, 7.5);
  EXPECT_DOUBLE_EQ(merged.by_hand_today_ul, 150.0);
  EXPECT_DOUBLE_EQ(merged.owed_ul, 800.0 - 157.5);
  double in_window_ul = 0.0;
  for (const auto& day : merged.days) in_window_ul += day.session_ul;
  EXPECT_DOUBLE_EQ(in_window_ul, 7.5) << "a reward older than the welfare window is not in any day";
}

TEST(CheckWeightBeforeSession, AWeighingAtAnotherRigTodayIsTodaysWeightAndNothingIsRecordedHere) {
  store::testing::TempDir dir;
  auto db = store::Store::open(dir.file("rig-b.sqlite"));
  store::SubjectElsewhere elsewhere;
  elsewhere.weighings = {weighing(db.now_unix_us(), 24.0)};
  WeightSource nobody;  // no weight given, nobody to ask, not simulated
  const auto check = check_weight_before_session(db, subject(), nobody, &elsewhere);
  EXPECT_EQ(check.detail["source"], "weighed earlier today");
  EXPECT_EQ(check.detail["weight_g"], 24.0);
  EXPECT_TRUE(db.welfare_rows<model::Weighing>("M1").empty());
  EXPECT_THROW(check_weight_before_session(db, subject(), nobody), InputError) << "without the lab: not weighed today";
}

TEST(CheckWeightBeforeSession, UnderTheThresholdAtAnotherRigIsRefusedHereToo) {
  store::testing::TempDir dir;
  auto db = store::Store::open(dir.file("rig-b.sqlite"));
  store::SubjectElsewhere elsewhere;
  elsewhere.weighings = {weighing(db.now_unix_us(), 18.0)};
  EXPECT_THROW(check_weight_before_session(db, subject(), WeightSource{}, &elsewhere), WelfareRefusal);
}

TEST(SubjectHistory, OtherRigsSessionsComeFirstEachTaggedWithItsRig) {
  store::testing::TempDir dir;
  auto db = store::Store::open(dir.file("rig-b.sqlite"));
  store::SubjectElsewhere elsewhere;
  for (std::int64_t id : {1, 2}) {
    store::SessionElsewhere session;
    session.rig_id = "rig-a";
    session.session_id = id;
    session.ended = true;
    for (std::uint32_t n = 1; n <= 3; ++n) {
      store::SubjectTrial t;
      t.session_id = id;
      t.trial_number = n;
      t.choice = n == 2 ? std::nullopt : std::optional<wire::Side>(wire::Side::kRight);
      t.controllable_delivered = n == 3;
      t.p_controllable_by_side = {0.2, 0.8};
      t.p_distractor = 0.5;
      session.trials.push_back(t);
    }
    elsewhere.sessions.push_back(session);
  }
  const auto history = subject_history(db, "M1", &elsewhere);
  ASSERT_EQ(history.size(), 6u);
  EXPECT_EQ(history[0].session_id, "rig-a/1");
  EXPECT_EQ(history[5].session_id, "rig-a/2");
  EXPECT_EQ(history[0].choice, analysis::Choice::kRight);
  EXPECT_EQ(history[1].choice, analysis::Choice::kMiss);
  EXPECT_TRUE(history[2].controllable_delivered);
  EXPECT_DOUBLE_EQ(history[2].p_controllable_right, 0.8);
  EXPECT_TRUE(subject_history(db, "M1").empty());
}

}  // namespace
}  // namespace rig::app
