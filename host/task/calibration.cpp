#include "host/task/calibration.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <stdexcept>

#include "host/task/diagnostics.hpp"


namespace rig::task {
namespace {

// Linear interpolation of y at x on the segment (x0, y0)-(x1, y1), x0 != x1.
double lerp(double x0, double y0, double x1, double y1, double x) { return y0 + (y1 - y0) * (x - x0) / (x1 - x0); }

}  // namespace

std::optional<TableProblem> check_table(const CalibrationTable& table) {
  const auto& points = table.points;
  if (points.size() < 2) {
    return TableProblem{std::nullopt, "", "a calibration table needs at least two points, got " +
                                          std::to_string(points.size())};
  }
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (points[i].open_us == 0) return TableProblem{i, "open_us", "open_us must be positive"};
    if (!(points[i].volume_ul > 0.0)) return TableProblem{i, "volume_ul", "volume_ul must be positive"};
    if (i == 0) continue;
    if (points[i].open_us <= points[i - 1].open_us) {
      return TableProblem{i, "open_us", "table is not monotone: open_us " + std::to_string(points[i].open_us) +
                                 " does not increase over " + std::to_string(points[i - 1].open_us)};
    }
    if (points[i].volume_ul <= points[i - 1].volume_ul) {
      return TableProblem{i, "volume_ul", "table is not monotone: " + format_number(points[i].volume_ul) + " uL at " +
                                 std::to_string(points[i].open_us) + " us is not more than " +
                                 format_number(points[i - 1].volume_ul) + " uL at " +
                                 std::to_string(points[i - 1].open_us) + " us"};
    }
  }
  return std::nullopt;
}

std::optional<std::uint32_t> open_us_for_volume(const CalibrationTable& table, double volume_ul) {
  if (volume_ul == 0.0) return 0u;
  const auto& points = table.points;
  if (points.size() < 2 || !(volume_ul >= points.front().volume_ul) || !(volume_ul <= points.back().volume_ul)) {
    return std::nullopt;
  }
  const auto upper = std::lower_bound(points.begin(), points.end(), volume_ul,
                                      [](const CalibrationPoint& p, double v) { return p.volume_ul < v; });
  if (upper == points.begin()) return points.front().open_us;
  const auto lower = upper - 1;
  const double open_us = lerp(lower->volume_ul, lower->open_us, upper->volume_ul, upper->open_us, volume_ul);
  return static_cast<std::uint32_t>(std::lround(open_us));
}

double volume_for_open_us(const CalibrationTable& table, std::uint32_t open_us) {
  const auto& points = table.points;
  if (open_us == 0 || points.size() < 2) return 0.0;
  auto upper = std::lower_bound(points.begin(), points.end(), open_us,
                                [](const CalibrationPoint& p, std::uint32_t t) { return p.open_us < t; });
  // Beyond either end, extend the nearest segment.
  if (upper == points.begin()) upper = points.begin() + 1;
  if (upper == points.end()) upper = points.end() - 1;
  const auto lower = upper - 1;
  const double volume_ul = lerp(lower->open_us, lower->volume_ul, upper->open_us, upper->volume_ul, open_us);
  return std::max(0.0, volume_ul);
}

CalibrationTable fit_calibration(const std::vector<WeighedPulses>& measurements,
                                 std::chrono::year_month_day measured_on) {
  struct Sum {
    double volume_ul = 0.0;
    int count = 0;
  };
  std::map<std::uint32_t, Sum> by_open_us;
  for (const auto& m : measurements) {
    if (m.pulse_count == 0 || m.open_us == 0 || !(m.total_weight_mg > 0.0) || !std::isfinite(m.total_weight_mg)) {
      throw std::invalid_argument("calibration measurement at " + std::to_string(m.open_us) +
                                  " us: needs a positive open time, at least one pulse and a positive weight");
    }
    auto& sum = by_open_us[m.open_us];
    sum.volume_ul += m.total_weight_mg / m.pulse_count;
    ++sum.count;
  }
  CalibrationTable table;
  table.calibrated_on = measured_on;
  for (const auto& [open_us, sum] : by_open_us) {
    table.points.push_back(CalibrationPoint{open_us, sum.volume_ul / sum.count});
  }
  if (const auto problem = check_table(table)) {
    throw std::invalid_argument("calibration measurements do not give a usable table: " + problem->message +
                                "; re-measure");
  }
  return table;
}

int calibration_age_days(const CalibrationTable& table, std::chrono::year_month_day today) {
  const auto age = std::chrono::sys_days(today) - std::chrono::sys_days(table.calibrated_on);
  return static_cast<int>(age.count());
}

bool calibration_is_stale(const CalibrationTable& table, std::chrono::year_month_day today, int max_age_days) {
  return calibration_age_days(table, today) > max_age_days;
}

std::optional<std::chrono::year_month_day> parse_date(const std::string& text) {
  int year = 0;
  unsigned month = 0;
  unsigned day = 0;
  int consumed = 0;
  if (text.size() != 10 || std::sscanf(text.c_str(), "%4d-%2u-%2u%n", &year, &month, &day, &consumed) != 3 ||
      consumed != 10) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(month), std::chrono::day(day)};
  if (!date.ok()) return std::nullopt;
  return date;
}

std::string format_date(std::chrono::year_month_day date) {
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return text;
}

}  // namespace rig::task
