#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>
#include <string>

#include "host/task/calibration_plan.hpp"

namespace rig::task {
namespace {

using std::chrono::day;
using std::chrono::month;
using std::chrono::year;
using std::chrono::year_month_day;

CalibrationPlan plan_of(std::vector<std::uint32_t> open_us, std::uint32_t pulse_count = 100,
                        std::uint32_t interval_us = 300000) {
  return CalibrationPlan{wire::Valve::kCherry, std::move(open_us), pulse_count, interval_us};
}

std::string message_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

TEST(CalibrationPlan, OpenTimesAreReadFromACommaSeparatedList) {
  EXPECT_EQ(parse_open_times("10000,20000,40000,80000"), (std::vector<std::uint32_t>{10000, 20000, 40000, 80000}));
  EXPECT_EQ(parse_open_times(" 5000 , 7000"), (std::vector<std::uint32_t>{5000, 7000}));
  EXPECT_EQ(message_of([] { parse_open_times("10000,ten"); }), "open time 'ten' is not a whole number of microseconds");
  EXPECT_EQ(message_of([] { parse_open_times("10000,,20000"); }),
            "an open time is missing (empty item in '10000,,20000')");
  EXPECT_EQ(message_of([] { parse_open_times("-5"); }), "open time '-5' is not a whole number of microseconds");
  EXPECT_EQ(message_of([] { parse_open_times("4294967296"); }),
            "open time '4294967296' is not a whole number of microseconds");
}

TEST(CalibrationPlan, TheDefaultPlanIsAcceptedByTheFirmware) {
  EXPECT_TRUE(check_plan(plan_of({10000, 20000, 40000, 80000})).empty());
  EXPECT_TRUE(check_plan(plan_of({1, 500000}, 1)).empty()) << "a single pulse needs no interval";
}

TEST(CalibrationPlan, OpenTimesTheFirmwareWouldRefuseOrClampAreReported) {
  EXPECT_EQ(check_plan(plan_of({0, 20000})), (std::vector<std::string>{"open time 0 us: must be at least 1 us"}));
  EXPECT_EQ(check_plan(plan_of({10000, 500001}, 1)),
            (std::vector<std::string>{"open time 500001 us is above the firmware's limit of 500000 us per pulse"}));
  EXPECT_EQ(check_plan(plan_of({20000, 20000})),
            (std::vector<std::string>{"open times must increase: 20000 us follows 20000 us"}));
  EXPECT_EQ(check_plan(plan_of({20000})),
            (std::vector<std::string>{"at least two open times are needed to fit a table, got 1"}));
}

TEST(CalibrationPlan, PulseCountAndIntervalMustSuitTheFirmware) {
  EXPECT_EQ(check_plan(plan_of({10000, 20000}, 0)), (std::vector<std::string>{"pulse count 0 is outside [1, 65535]"}));
  EXPECT_EQ(check_plan(plan_of({10000, 20000}, 65536)),
            (std::vector<std::string>{"pulse count 65536 is outside [1, 65535]"}));
  EXPECT_EQ(check_plan(plan_of({10000, 300000}, 10, 300000)),
            (std::vector<std::string>{"the interval of 300000 us between pulse starts must be longer than the longest "
                                      "open time (300000 us)"}));
}

TEST(CalibrationPlan, ATrainTakesItsIntervalsWhileTheValveBudgetAllows) {
  // 100 pulses of 10 ms every 300 ms: 99 intervals and the last pulse.
  EXPECT_EQ(pulse_train_duration_us(10000, 100, 300000), 99 * 300000 + 10000);
  EXPECT_EQ(pulse_train_duration_us(10000, 1, 300000), 10000);
  EXPECT_EQ(pulse_train_duration_us(10000, 0, 300000), 0);
}

TEST(CalibrationPlan, ATrainWaitsForTheValvesOneSecondBudget) {
  // 400 ms pulses every 450 ms: only one fits in any one-second window of 600 ms, so they start 1 s apart.
  EXPECT_EQ(pulse_train_duration_us(400000, 3, 450000), 2 * 1000000 + 400000);
  // 250 ms pulses every 300 ms: two fit a window (500 ms), the third waits until the first leaves it.
  EXPECT_EQ(pulse_train_duration_us(250000, 3, 300000), 1000000 + 250000);
}

TEST(CalibrationPlan, AWeightIsAPositiveNumberOfMilligramsWithAnOptionalUnit) {
  EXPECT_EQ(parse_weight_mg("812.5"), 812.5);
  EXPECT_EQ(parse_weight_mg("  812.5 mg \n"), 812.5);
  EXPECT_EQ(parse_weight_mg("90MG"), 90.0);
  EXPECT_FALSE(parse_weight_mg("").has_value());
  EXPECT_FALSE(parse_weight_mg("mg").has_value());
  EXPECT_FALSE(parse_weight_mg("0").has_value());
  EXPECT_FALSE(parse_weight_mg("-3").has_value());
  EXPECT_FALSE(parse_weight_mg("0.8 g").has_value());
  EXPECT_FALSE(parse_weight_mg("12,5").has_value());
  EXPECT_FALSE(parse_weight_mg("inf").has_value());
  EXPECT_FALSE(parse_weight_mg("nan").has_value());
}

TEST(CalibrationPlan, AWeightsFileGivesTheTotalWeightOfEachOpenTime) {
  const auto weights = parse_weights("# cherry, 100 pulses each\n10000 82.5\n\n20000\t190 mg  # second\n", "w.txt");
  EXPECT_EQ(weights, (std::map<std::uint32_t, double>{{10000, 82.5}, {20000, 190.0}}));
}

TEST(CalibrationPlan, AMalformedWeightsLineIsReportedWithFileAndLine) {
  EXPECT_EQ(message_of([] { parse_weights("10000 82.5\n20000\n", "w.txt"); }),
            "w.txt:2: expected `open_us weight_mg` (a whole number of microseconds and a positive weight in mg), got "
            "'20000'");
  EXPECT_EQ(message_of([] { parse_weights("10000 -1\n", "w.txt"); }),
            "w.txt:1: expected `open_us weight_mg` (a whole number of microseconds and a positive weight in mg), got "
            "'10000 -1'");
  EXPECT_EQ(message_of([] { parse_weights("10000 80\n10000 81\n", "w.txt"); }),
            "w.txt:2: open time 10000 us was already given on line 1");
}

TEST(CalibrationPlan, WeightsMustCoverExactlyThePlannedOpenTimes) {
  const auto plan = plan_of({10000, 20000, 40000});
  const auto measurements = measurements_from_weights(plan, {{10000, 80.0}, {20000, 190.0}, {40000, 400.0}});
  ASSERT_EQ(measurements.size(), 3u);
  EXPECT_EQ(measurements[1].open_us, 20000u);
  EXPECT_EQ(measurements[1].pulse_count, 100u);
  EXPECT_EQ(measurements[1].total_weight_mg, 190.0);
  EXPECT_EQ(message_of([&] { measurements_from_weights(plan, {{10000, 80.0}, {30000, 300.0}}); }),
            "no weight for open time(s) 20000, 40000 us; weight(s) for open time(s) 30000 us that are not calibrated "
            "(open times: 10000, 20000, 40000)");
}

TEST(CalibrationPlan, VolumesAreRoundedToTheMeasuredPrecision) {
  const CalibrationTable fitted{year_month_day{year(2025), month(6), day(10)}, {{10000, 812.3 / 100}, {20000, 1.23456}}};
  const CalibrationTable rounded = round_volumes(fitted, 4);
  EXPECT_EQ(rounded.points[0].volume_ul, 8.123);
  EXPECT_EQ(rounded.points[1].volume_ul, 1.2346);
  EXPECT_EQ(rounded.calibrated_on, fitted.calibrated_on);
}

TEST(CalibrationPlan, TheNewTableIsComparedWithWhatTheOldOneGaveAtTheSameOpenTimes) {
  const CalibrationTable old_table{year_month_day{year(2025), month(1), day(6)}, {{10000, 0.8}, {20000, 2.0}}};
  const CalibrationTable new_table{year_month_day{year(2025), month(6), day(10)},
                                   {{15000, 1.54}, {20000, 1.9}, {40000, 4.4}}};
  const auto changes = compare_calibration(old_table, new_table);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_DOUBLE_EQ(changes[0].old_volume_ul, 1.4);
  EXPECT_NEAR(changes[0].change_percent, 10.0, 1e-9);
  EXPECT_FALSE(changes[0].extrapolated);
  EXPECT_NEAR(changes[1].change_percent, -5.0, 1e-9);
  // Beyond the old table: its last segment extended (0.12 uL/ms), flagged as such.
  EXPECT_DOUBLE_EQ(changes[2].old_volume_ul, 4.4);
  EXPECT_NEAR(changes[2].change_percent, 0.0, 1e-9);
  EXPECT_TRUE(changes[2].extrapolated);
}

}  // namespace
}  // namespace rig::task
