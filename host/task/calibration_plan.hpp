// What `rig calibrate` decides before and after the pulses, without a device: which pulse trains to deliver
// and whether the firmware will accept them, how long they take, reading the weighed amounts (typed by the
// operator or from a file), and how the new table compares with the old one.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "firmware/wire/messages.hpp"
#include "host/task/calibration.hpp"

namespace rig::task {

// The pulse trains of one calibration: for every open time, pulse_count pulses interval_us apart (start to
// start), all collected and weighed together.
struct CalibrationPlan {
  wire::Valve valve = wire::Valve::kCherry;
  std::vector<std::uint32_t> open_us;  // one train per open time, in this order
  std::uint32_t pulse_count = 100;
  std::uint32_t interval_us = 300000;
};

// The longest single pulse the firmware delivers (its hard limit; a longer one is clamped), in us.
std::uint32_t max_calibration_open_us();

// "10000,20000,40000" as open times in us (blanks around items allowed); check_plan() judges the values.
// Throws std::invalid_argument naming the item that is not a whole number in [0, 4294967295].
// Pure; thread-safe.
std::vector<std::uint32_t> parse_open_times(std::string_view text);

// Every reason the firmware would refuse or alter the plan, or the fit could not use it, in plain words
// (empty: the plan is good): fewer than two open times, an open time of 0 or above
// max_calibration_open_us(), open times not strictly increasing, a pulse count outside [1, 65535], an
// interval that is not longer than an open time (the firmware refuses it). Pure; thread-safe.
std::vector<std::string> check_plan(const CalibrationPlan& plan);

// Device time in us from the first pulse's start to the last pulse's end of a train of `count` pulses of
// `open_us`, `interval_us` apart, as the firmware schedules it: a pulse waits for the previous one to end
// and for the valve's one-second budget of open time to allow it. Pure; thread-safe.
std::int64_t pulse_train_duration_us(std::uint32_t open_us, std::uint32_t count, std::uint32_t interval_us);

// A weight as the operator types it: a positive finite number of milligrams, optionally followed by "mg",
// blanks around it allowed ("812.5", " 812.5 mg "). nullopt when it is anything else. Pure; thread-safe.
std::optional<double> parse_weight_mg(std::string_view text);

// A weights file: one `open_us weight_mg` pair per line (total weight of that open time's pulses), `#`
// comments and blank lines allowed. Returns weight in mg by open time in us. Throws std::invalid_argument
// with "FILE:LINE: message" for a malformed line, a weight that is not positive, or an open time given
// twice. Pure; thread-safe.
std::map<std::uint32_t, double> parse_weights(std::string_view text, const std::string& file_name);

// The measurements of `plan` from weights by open time (parse_weights): one WeighedPulses per open time of
// the plan. Throws std::invalid_argument naming the open times the weights lack and those that are not in
// the plan. Pure; thread-safe.
std::vector<WeighedPulses> measurements_from_weights(const CalibrationPlan& plan,
                                                     const std::map<std::uint32_t, double>& weights_mg);

// `table` with every volume in uL rounded to `decimals` decimal places (0..9), so that the file shows the
// precision that was measured rather than the noise of a division. Pure; thread-safe.
CalibrationTable round_volumes(const CalibrationTable& table, int decimals);

// One row of the old-versus-new comparison, at an open time of the new table.
struct CalibrationChange {
  std::uint32_t open_us = 0;
  double old_volume_ul = 0.0;  // the old table at open_us (volume_for_open_us)
  double new_volume_ul = 0.0;
  double change_percent = 0.0;  // (new - old) / old * 100; 0 when old is 0
  bool extrapolated = false;    // open_us is outside the old table's range
};

// The new table's points against what the old table gave for the same open times. Pure; thread-safe.
std::vector<CalibrationChange> compare_calibration(const CalibrationTable& old_table,
                                                   const CalibrationTable& new_table);

}  // namespace rig::task
