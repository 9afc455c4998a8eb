#include "host/config/rig_config_file.hpp"

#include <cstdio>
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

// The board's signals that a recording pin must not take, and the pin each recording signal must be on.
struct BoardPin {
  std::uint8_t pin;
  const char* signal;
};
constexpr BoardPin kTakenPins[] = {{wire::kPinEncoderA, "encoder channel A"}, {wire::kPinEncoderB, "encoder channel B"},
                                   {wire::kPinValveCherry, "cherry valve"},    {wire::kPinValveGrape, "grape valve"},
                                   {wire::kPinCue, "go cue"}};

// Reads `key` as a board pin for `signal`, which this firmware has on `board_pin` only (the timer unit that
// times it, named by `unit`). Refuses another signal's pin and any other pin, with the reason.
void read_pin(MapReader& map, std::string_view key, std::uint8_t& out, std::uint8_t board_pin, std::string_view signal,
              std::string_view unit) {
  std::int64_t pin = out;
  if (!map.integer(key, pin, 0, 69, "an Arduino Mega board pin number")) return;
  for (const BoardPin& taken : kTakenPins) {
    if (pin == taken.pin) {
      map.sink().error(map.location(key), map.path(key) + ": pin " + std::to_string(pin) + " is the " + taken.signal +
                                              "'s; the " + std::string(signal) + " is on pin " +
                                              std::to_string(board_pin) + " (" + std::string(unit) + ")");
      return;
    }
  }
  if (pin != board_pin) {
    map.sink().error(map.location(key), map.path(key) + ": the firmware times the " + std::string(signal) +
                                            " with " + std::string(unit) + ", on pin " + std::to_string(board_pin) +
                                            "; it cannot use pin " + std::to_string(pin));
    return;
  }
  out = static_cast<std::uint8_t>(pin);
}

// A duration in milliseconds (decimals allowed) within [min_us, max_us], into microseconds.
bool read_ms(MapReader& map, std::string_view key, std::uint32_t& out_us, std::uint32_t min_us, std::uint32_t max_us) {
  double ms = out_us / 1000.0;
  const std::string expected = "milliseconds in [" + yaml::format_number(min_us / 1000.0) + ", " +
                               yaml::format_number(max_us / 1000.0) + "]";
  if (!map.number(key, ms, {min_us / 1000.0, max_us / 1000.0, false, false, expected})) return false;
  out_us = static_cast<std::uint32_t>(std::lround(ms * 1000.0));
  return true;
}

void read_recording(yaml::Sink& sink, MapReader& root, RigConfig& config) {
  if (auto sync = root.mapping("sync", {"enabled", "pin", "min_interval_ms", "max_interval_ms", "width_ms"})) {
    auto& s = config.sync;
    sync->boolean("enabled", s.enabled);
    read_pin(*sync, "pin", s.pin, wire::kPinSync, "sync output", "Timer4's compare unit A");
    read_ms(*sync, "min_interval_ms", s.min_interval_us, wire::kMinSyncIntervalUs, wire::kMaxSyncIntervalUs);
    const bool max_ok = read_ms(*sync, "max_interval_ms", s.max_interval_us, wire::kMinSyncIntervalUs, wire::kMaxSyncIntervalUs);
    const bool width_ok = read_ms(*sync, "width_ms", s.width_us, wire::kMinPulseWidthUs, wire::kMaxPulseWidthUs);
    if (s.min_interval_us > s.max_interval_us) {
      sink.error(sync->location(max_ok ? "max_interval_ms" : "min_interval_ms"),
                 sync->path("max_interval_ms") + ": the longest interval (" + yaml::format_number(s.max_interval_us / 1000.0) +
                     " ms) is shorter than the shortest (" + yaml::format_number(s.min_interval_us / 1000.0) + " ms)");
    } else if (!wire::pulse_leaves_gap(s.width_us, s.min_interval_us)) {
      sink.error(sync->location(width_ok ? "width_ms" : "min_interval_ms"),
                 sync->path("width_ms") + ": a pulse of " + yaml::format_number(s.width_us / 1000.0) +
                     " ms must end at least 0.5 ms before the next (shortest interval " +
                     yaml::format_number(s.min_interval_us / 1000.0) + " ms)");
    }
  }
  if (auto camera = root.mapping("camera", {"enabled", "pin", "rate_hz", "width_ms"})) {
    auto& c = config.camera;
    camera->boolean("enabled", c.enabled);
    read_pin(*camera, "pin", c.pin, wire::kPinCamera, "camera trigger", "Timer5's compare unit A");
    const bool rate_ok = camera->number("rate_hz", c.rate_hz, {1.0, 200.0, false, false, "frames per second in [1, 200]"});
    const bool width_ok = read_ms(*camera, "width_ms", c.width_us, wire::kMinPulseWidthUs, wire::kMaxPulseWidthUs);
    if (rate_ok && width_ok && c.width_us + wire::kMinPulseGapUs > 1e6 / c.rate_hz) {
      sink.error(camera->location("width_ms"), camera->path("width_ms") + ": a trigger of " +
                                                   yaml::format_number(c.width_us / 1000.0) + " ms does not fit a frame period of " +
                                                   yaml::format_number(1000.0 / c.rate_hz) + " ms (with 0.5 ms low)");
    }
  }
  if (auto licks = root.mapping("licks", {"enabled", "pins", "debounce_ms", "consumed_window_ms"})) {
    auto& l = config.licks;
    licks->boolean("enabled", l.enabled);
    if (auto pins = licks->mapping("pins", {"cherry", "grape"})) {
      read_pin(*pins, "cherry", l.pins[0], wire::kPinLickCherry, "cherry lick input", "Timer4's input capture");
      read_pin(*pins, "grape", l.pins[1], wire::kPinLickGrape, "grape lick input", "Timer5's input capture");
    }
    std::uint32_t debounce_us = l.debounce_us;
    if (read_ms(*licks, "debounce_ms", debounce_us, wire::kMinDebounceUs, wire::kMaxDebounceUs)) {
      l.debounce_us = static_cast<std::uint16_t>(debounce_us);
    }
    read_ms(*licks, "consumed_window_ms", l.consumed_window_us, 10000, 60000000);
  }
}

