#include "host/task/rig_config.hpp"

#include <cmath>

namespace rig::task {

std::int64_t degrees_to_ticks(double angle_deg, std::int64_t ticks_per_rev) {
  return std::llround(angle_deg * static_cast<double>(ticks_per_rev) / 360.0);
}

std::vector<std::string> stale_calibration_warnings(const RigConfig& rig, std::chrono::year_month_day today) {
  std::vector<std::string> warnings;
  for (const auto valve : {wire::Valve::kCherry, wire::Valve::kGrape}) {
    const auto& table = rig.table(valve);
    if (!calibration_is_stale(table, today, rig.calibration_max_age_days)) continue;
    warnings.push_back(std::string("valve ") + flavour_name(valve) + ": calibration of " +
                       format_date(table.calibrated_on) + " is " + std::to_string(calibration_age_days(table, today)) +
                       " days old (limit " + std::to_string(rig.calibration_max_age_days) +
                       "); run rig calibrate --valve " + flavour_name(valve));
  }
  return warnings;
}

}  // namespace rig::task
