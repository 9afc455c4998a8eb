// The welfare day (host/task/welfare.hpp): baselines, the weight threshold, the day's water against its target
// and minimum, and the checks a weighing passes. Days are UTC days here (the caller supplies the mapping).
#include <gtest/gtest.h>

#include <cmath>

#include "host/task/welfare.hpp"

namespace rig::task {
namespace {

using std::chrono::days;
using std::chrono::sys_days;

constexpr std::int64_t kDayUs = 86'400'000'000;
const sys_days kToday = sys_days(std::chrono::year_month_day(std::chrono::year(2026), std::chrono::month(11), std::chrono::day(30)));

std::int64_t at(sys_days day, double hours) {
  return static_cast<std::int64_t>(day.time_since_epoch().count()) * kDayUs + static_cast<std::int64_t>(hours * 3600e6);
}
sys_days utc_day(std::int64_t unix_us) { return sys_days(days(unix_us >= 0 ? unix_us / kDayUs : (unix_us - kDayUs + 1) / kDayUs)); }

Subject mouse() {
  Subject s;
  s.id = "M1";
  s.daily_water_target_ml = 1.0;
  return s;
}

model::Weighing weighing(sys_days day, double g, bool baseline = false) {
  return model::Weighing{"M1", at(day, 9.0), g, baseline, "tester", ""};
}

model::WaterGiven water(sys_days day, double hours, double ul, model::WaterKind kind = model::WaterKind::kTopup) {
  return model::WaterGiven{"M1", at(day, hours), ul, kind, std::nullopt, "tester"};
}

TEST(Welfare, TheBaselineIsStatedElseTheMarkedWeighingElseTheMeanOfTheFirstWeighings) {
  Subject s = mouse();
  EXPECT_FALSE(baseline_weight(s, {}, utc_day));
  std::vector<model::Weighing> w = {weighing(kToday - days(3), 25.0), weighing(kToday - days(2), 26.0)};
  auto b = baseline_weight(s, w, utc_day);
  ASSERT_TRUE(b);
  EXPECT_DOUBLE_EQ(b->weight_g, 25.5);
  EXPECT_TRUE(b->provisional) << "two of the three weighings the baseline takes";
  w.push_back(weighing(kToday - days(1), 27.0));
  w.push_back(weighing(kToday, 20.0));  // after restriction began: not in the mean
  b = baseline_weight(s, w, utc_day);
  EXPECT_DOUBLE_EQ(b->weight_g, 26.0);
  EXPECT_FALSE(b->provisional);
  EXPECT_EQ(b->source, "mean of the first 3 weighings");
  w.push_back(weighing(kToday, 24.0, true));
  EXPECT_DOUBLE_EQ(baseline_weight(s, w, utc_day)->weight_g, 24.0);
  EXPECT_EQ(baseline_weight(s, w, utc_day)->source, "weighing of 2026-11-30");
  s.welfare.baseline_weight_g = 30.0;
  EXPECT_DOUBLE_EQ(baseline_weight(s, w, utc_day)->weight_g, 30.0);
}

TEST(Welfare, UnderThresholdIsTodaysLastWeighingBelowThePercentOfBaseline) {
  Subject s = mouse();
  s.welfare.baseline_weight_g = 25.0;
  auto status = welfare_status(s, {weighing(kToday, 19.9)}, {}, {}, kToday, utc_day);
  EXPECT_NEAR(*status.percent_of_baseline, 79.6, 1e-9);
  EXPECT_TRUE(status.under_threshold);
  status = welfare_status(s, {weighing(kToday, 19.9), weighing(kToday, 20.0)}, {}, {}, kToday, utc_day);
  EXPECT_FALSE(status.under_threshold) << "exactly 80% is not under 80%";
  s.welfare.min_weight_percent = 85.0;
  EXPECT_TRUE(welfare_status(s, {weighing(kToday, 20.0)}, {}, {}, kToday, utc_day).under_threshold);
  status = welfare_status(s, {weighing(kToday - days(1), 15.0)}, {}, {}, kToday, utc_day);
  EXPECT_FALSE(status.weighed_today());
  EXPECT_FALSE(status.under_threshold) << "yesterday's weight does not decide today";
}

TEST(Welfare, TheMinimumIsPerGramOfBaselineUnlessStatedAndTheOwedTopUpCountsSessionsAndWaterByHand) {
  Subject s = mouse();
  s.welfare.baseline_weight_g = 25.0;
  std::map<sys_days, double> sessions = {{kToday, 400.0}, {kToday - days(1), 900.0}};
  // Two sessions' rewards (400 uL together), a gel and a top-up, and yesterday's water that does not count.
  const std::vector<model::WaterGiven> given = {water(kToday, 8.0, 100.0, model::WaterKind::kGel),
                                                water(kToday, 18.0, 250.0),
                                                water(kToday, 17.0, 400.0, model::WaterKind::kSession),
                                                water(kToday - days(1), 20.0, 300.0)};
  auto status = welfare_status(s, {}, given, sessions, kToday, utc_day);
  EXPECT_DOUBLE_EQ(status.minimum_ul, 1000.0);  // 40 uL/g x 25 g
  EXPECT_DOUBLE_EQ(status.session_today_ul, 400.0);
  EXPECT_DOUBLE_EQ(status.by_hand_today_ul, 350.0) << "a session's row is its log, not more water";
  EXPECT_DOUBLE_EQ(status.owed_ul, 250.0);
  EXPECT_DOUBLE_EQ(status.days[kWelfareHistoryDays - 2].by_hand_ul, 300.0);
  EXPECT_DOUBLE_EQ(status.days[kWelfareHistoryDays - 2].session_ul, 900.0);
  s.welfare.daily_water_min_ml = 0.6;
  status = welfare_status(s, {}, given, sessions, kToday, utc_day);
  EXPECT_DOUBLE_EQ(status.owed_ul, 0.0);
  s.welfare.daily_water_target_ul_per_g = 50.0;
  EXPECT_DOUBLE_EQ(welfare_status(s, {}, given, sessions, kToday, utc_day).target_ul, 1250.0);
  Subject no_baseline = mouse();
  EXPECT_DOUBLE_EQ(welfare_status(no_baseline, {}, {}, {}, kToday, utc_day).minimum_ul, 1000.0)
      << "without a baseline the minimum is the target";
}

TEST(Welfare, WaterAfterMidnightCountsForTheNewDay) {
  Subject s = mouse();
  s.welfare.daily_water_min_ml = 1.0;
  const std::vector<model::WaterGiven> given = {water(kToday - days(1), 23.99, 500.0), water(kToday, 0.01, 200.0)};
  const auto status = welfare_status(s, {}, given, {}, kToday, utc_day);
  EXPECT_DOUBLE_EQ(status.by_hand_today_ul, 200.0);
  EXPECT_DOUBLE_EQ(status.owed_ul, 800.0);
}

TEST(Welfare, AWeightIsRefusedWhenItIsNotAWeightOrTooFarFromTheLastUnlessForced) {
  EXPECT_TRUE(weight_problem(0.0, std::nullopt, false));
  EXPECT_TRUE(weight_problem(-3.0, std::nullopt, false));
  EXPECT_TRUE(weight_problem(std::nan(""), std::nullopt, false));
  EXPECT_TRUE(weight_problem(1001.0, std::nullopt, true));
  EXPECT_FALSE(weight_problem(25.0, std::nullopt, false));
  EXPECT_FALSE(weight_problem(12.5, 25.0, false)) << "exactly 50% away is accepted";
  EXPECT_TRUE(weight_problem(12.4, 25.0, false));
  EXPECT_TRUE(weight_problem(250.0, 25.0, false)) << "a typo: 250 for 25.0";
  EXPECT_FALSE(weight_problem(250.0, 25.0, true));
}

TEST(Welfare, ASimulatedBodyWeighsTheSameOnTheSameDayAndCloseToItsWeight) {
  Subject s = mouse();
  s.welfare.simulated_weight_g = 24.0;
  EXPECT_DOUBLE_EQ(simulated_body_weight_g(s, kToday), simulated_body_weight_g(s, kToday));
  for (int d = 0; d < 30; ++d) {
    const double g = simulated_body_weight_g(s, kToday + days(d));
    EXPECT_GE(g, 24.0 * 0.985);
    EXPECT_LE(g, 24.0 * 1.015);
  }
  EXPECT_EQ(day_text(kToday), "2026-11-30");
}

}  // namespace
}  // namespace rig::task
