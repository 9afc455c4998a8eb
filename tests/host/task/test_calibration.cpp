#include <gtest/gtest.h>

#include <stdexcept>

#include "host/task/calibration.hpp"
#include "host/task/rig_config.hpp"

namespace rig::task {
namespace {

using std::chrono::day;
using std::chrono::month;
using std::chrono::year;
using std::chrono::year_month_day;

CalibrationTable table_of(std::vector<CalibrationPoint> points) {
  return CalibrationTable{year_month_day{year(2025), month(1), day(6)}, std::move(points)};
}

const CalibrationTable kTable = table_of({{10000, 0.8}, {20000, 1.9}, {40000, 4.0}, {60000, 6.1}});

TEST(Calibration, OpenTimeIsExactAtCalibratedPoints) {
  EXPECT_EQ(open_us_for_volume(kTable, 0.8), 10000u);
  EXPECT_EQ(open_us_for_volume(kTable, 4.0), 40000u);
  EXPECT_EQ(open_us_for_volume(kTable, 6.1), 60000u);
}

TEST(Calibration, OpenTimeInterpolatesLinearlyBetweenPoints) {
  // 3 uL lies 1.1/2.1 of the way from (20000 us, 1.9 uL) to (40000 us, 4.0 uL): 30476.19 us.
  EXPECT_EQ(open_us_for_volume(kTable, 3.0), 30476u);
  EXPECT_EQ(open_us_for_volume(kTable, 1.35), 15000u);
}

TEST(Calibration, ZeroVolumeKeepsTheValveClosed) { EXPECT_EQ(open_us_for_volume(kTable, 0.0), 0u); }

TEST(Calibration, VolumesOutsideTheTableAreRefused) {
  EXPECT_FALSE(open_us_for_volume(kTable, 0.5).has_value());
  EXPECT_FALSE(open_us_for_volume(kTable, 6.2).has_value());
  EXPECT_FALSE(open_us_for_volume(kTable, -1.0).has_value());
}

TEST(Calibration, OpenTimeIsMonotoneInVolume) {
  std::uint32_t previous = 0;
  for (double volume_ul = 0.8; volume_ul <= 6.1; volume_ul += 0.01) {
    const auto open_us = open_us_for_volume(kTable, volume_ul);
    ASSERT_TRUE(open_us.has_value()) << volume_ul;
    EXPECT_GE(*open_us, previous) << volume_ul;
    previous = *open_us;
  }
}

TEST(Calibration, VolumeForOpenTimeInvertsTheInterpolation) {
  for (double volume_ul = 0.8; volume_ul <= 6.1; volume_ul += 0.1) {
    const auto open_us = open_us_for_volume(kTable, volume_ul).value();
    // Rounding to a whole microsecond moves the volume by at most half a microsecond's worth (~1e-4 uL/us).
    EXPECT_NEAR(volume_for_open_us(kTable, open_us), volume_ul, 1e-4) << volume_ul;
  }
  EXPECT_EQ(volume_for_open_us(kTable, 0), 0.0);
}

TEST(Calibration, VolumeForOpenTimeExtendsTheEndSegmentsForAccounting) {
  // Beyond the last point the 40000..60000 segment (0.105 uL/ms) continues.
  EXPECT_NEAR(volume_for_open_us(kTable, 70000), 7.15, 1e-9);
  // Below the first point the first segment continues, never below zero.
  EXPECT_NEAR(volume_for_open_us(kTable, 5000), 0.25, 1e-9);
  EXPECT_EQ(volume_for_open_us(kTable, 1), 0.0);
}

TEST(Calibration, CheckTableAcceptsStrictlyIncreasingTables) { EXPECT_FALSE(check_table(kTable).has_value()); }

TEST(Calibration, CheckTableNamesTheFirstNonMonotonePoint) {
  const auto problem = check_table(table_of({{10000, 1.0}, {20000, 2.0}, {30000, 1.5}, {40000, 1.0}}));
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(problem->index, 2u);
  EXPECT_EQ(problem->field, "volume_ul");
  const auto repeated = check_table(table_of({{10000, 1.0}, {10000, 2.0}}));
  ASSERT_TRUE(repeated.has_value());
  EXPECT_EQ(repeated->field, "open_us");
}

TEST(Calibration, CheckTableNeedsTwoPoints) {
  const auto problem = check_table(table_of({{10000, 1.0}}));
  ASSERT_TRUE(problem.has_value());
  EXPECT_FALSE(problem->index.has_value());
}

TEST(Calibration, FitAveragesWeighedPulsesPerOpenTime) {
  const year_month_day measured_on{year(2025), month(3), day(1)};
  // 100 pulses of 20 ms weighed 190 mg and 210 mg: 2.0 uL per pulse on average.
  const auto table = fit_calibration({{40000, 100, 400.0}, {20000, 100, 190.0}, {20000, 100, 210.0}, {10000, 50, 45.0}},
                                     measured_on);
  EXPECT_EQ(table.calibrated_on, measured_on);
  ASSERT_EQ(table.points.size(), 3u);
  EXPECT_EQ(table.points[0], (CalibrationPoint{10000, 0.9}));
  EXPECT_EQ(table.points[1].open_us, 20000u);
  EXPECT_DOUBLE_EQ(table.points[1].volume_ul, 2.0);
  EXPECT_EQ(table.points[2], (CalibrationPoint{40000, 4.0}));
}

TEST(Calibration, FitRejectsMeasurementsThatAreNotMonotone) {
  const year_month_day today{year(2025), month(3), day(1)};
  EXPECT_THROW(fit_calibration({{10000, 100, 200.0}, {20000, 100, 150.0}}, today), std::invalid_argument);
  EXPECT_THROW(fit_calibration({{10000, 0, 200.0}, {20000, 100, 250.0}}, today), std::invalid_argument);
  EXPECT_THROW(fit_calibration({{10000, 100, 200.0}}, today), std::invalid_argument);
  EXPECT_THROW(fit_calibration({{10000, 100, -1.0}, {20000, 100, 250.0}}, today), std::invalid_argument);
}

TEST(Calibration, StalenessCountsWholeDaysFromTheTableDate) {
  const auto table = table_of({{10000, 1.0}, {20000, 2.0}});  // 2025-01-06
  EXPECT_EQ(calibration_age_days(table, year_month_day{year(2025), month(2), day(5)}), 30);
  EXPECT_FALSE(calibration_is_stale(table, year_month_day{year(2025), month(2), day(5)}, 30));
  EXPECT_TRUE(calibration_is_stale(table, year_month_day{year(2025), month(2), day(6)}, 30));
}

TEST(Calibration, StaleWarningsNameTheValveAndItsAge) {
  RigConfig rig;
  rig.calibration_max_age_days = 30;
  rig.calibration[0] = table_of({{10000, 1.0}, {20000, 2.0}});
  rig.calibration[1] = CalibrationTable{year_month_day{year(2025), month(2), day(1)}, {{10000, 1.0}, {20000, 2.0}}};
  const auto warnings = stale_calibration_warnings(rig, year_month_day{year(2025), month(2), day(10)});
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0],
            "valve cherry: calibration of 2025-01-06 is 35 days old (limit 30); run rig calibrate --valve cherry");
}

TEST(Calibration, DatesParseOnlyAsValidIsoDays) {
  EXPECT_EQ(parse_date("2024-02-29"), (year_month_day{year(2024), month(2), day(29)}));
  EXPECT_FALSE(parse_date("2025-02-29").has_value());
  EXPECT_FALSE(parse_date("2025-1-06").has_value());
  EXPECT_FALSE(parse_date("06/01/2025").has_value());
  EXPECT_FALSE(parse_date("2025-01-06x").has_value());
  EXPECT_EQ(format_date(year_month_day{year(2025), month(1), day(6)}), "2025-01-06");
}

}  // namespace
}  // namespace rig::task
