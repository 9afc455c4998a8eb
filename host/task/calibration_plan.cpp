#include "host/task/calibration_plan.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <limits>
#include <utility>

#include "firmware/wire/limits.hpp"

namespace rig::task {
namespace {

constexpr std::int64_t kValveWindowUs = wire::kValveWindowUs;
constexpr std::int64_t kMaxOpenUsPerWindow = wire::kHardMaxOpenUsPerS;

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

// A whole number in [0, 2^32 - 1], the whole of `text`.
std::optional<std::uint32_t> parse_uint32(std::string_view text) {
  std::uint64_t value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || result.ec != std::errc() || result.ptr != text.data() + text.size() ||
      value > std::numeric_limits<std::uint32_t>::max()) {
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(value);
}

std::string join_us(const std::vector<std::uint32_t>& open_us) {
  std::string out;
  for (const auto value : open_us) out += (out.empty() ? "" : ", ") + std::to_string(value);
  return out;
}

}  // namespace

std::uint32_t max_calibration_open_us() { return wire::kHardMaxOpenUs; }

std::vector<std::uint32_t> parse_open_times(std::string_view text) {
  std::vector<std::uint32_t> open_us;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string_view item = trim(text.substr(start, comma == std::string_view::npos ? text.npos : comma - start));
    const auto value = parse_uint32(item);
    if (!value) {
      throw std::invalid_argument(item.empty() ? "an open time is missing (empty item in '" + std::string(text) + "')"
                                               : "open time '" + std::string(item) +
                                                     "' is not a whole number of microseconds");
    }
    open_us.push_back(*value);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return open_us;
}

std::vector<std::string> check_plan(const CalibrationPlan& plan) {
  std::vector<std::string> problems;
  if (plan.open_us.size() < 2) {
    problems.push_back("at least two open times are needed to fit a table, got " +
                       std::to_string(plan.open_us.size()));
  }
  for (std::size_t i = 0; i < plan.open_us.size(); ++i) {
    const std::uint32_t open_us = plan.open_us[i];
    if (open_us == 0) {
      problems.push_back("open time 0 us: must be at least 1 us");
    } else if (open_us > max_calibration_open_us()) {
      problems.push_back("open time " + std::to_string(open_us) + " us is above the firmware's limit of " +
                         std::to_string(max_calibration_open_us()) + " us per pulse");
    }
    if (i > 0 && open_us <= plan.open_us[i - 1]) {
      problems.push_back("open times must increase: " + std::to_string(open_us) + " us follows " +
                         std::to_string(plan.open_us[i - 1]) + " us");
    }
  }
  if (plan.pulse_count < 1 || plan.pulse_count > std::numeric_limits<std::uint16_t>::max()) {
    problems.push_back("pulse count " + std::to_string(plan.pulse_count) + " is outside [1, 65535]");
  }
  if (plan.pulse_count > 1 && !plan.open_us.empty()) {
    const std::uint32_t longest_us = *std::max_element(plan.open_us.begin(), plan.open_us.end());
    if (plan.interval_us <= longest_us) {
      problems.push_back("the interval of " + std::to_string(plan.interval_us) +
                         " us between pulse starts must be longer than the longest open time (" +
                         std::to_string(longest_us) + " us)");
    }
  }
  return problems;
}

std::int64_t pulse_train_duration_us(std::uint32_t open_us, std::uint32_t count, std::uint32_t interval_us) {
  if (count == 0 || open_us == 0) return 0;
  const std::int64_t pulse_us = std::min<std::int64_t>(open_us, wire::kHardMaxOpenUs);
  std::deque<std::int64_t> window_starts;  // starts of the pulses still inside the one-second window
  std::int64_t scheduled_us = 0;
  std::int64_t end_us = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::int64_t start_us = std::max(scheduled_us, end_us);
    while (true) {
      while (!window_starts.empty() && start_us - window_starts.front() >= kValveWindowUs) window_starts.pop_front();
      if ((static_cast<std::int64_t>(window_starts.size()) + 1) * pulse_us <= kMaxOpenUsPerWindow) break;
      start_us = window_starts.front() + kValveWindowUs;
    }
    window_starts.push_back(start_us);
    end_us = start_us + pulse_us;
    scheduled_us += interval_us;
  }
  return end_us;
}

