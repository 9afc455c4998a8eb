#include "host/task/compatibility.hpp"

#include <filesystem>
#include <limits>


namespace rig::task {
namespace {

constexpr std::int64_t kMaxTicks = std::numeric_limits<std::uint16_t>::max();

SourceLocation location_of(const Protocol& protocol, const std::string& path) {
  const auto it = protocol.locations.find(path);
  return it != protocol.locations.end() ? it->second : SourceLocation{protocol.source_file, 1, 1};
}

void check_volume(const Protocol& protocol, const RigConfig& rig, const std::string& path, double volume_ul,
                  std::vector<Diagnostic>& out) {
  for (const auto valve : {wire::Valve::kCherry, wire::Valve::kGrape}) {
    const auto& points = rig.table(valve).points;
    if (open_us_for_volume(rig.table(valve), volume_ul)) continue;
    out.push_back({location_of(protocol, path),
                   path + ": " + format_number(volume_ul) + " uL is outside valve " + flavour_name(valve) +
                       "'s calibrated range [" + format_number(points.front().volume_ul) + ", " +
                       format_number(points.back().volume_ul) + "] uL in " + rig.source_file});
  }
}

}  // namespace

std::vector<Diagnostic> check_compatibility(const Protocol& protocol, const RigConfig& rig) {
  std::vector<Diagnostic> out;
  if (protocol.trial.threshold_deg) {
    const auto ticks = degrees_to_ticks(*protocol.trial.threshold_deg, rig.ticks_per_rev);
    if (ticks < 1 || ticks > kMaxTicks) {
      out.push_back({location_of(protocol, "trial.threshold_deg"),
                     "trial.threshold_deg: " + format_number(*protocol.trial.threshold_deg) + " deg is " +
                         std::to_string(ticks) + " ticks on this wheel (" + std::to_string(rig.ticks_per_rev) +
                         " ticks per revolution in " + rig.source_file + "); the encoder can express 1 to 65535"});
    }
  }
  const auto tolerance_ticks = degrees_to_ticks(protocol.trial.quiescence_tolerance_deg, rig.ticks_per_rev);
  if (tolerance_ticks > kMaxTicks) {
    out.push_back({location_of(protocol, "trial.quiescence_tolerance_deg"),
                   "trial.quiescence_tolerance_deg: " + std::to_string(tolerance_ticks) +
                       " ticks on this wheel; the encoder can express 0 to 65535"});
  }
  if (!rig.cues.contains(protocol.trial.go_cue)) {
    std::string names;
    for (const auto& [name, id] : rig.cues) names += (names.empty() ? "" : ", ") + name;
    out.push_back({location_of(protocol, "trial.go_cue"), "trial.go_cue: the rig has no cue output named " +
                                                               protocol.trial.go_cue + "; it has: " + names});
  }
  check_volume(protocol, rig, "rewards.controllable_volume_ul", protocol.rewards.controllable_volume_ul, out);
  check_volume(protocol, rig, "rewards.distractor_volume_ul", protocol.rewards.distractor_volume_ul, out);
  return out;
}

WheelTicks wheel_ticks(const Protocol& protocol, const RigConfig& rig) {
  const double threshold_deg = protocol.trial.threshold_deg.value_or(rig.threshold_deg);
  return WheelTicks{
      static_cast<std::uint16_t>(degrees_to_ticks(threshold_deg, rig.ticks_per_rev)),
      static_cast<std::uint16_t>(degrees_to_ticks(protocol.trial.quiescence_tolerance_deg, rig.ticks_per_rev))};
}

std::string resolve_relative(const std::string& referring_file, const std::string& reference) {
  const std::filesystem::path target(reference);
  if (target.is_absolute()) return target.string();
  return (std::filesystem::path(referring_file).parent_path() / target).lexically_normal().string();
}

}  // namespace rig::task