void read_alerts(yaml::Sink& sink, MapReader& root, RigConfig& config) {
  auto alerts = root.mapping("alerts", {"webhook_url", "device_lost_s", "disengaged_trials", "idle_minutes",
                                        "overrun_minutes", "welfare_check_at"});
  if (!alerts) return;
  auto& a = config.alerts;
  if (alerts->text("webhook_url", a.webhook_url) && !a.webhook_url.starts_with("http://") &&
      !a.webhook_url.starts_with("https://")) {
    sink.error(alerts->location("webhook_url"),
               alerts->path("webhook_url") + ": expected an http:// or https:// URL, got '" + a.webhook_url + "'");
  }
  alerts->number("device_lost_s", a.device_lost_s, {0.5, 3600.0, false, false, "seconds in [0.5, 3600]"});
  alerts->integer("disengaged_trials", a.disengaged_trials, 2, 10000, "a number of trials in [2, 10000]");
  alerts->number("idle_minutes", a.idle_minutes, {0.1, 1440.0, false, false, "minutes in [0.1, 1440]"});
  alerts->number("overrun_minutes", a.overrun_minutes, {0.0, 1440.0, false, false, "minutes in [0, 1440]"});
  std::string at;
  if (alerts->text("welfare_check_at", at)) {
    int hours = -1, minutes = -1;
    char extra = 0;
    if (std::sscanf(at.c_str(), "%d:%d%c", &hours, &minutes, &extra) == 2 && hours >= 0 && hours < 24 && minutes >= 0 &&
        minutes < 60 && at.size() == 5) {
      a.welfare_check_minute = hours * 60 + minutes;
    } else {
      sink.error(alerts->location("welfare_check_at"),
                 alerts->path("welfare_check_at") + ": expected a local time \"HH:MM\" (e.g. \"17:00\"), got '" + at + "'");
    }
  }
}

void read_lab(MapReader& root, RigConfig& config) {
  auto lab = root.mapping("lab", {"url", "push_interval_s", "timeout_s"});
  if (!lab) return;
  lab->text("url", config.lab.url, Need::kRequired);
  lab->number("push_interval_s", config.lab.push_interval_s, {0.2, 3600.0, false, false, "seconds in [0.2, 3600]"});
  lab->number("timeout_s", config.lab.timeout_s, {1.0, 3600.0, false, false, "seconds in [1, 3600]"});
}

RigConfig read_rig_config(yaml::Sink& sink, const YAML::Node& document) {
  RigConfig config;
  MapReader root(sink, document, "",
                 {"rig", "device", "wheel", "cues", "valves", "calibration_max_age_days", "files", "sync", "camera", "licks",
                  "alerts", "lab"});
  if (auto rig = root.mapping("rig", {"id", "lab", "institution"}, Need::kRequired)) {
    rig->text("id", config.id, Need::kRequired);
    rig->text("lab", config.lab_name, Need::kOptional);
    rig->text("institution", config.institution, Need::kOptional);
  }
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
  read_recording(sink, root, config);
  read_alerts(sink, root, config);
  read_lab(root, config);
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