std::optional<double> parse_weight_mg(std::string_view text) {
  text = trim(text);
  if (text.size() >= 2) {
    const std::string_view unit = text.substr(text.size() - 2);
    if ((unit[0] == 'm' || unit[0] == 'M') && (unit[1] == 'g' || unit[1] == 'G')) text = trim(text.substr(0, text.size() - 2));
  }
  double value = 0.0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || result.ec != std::errc() || result.ptr != text.data() + text.size() || !std::isfinite(value) ||
      !(value > 0.0)) {
    return std::nullopt;
  }
  return value;
}

std::map<std::uint32_t, double> parse_weights(std::string_view text, const std::string& file_name) {
  std::map<std::uint32_t, double> weights_mg;
  std::map<std::uint32_t, int> line_of;
  int line_number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    ++line_number;
    const std::size_t newline = text.find('\n', start);
    std::string_view line = text.substr(start, newline == std::string_view::npos ? text.npos : newline - start);
    start = newline == std::string_view::npos ? text.size() : newline + 1;
    line = trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    const std::string where = file_name + ":" + std::to_string(line_number) + ": ";
    const std::size_t blank = line.find_first_of(" \t");
    const auto open_us = parse_uint32(line.substr(0, blank));
    const auto weight_mg = blank == std::string_view::npos ? std::nullopt : parse_weight_mg(line.substr(blank));
    if (!open_us || !weight_mg) {
      throw std::invalid_argument(where + "expected `open_us weight_mg` (a whole number of microseconds and a positive "
                                          "weight in mg), got '" + std::string(line) + "'");
    }
    if (const auto seen = line_of.find(*open_us); seen != line_of.end()) {
      throw std::invalid_argument(where + "open time " + std::to_string(*open_us) + " us was already given on line " +
                                  std::to_string(seen->second));
    }
    weights_mg[*open_us] = *weight_mg;
    line_of[*open_us] = line_number;
  }
  return weights_mg;
}

std::vector<WeighedPulses> measurements_from_weights(const CalibrationPlan& plan,
                                                     const std::map<std::uint32_t, double>& weights_mg) {
  std::vector<WeighedPulses> measurements;
  std::vector<std::uint32_t> missing;
  for (const auto open_us : plan.open_us) {
    const auto found = weights_mg.find(open_us);
    if (found == weights_mg.end()) {
      missing.push_back(open_us);
    } else {
      measurements.push_back(WeighedPulses{open_us, plan.pulse_count, found->second});
    }
  }
  std::vector<std::uint32_t> extra;
  for (const auto& [open_us, weight_mg] : weights_mg) {
    if (std::find(plan.open_us.begin(), plan.open_us.end(), open_us) == plan.open_us.end()) extra.push_back(open_us);
  }
  std::string message;
  if (!missing.empty()) message = "no weight for open time(s) " + join_us(missing) + " us";
  if (!extra.empty()) {
    message += (message.empty() ? "" : "; ") + std::string("weight(s) for open time(s) ") + join_us(extra) +
               " us that are not calibrated (open times: " + join_us(plan.open_us) + ")";
  }
  if (!message.empty()) throw std::invalid_argument(message);
  return measurements;
}

CalibrationTable round_volumes(const CalibrationTable& table, int decimals) {
  const double scale = std::pow(10.0, std::clamp(decimals, 0, 9));
  CalibrationTable rounded = table;
  // Dividing the rounded integer by the power of ten gives the double nearest the decimal, which prints short.
  for (auto& point : rounded.points) point.volume_ul = std::round(point.volume_ul * scale) / scale;
  return rounded;
}

std::vector<CalibrationChange> compare_calibration(const CalibrationTable& old_table,
                                                   const CalibrationTable& new_table) {
  std::vector<CalibrationChange> changes;
  for (const auto& point : new_table.points) {
    CalibrationChange change;
    change.open_us = point.open_us;
    change.old_volume_ul = volume_for_open_us(old_table, point.open_us);
    change.new_volume_ul = point.volume_ul;
    change.change_percent =
        change.old_volume_ul > 0.0 ? (change.new_volume_ul - change.old_volume_ul) / change.old_volume_ul * 100.0 : 0.0;
    change.extrapolated = old_table.points.empty() || point.open_us < old_table.points.front().open_us ||
                          point.open_us > old_table.points.back().open_us;
    changes.push_back(change);
  }
  return changes;
}

}  // namespace rig::task
