// Valve calibration: how much liquid a valve delivers for an open time, measured by weighing, and the
// inverse used to turn a protocol's volume into the open time armed on the device.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rig::task {

// One calibrated point: opening the valve for open_us delivers volume_ul (mean of the weighed pulses).
struct CalibrationPoint {
  std::uint32_t open_us = 0;
  double volume_ul = 0.0;

  bool operator==(const CalibrationPoint&) const = default;
};

// A valve's calibration table, strictly increasing in both open time and volume, and the day it was measured.
// Interpolation between points is linear, which is monotone and exactly invertible; volumes outside the
// measured range are refused rather than extrapolated.
struct CalibrationTable {
  std::chrono::year_month_day calibrated_on{};
  std::vector<CalibrationPoint> points;

  bool operator==(const CalibrationTable&) const = default;
};

// Why a table is unusable, or nullopt if it has at least two points strictly increasing in open_us and
// volume_ul with positive values. `index` (if set) is the first offending point and `field` its offending
// field ("open_us" or "volume_ul"). Pure; thread-safe.
struct TableProblem {
  std::optional<std::size_t> index;
  std::string field;
  std::string message;
};
std::optional<TableProblem> check_table(const CalibrationTable& table);

// Open time in microseconds that delivers volume_ul, by linear interpolation in a valid table (check_table),
// rounded to the nearest microsecond. 0 uL gives 0 us (valve stays closed). Returns nullopt when volume_ul
// is negative or outside [first, last] calibrated volume. Pure; thread-safe.
std::optional<std::uint32_t> open_us_for_volume(const CalibrationTable& table, double volume_ul);

// Volume in microlitres an open time delivers, for accounting what the device reports it delivered: linear
// in a valid table, extended linearly beyond its ends (through the nearest segment, never below 0);
// 0 us gives 0 uL. Pure; thread-safe.
double volume_for_open_us(const CalibrationTable& table, std::uint32_t open_us);

// One calibration measurement: `pulse_count` pulses of `open_us` each collected and weighed together.
// The liquid is taken as water: 1 mg = 1 uL.
struct WeighedPulses {
  std::uint32_t open_us = 0;
  std::uint32_t pulse_count = 0;
  double total_weight_mg = 0.0;
};

// Fits a table from measurements: volume per pulse = weight / count, measurements at the same open time are
// averaged, points are sorted by open time. Throws std::invalid_argument when a measurement has no pulses, a
// non-positive open time or a non-positive weight, when fewer than two distinct open times were measured, or
// when the result is not strictly increasing (the message names the offending open times: re-measure).
// Pure; thread-safe.
CalibrationTable fit_calibration(const std::vector<WeighedPulses>& measurements,
                                 std::chrono::year_month_day measured_on);

// Age of the table in whole days on `today` (negative if it is dated in the future). Pure; thread-safe.
int calibration_age_days(const CalibrationTable& table, std::chrono::year_month_day today);

// True when the table is older than max_age_days on `today`: the session should warn. Pure; thread-safe.
bool calibration_is_stale(const CalibrationTable& table, std::chrono::year_month_day today, int max_age_days);

// "YYYY-MM-DD" to a valid date, or nullopt. Pure; thread-safe.
std::optional<std::chrono::year_month_day> parse_date(const std::string& text);
// A date as "YYYY-MM-DD". Pure; thread-safe.
std::string format_date(std::chrono::year_month_day date);

}  // namespace rig::task
