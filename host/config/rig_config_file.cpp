#include "host/config/rig_config_file.hpp"

#include <cmath>
#include <limits>

#include "host/config/yaml_reader.hpp"

namespace rig::config {

// The task's types, which these files describe.
using namespace rig::task;
namespace {

using yaml::MapReader;
using yaml::Need;

constexpr std::int64_t kMaxThresholdTicks = std::numeric_limits<std::uint16_t>::max();

void read_calibration(MapReader& valve, CalibrationTable& table) {
  std::string date_text;
  if (valve.text("calibrated_on", date_text, Need::kRequired)) {
    if (const auto date = parse_date(date_text)) {
      table.calibrated_on = *date;
    } else {
      valve.sink().error(valve.location("calibrated_on"),
                         valve.path("calibrated_on") + ": expected a date YYYY-MM-DD, got " + date_text);
    }
  }
  const auto items = valve.list("points", Need::kRequired);
  if (!items) return;
  std::vector<MapReader> point_readers;
  bool points_ok = true;
  for (std::size_t i = 0; i < items->size(); ++i) {
    MapReader& point = point_readers.emplace_back(valve.sink(), (*items)[i],
                                                  valve.path("points") + "[" + std::to_string(i) + "]",
                                                  std::vector<std::string_view>{"open_us", "volume_ul"});
    std::int64_t open_us = 0;
    CalibrationPoint p;
    points_ok &= point.integer("open_us", open_us, 1, std::numeric_limits<std::uint32_t>::max(),
                               "a whole number of microseconds >= 1", Need::kRequired);
    points_ok &= point.number("volume_ul", p.volume_ul, {0.0, 1000.0, true, false, "a volume in uL in (0, 1000]"},
                              Need::kRequired);
    p.open_us = static_cast<std::uint32_t>(open_us);
    table.points.push_back(p);
  }
  // Monotonicity is judged only on a table whose points all read, so one typo does not cascade.
  if (!points_ok) return;
  if (const auto problem = check_table(table)) {
    if (problem->index) {
      const MapReader& point = point_readers[*problem->index];
      valve.sink().error(point.location(problem->field), point.path(problem->field) + ": " + problem->message);
    } else {
      valve.sink().error(valve.location("points"), valve.path("points") + ": " + problem->message);
    }
  }
}

// An optional device limit in [min, max] (what the firmware accepts without clamping); `out` keeps its default
// when the key is absent.
template <class T>
void read_limit(MapReader& map, std::string_view key, T& out, std::int64_t min, std::int64_t max, std::string_view unit) {
  std::int64_t value = out;
  const std::string expected = std::string(unit) + " in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  if (map.integer(key, value, min, max, expected)) out = static_cast<T>(value);
}

RigConfig read_rig_config(yaml::Sink& sink, const YAML::Node& document) {
  RigConfig config;
  MapReader root(sink, document, "", {"rig", "device", "wheel", "cues", "valves", "calibration_max_age_days", "files"});
  if (auto rig = root.mapping("rig", {"id"}, Need::kRequired)) rig->text("id", config.id, Need::kRequired);
  auto& policy = config.device_policy;
  if (auto device = root.mapping("device", {"kind", "port", "heartbeat_timeout_ms", "max_open_us", "max_open_us_per_s"},
                                 Need::kRequired)) {
    device->choice("kind", config.device_kind, kDeviceKindNames, Need::kRequired);
    device->text("port", config.port, config.device_kind == DeviceKind::kSerial ? Need::kRequired : Need::kOptional);
    read_limit(*device, "heartbeat_timeout_ms", policy.heartbeat_timeout_ms, wire::kMinHeartbeatTimeoutMs,
               wire::kMaxHeartbeatTimeoutMs, "milliseconds");
    read_limit(*device, "max_open_us", policy.max_open_us, 1, wire::kHardMaxOpenUs, "microseconds per pulse");
    read_limit(*device, "max_open_us_per_s", policy.max_open_us_per_s, 1, wire::kHardMaxOpenUsPerS,
               "microseconds of one valve per second");
  }
  if (auto wheel = root.mapping("wheel", {"ticks_per_rev", "threshold_deg", "sample_period_us", "samples_per_batch"},
                                Need::kRequired)) {
    read_limit(*wheel, "sample_period_us", policy.wheel_period_us, wire::kMinWheelPeriodUs, 65535, "microseconds");
    read_limit(*wheel, "samples_per_batch", policy.wheel_samples_per_batch, 1, wire::kWheelBatchMax, "samples");
    const std::string expected_ticks = "a multiple of 4 in [4, 65532] (ticks after 4x decoding)";
    bool ticks_ok = wheel->integer("ticks_per_rev", config.ticks_per_rev, 4, 65532, expected_ticks, Need::kRequired);
    if (ticks_ok && config.ticks_per_rev % 4 != 0) {
      sink.error(wheel->location("ticks_per_rev"), wheel->path("ticks_per_rev") + ": expected " + expected_ticks +
                                                       ", got " + std::to_string(config.ticks_per_rev));
      ticks_ok = false;
    }
    if (wheel->number("threshold_deg", config.threshold_deg, {0.0, 360.0, true, false, "an angle in degrees in (0, 360]"},
                      Need::kRequired) &&
        ticks_ok) {
      const auto ticks = degrees_to_ticks(config.threshold_deg, config.ticks_per_rev);
      if (ticks < 1 || ticks > kMaxThresholdTicks) {
        sink.error(wheel->location("threshold_deg"),
                   wheel->path("threshold_deg") + ": " + yaml::format_number(config.threshold_deg) + " deg is " +
                       std::to_string(ticks) + " encoder ticks; the encoder can express 1 to 65535");
      }
    }
  }
  if (auto cues = root.raw("cues")) {
    if (!cues->IsMap() || cues->size() == 0) {
      sink.error(root.location("cues"), "cues: expected a mapping of cue names to output ids, got " + yaml::describe(*cues));
    } else {
      std::vector<std::string> names;
      for (const auto& entry : *cues) names.push_back(entry.first.Scalar());
      MapReader cue_map(sink, *cues, "cues", std::vector<std::string_view>(names.begin(), names.end()));
      for (const auto& name : names) {
        std::int64_t id = 0;
        if (cue_map.integer(name, id, 0, 255, "a cue output id in [0, 255]")) {
          config.cues[name] = static_cast<std::uint8_t>(id);
        }
      }
    }
  } else {
    sink.error(root.self_location(), "cues: missing required field (expected a mapping of cue names to output ids)");
  }
  if (auto valves = root.mapping("valves", {"cherry", "grape"}, Need::kRequired)) {
    for (const auto valve : {wire::Valve::kCherry, wire::Valve::kGrape}) {
      if (auto entry = valves->mapping(flavour_name(valve), {"calibrated_on", "points"}, Need::kRequired)) {
        read_calibration(*entry, config.calibration[static_cast<std::size_t>(valve)]);
      }
    }
  }
  std::int64_t max_age_days = config.calibration_max_age_days;
  root.integer("calibration_max_age_days", max_age_days, 0, 3650, "a whole number of days in [0, 3650]");
  config.calibration_max_age_days = static_cast<int>(max_age_days);
  if (auto files = root.mapping("files", {"protocol_dirs", "max_file_bytes"})) {
    if (auto dirs = files->list("protocol_dirs")) {
      for (const auto& dir : *dirs) {
        if (!dir.IsScalar() || dir.Scalar().empty()) {
          sink.error(dir.Mark(), files->path("protocol_dirs") + ": expected a directory path, got " + yaml::describe(dir));
          continue;
        }
        config.protocol_dirs.push_back(dir.Scalar());
      }
    }
    read_limit(*files, "max_file_bytes", config.max_file_bytes, 1024, std::int64_t{1} << 30, "bytes");
  }
  return config;
}

}  // namespace

Loaded<RigConfig> load_rig_config_file(const std::string& path) {
  return yaml::load_file<RigConfig>(path, read_rig_config);
}

Loaded<RigConfig> parse_rig_config(const std::string& text, const std::string& file_name) {
  return yaml::load_text<RigConfig>(text, file_name, read_rig_config);
}

}  // namespace rig::config
