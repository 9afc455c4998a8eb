#include "host/config/rig_config_file.hpp"

#include <cstdio>
#include <cmath>
#include <limits>

#include "host/config/yaml_reader.hpp"

namespace rig::config {

// The task's types, which these files describe.
using namespace rig::task;
namespace {

using yaml::Field;
using yaml::FieldKind;
using yaml::MapReader;
using yaml::Need;
using yaml::NumberRule;
using yaml::Shape;

constexpr std::int64_t kMaxThresholdTicks = std::numeric_limits<std::uint16_t>::max();

// A range in whole units, worded by the field's unit.
constexpr NumberRule range(double min, double max) { return NumberRule{min, max, false, false, ""}; }
// A range of microseconds given in milliseconds (decimals allowed).
constexpr NumberRule ms_range(std::uint32_t min_us, std::uint32_t max_us) { return range(min_us / 1000.0, max_us / 1000.0); }

constexpr NumberRule kBoardPin{0.0, 69.0, false, false, "an Arduino Mega board pin number"};

// The field tables of a rig config file: what the loader reads and what `rig schema rig` writes.
constexpr Field kRigFields[] = {
    {.key = "id", .kind = FieldKind::kText, .need = Need::kRequired,
     .doc = "The rig's name in session records, the lab database and alerts."},
    {.key = "lab", .kind = FieldKind::kText, .doc = "The lab's name (NWB's general/lab)."},
    {.key = "institution", .kind = FieldKind::kText, .doc = "The institution (NWB's general/institution)."},
};
constexpr Shape kRigShape{kRigFields};

constexpr auto kDeviceKinds = yaml::names_of(kDeviceKindNames);
constexpr std::string_view kSerialKind[] = {"serial"};
constexpr Field kDeviceFields[] = {
    {.key = "kind", .kind = FieldKind::kChoice, .need = Need::kRequired,
     .doc = "sim: the virtual board (rig-vmcu: the firmware core on a simulated board); serial: the board on "
            "device.port; simavr: the firmware's AVR image in simavr (rig-simavr).",
     .choices = kDeviceKinds},
    {.key = "port", .kind = FieldKind::kText, .doc = "The board's serial port (/dev/rig-mega with the udev rule).",
     .required_when = kSerialKind},
    {.key = "heartbeat_timeout_ms", .kind = FieldKind::kInteger,
     .rule = range(wire::kMinHeartbeatTimeoutMs, wire::kMaxHeartbeatTimeoutMs), .unit = "milliseconds",
     .doc = "The board closes its valves when the host is silent this long."},
    {.key = "max_open_us", .kind = FieldKind::kInteger, .rule = range(1, wire::kHardMaxOpenUs),
     .unit = "microseconds per pulse", .doc = "The longest valve pulse the board accepts."},
    {.key = "max_open_us_per_s", .kind = FieldKind::kInteger, .rule = range(1, wire::kHardMaxOpenUsPerS),
     .unit = "microseconds of one valve per second", .doc = "The most open time of one valve in any second."},
};
constexpr Shape kDeviceShape{kDeviceFields, "kind"};

constexpr Field kWheelFields[] = {
    {.key = "ticks_per_rev", .kind = FieldKind::kInteger,
     .rule = {4.0, 65532.0, false, false, "a multiple of 4 in [4, 65532] (ticks after 4x decoding)"},
     .need = Need::kRequired, .doc = "Encoder ticks per revolution after 4x decoding.", .multiple_of = 4},
    {.key = "threshold_deg", .kind = FieldKind::kNumber,
     .rule = {0.0, 360.0, true, false, "an angle in degrees in (0, 360]"}, .need = Need::kRequired,
     .doc = "Wheel rotation that counts as a choice, unless the protocol sets its own."},
    {.key = "sample_period_us", .kind = FieldKind::kInteger, .rule = range(wire::kMinWheelPeriodUs, 65535),
     .unit = "microseconds", .doc = "How often the board samples the wheel."},
    {.key = "samples_per_batch", .kind = FieldKind::kInteger, .rule = range(1, wire::kWheelBatchMax),
     .unit = "samples", .doc = "Wheel samples per message."},
};
constexpr Shape kWheelShape{kWheelFields};

constexpr Field kPointFields[] = {
    {.key = "open_us", .kind = FieldKind::kInteger,
     .rule = {1.0, std::numeric_limits<std::uint32_t>::max(), false, false, "a whole number of microseconds >= 1"},
     .need = Need::kRequired, .doc = "Valve opening time."},
    {.key = "volume_ul", .kind = FieldKind::kNumber, .rule = {0.0, 1000.0, true, false, "a volume in uL in (0, 1000]"},
     .need = Need::kRequired, .doc = "Volume delivered by one opening of open_us."},
};
constexpr Shape kPointShape{kPointFields};
constexpr Field kCalibrationFields[] = {
    {.key = "calibrated_on", .kind = FieldKind::kDate, .rule = {.expected = "a date YYYY-MM-DD"},
     .need = Need::kRequired, .doc = "The day of the calibration (rig calibrate writes it)."},
    {.key = "points", .kind = FieldKind::kMappingList,
     .rule = {.expected = "a calibration table of at least two points"}, .need = Need::kRequired,
     .doc = "Measured points, volume strictly increasing with open_us.", .shape = &kPointShape, .min_items = 2},
};
constexpr Shape kCalibrationShape{kCalibrationFields};
constexpr auto kFlavours = yaml::names_of(kFlavourNames);
constexpr Field kValveFields[] = {
    {.key = kFlavours[0], .kind = FieldKind::kMapping, .need = Need::kRequired, .doc = "The cherry valve's calibration.",
     .shape = &kCalibrationShape},
    {.key = kFlavours[1], .kind = FieldKind::kMapping, .need = Need::kRequired, .doc = "The grape valve's calibration.",
     .shape = &kCalibrationShape},
};
constexpr Shape kValveShape{kValveFields};

constexpr Field kFileFields[] = {
    {.key = "protocol_dirs", .kind = FieldKind::kTextList, .rule = {.expected = "a directory path"},
     .doc = "Where rig run and rigd look for protocols named without a path, relative to this file."},
    {.key = "max_file_bytes", .kind = FieldKind::kInteger, .rule = range(1024, std::int64_t{1} << 30), .unit = "bytes",
     .doc = "Protocols and subjects files larger than this are refused."},
};
constexpr Shape kFileShape{kFileFields};

constexpr Field kSyncFields[] = {
    {.key = "enabled", .kind = FieldKind::kBoolean, .doc = "Send sync pulses for aligning to a recording."},
    {.key = "pin", .kind = FieldKind::kInteger, .rule = kBoardPin, .doc = "The sync output (Timer4's compare unit A).",
     .only = wire::kPinSync},
    {.key = "min_interval_ms", .kind = FieldKind::kNumber, .rule = ms_range(wire::kMinSyncIntervalUs, wire::kMaxSyncIntervalUs),
     .unit = "milliseconds", .doc = "Shortest interval between pulses (intervals are drawn at random)."},
    {.key = "max_interval_ms", .kind = FieldKind::kNumber, .rule = ms_range(wire::kMinSyncIntervalUs, wire::kMaxSyncIntervalUs),
     .unit = "milliseconds", .doc = "Longest interval between pulses."},
    {.key = "width_ms", .kind = FieldKind::kNumber, .rule = ms_range(wire::kMinPulseWidthUs, wire::kMaxPulseWidthUs),
     .unit = "milliseconds", .doc = "Pulse width."},
};
constexpr Shape kSyncShape{kSyncFields};
constexpr Field kCameraFields[] = {
    {.key = "enabled", .kind = FieldKind::kBoolean, .doc = "Trigger a camera's frames."},
    {.key = "pin", .kind = FieldKind::kInteger, .rule = kBoardPin,
     .doc = "The camera trigger (Timer5's compare unit A).", .only = wire::kPinCamera},
    {.key = "rate_hz", .kind = FieldKind::kNumber, .rule = {1.0, 200.0, false, false, "frames per second in [1, 200]"},
     .doc = "Frames per second."},
    {.key = "width_ms", .kind = FieldKind::kNumber, .rule = ms_range(wire::kMinPulseWidthUs, wire::kMaxPulseWidthUs),
     .unit = "milliseconds", .doc = "Trigger pulse width."},
};
constexpr Shape kCameraShape{kCameraFields};
constexpr Field kLickPinFields[] = {
    {.key = kFlavours[0], .kind = FieldKind::kInteger, .rule = kBoardPin,
     .doc = "The cherry spout's lick input (Timer4's input capture).", .only = wire::kPinLickCherry},
    {.key = kFlavours[1], .kind = FieldKind::kInteger, .rule = kBoardPin,
     .doc = "The grape spout's lick input (Timer5's input capture).", .only = wire::kPinLickGrape},
};
constexpr Shape kLickPinShape{kLickPinFields};
constexpr Field kLickFields[] = {
    {.key = "enabled", .kind = FieldKind::kBoolean, .doc = "Record licks on both spouts."},
    {.key = "pins", .kind = FieldKind::kMapping, .doc = "The lick inputs.", .shape = &kLickPinShape},
    {.key = "debounce_ms", .kind = FieldKind::kNumber, .rule = ms_range(wire::kMinDebounceUs, wire::kMaxDebounceUs),
     .unit = "milliseconds", .doc = "Edges closer than this to the last are ignored."},
    {.key = "consumed_window_ms", .kind = FieldKind::kNumber, .rule = ms_range(10000, 60000000), .unit = "milliseconds",
     .doc = "A delivery counts as consumed with a lick on its spout within this."},
};
constexpr Shape kLickShape{kLickFields};

constexpr Field kAlertFields[] = {
    {.key = "webhook_url", .kind = FieldKind::kText, .rule = {.expected = "an http:// or https:// URL"},
     .doc = "Where alerts are posted (Slack, Teams, ntfy, ...); left out, alerts are logged, stored and shown only.",
     .pattern = "^https?://"},
    {.key = "device_lost_s", .kind = FieldKind::kNumber, .rule = {0.5, 3600.0, false, false, "seconds in [0.5, 3600]"},
     .doc = "Alert when the board is away longer than this."},
    {.key = "disengaged_trials", .kind = FieldKind::kInteger,
     .rule = {2.0, 10000.0, false, false, "a number of trials in [2, 10000]"},
     .doc = "Alert after this many trials in a row without a choice."},
    {.key = "idle_minutes", .kind = FieldKind::kNumber, .rule = {0.1, 1440.0, false, false, "minutes in [0.1, 1440]"},
     .doc = "Alert when no trial has completed for this long."},
    {.key = "overrun_minutes", .kind = FieldKind::kNumber, .rule = {0.0, 1440.0, false, false, "minutes in [0, 1440]"},
     .doc = "Alert when a session runs this long past its protocol's max_minutes."},
    {.key = "welfare_check_at", .kind = FieldKind::kText,
     .rule = {.expected = "a local time \"HH:MM\" (e.g. \"17:00\")"},
     .doc = "rigd: the local time of the daily welfare check.", .pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
};
constexpr Shape kAlertShape{kAlertFields};
constexpr Field kLabFields[] = {
    {.key = "url", .kind = FieldKind::kText, .need = Need::kRequired,
     .doc = "The lab database: a libpq URL or connection string (no password: use ~/.pgpass)."},
    {.key = "push_interval_s", .kind = FieldKind::kNumber, .rule = {0.2, 3600.0, false, false, "seconds in [0.2, 3600]"},
     .doc = "rigd pushes what is new this often."},
    {.key = "timeout_s", .kind = FieldKind::kNumber, .rule = {1.0, 3600.0, false, false, "seconds in [1, 3600]"},
     .doc = "A statement the lab has not answered in this long fails; the push reconnects."},
};
constexpr Shape kLabShape{kLabFields};

constexpr Field kRigConfigFields[] = {
    {.key = "rig", .kind = FieldKind::kMapping, .need = Need::kRequired, .doc = "Who this rig is.", .shape = &kRigShape},
    {.key = "device", .kind = FieldKind::kMapping, .need = Need::kRequired, .doc = "The board and its safety limits.",
     .shape = &kDeviceShape},
    {.key = "wheel", .kind = FieldKind::kMapping, .need = Need::kRequired, .doc = "The wheel's encoder.",
     .shape = &kWheelShape},
    {.key = "cues", .kind = FieldKind::kNamedIntegers, .rule = {0.0, 255.0, false, false, "a cue output id in [0, 255]"},
     .need = Need::kRequired, .doc = "A mapping of cue names to output ids."},
    {.key = "valves", .kind = FieldKind::kMapping, .need = Need::kRequired, .doc = "Each valve's calibration.",
     .shape = &kValveShape},
    {.key = "calibration_max_age_days", .kind = FieldKind::kInteger,
     .rule = {0.0, 3650.0, false, false, "a whole number of days in [0, 3650]"},
     .doc = "A calibration older than this is refused (0: never)."},
    {.key = "files", .kind = FieldKind::kMapping, .doc = "Where protocols are found.", .shape = &kFileShape},
    {.key = "sync", .kind = FieldKind::kMapping, .doc = "The sync output for aligning to a recording.",
     .shape = &kSyncShape},
    {.key = "camera", .kind = FieldKind::kMapping, .doc = "The camera trigger.", .shape = &kCameraShape},
    {.key = "licks", .kind = FieldKind::kMapping, .doc = "The lick sensors.", .shape = &kLickShape},
    {.key = "alerts", .kind = FieldKind::kMapping, .doc = "When the rig speaks up, and where it posts.",
     .shape = &kAlertShape},
    {.key = "lab", .kind = FieldKind::kMapping, .doc = "The lab database this rig pushes to.", .shape = &kLabShape},
};
constexpr Shape kRigConfigShape{kRigConfigFields};

void read_calibration(MapReader& valve, CalibrationTable& table) {
  valve.read("calibrated_on", table.calibrated_on);
  auto points = valve.mapping_list("points");
  if (!points) return;
  bool points_ok = true;
  for (MapReader& point : *points) {
    std::int64_t open_us = 0;
    CalibrationPoint p;
    points_ok &= point.read("open_us", open_us);
    points_ok &= point.read("volume_ul", p.volume_ul);
    p.open_us = static_cast<std::uint32_t>(open_us);
    table.points.push_back(p);
  }
  // Monotonicity is judged only on a table whose points all read, so one typo does not cascade.
  if (!points_ok || points->size() != table.points.size()) return;
  if (const auto problem = check_table(table)) {
    if (problem->index) {
      const MapReader& point = (*points)[*problem->index];
      valve.sink().error(point.location(problem->field), point.path(problem->field) + ": " + problem->message);
    } else {
      valve.sink().error(valve.location("points"), valve.path("points") + ": " + problem->message);
    }
  }
}

// An optional whole number whose field gives its range; `out` keeps its default when the key is absent.
template <class T>
void read_limit(MapReader& map, std::string_view key, T& out) {
  std::int64_t value = out;
  if (map.read(key, value)) out = static_cast<T>(value);
}

// The board's signals that a recording pin must not take.
struct BoardPin {
  std::uint8_t pin;
  const char* signal;
};
constexpr BoardPin kTakenPins[] = {{wire::kPinEncoderA, "encoder channel A"}, {wire::kPinEncoderB, "encoder channel B"},
                                   {wire::kPinValveCherry, "cherry valve"},    {wire::kPinValveGrape, "grape valve"},
                                   {wire::kPinCue, "go cue"}};

// Reads `key` as the board pin of `signal`, which this firmware has on the field's `only` pin alone (the timer
// unit that times it, named by `unit`). Refuses another signal's pin and any other pin, with the reason.
void read_pin(MapReader& map, std::string_view key, std::uint8_t& out, std::string_view signal, std::string_view unit) {
  const std::int64_t board_pin = *map.field(key).only;
  std::int64_t pin = out;
  if (!map.read(key, pin)) return;
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

// A duration in milliseconds (decimals allowed, range from the field), into microseconds.
bool read_ms(MapReader& map, std::string_view key, std::uint32_t& out_us) {
  double ms = out_us / 1000.0;
  if (!map.read(key, ms)) return false;
  out_us = static_cast<std::uint32_t>(std::lround(ms * 1000.0));
  return true;
}

void read_recording(yaml::Sink& sink, MapReader& root, RigConfig& config) {
  if (auto sync = root.mapping("sync")) {
    auto& s = config.sync;
    sync->read("enabled", s.enabled);
    read_pin(*sync, "pin", s.pin, "sync output", "Timer4's compare unit A");
    read_ms(*sync, "min_interval_ms", s.min_interval_us);
    const bool max_ok = read_ms(*sync, "max_interval_ms", s.max_interval_us);
    const bool width_ok = read_ms(*sync, "width_ms", s.width_us);
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
  if (auto camera = root.mapping("camera")) {
    auto& c = config.camera;
    camera->read("enabled", c.enabled);
    read_pin(*camera, "pin", c.pin, "camera trigger", "Timer5's compare unit A");
    const bool rate_ok = camera->read("rate_hz", c.rate_hz);
    const bool width_ok = read_ms(*camera, "width_ms", c.width_us);
    if (rate_ok && width_ok && c.width_us + wire::kMinPulseGapUs > 1e6 / c.rate_hz) {
      sink.error(camera->location("width_ms"), camera->path("width_ms") + ": a trigger of " +
                                                   yaml::format_number(c.width_us / 1000.0) + " ms does not fit a frame period of " +
                                                   yaml::format_number(1000.0 / c.rate_hz) + " ms (with 0.5 ms low)");
    }
  }
  if (auto licks = root.mapping("licks")) {
    auto& l = config.licks;
    licks->read("enabled", l.enabled);
    if (auto pins = licks->mapping("pins")) {
      read_pin(*pins, kFlavours[0], l.pins[0], "cherry lick input", "Timer4's input capture");
      read_pin(*pins, kFlavours[1], l.pins[1], "grape lick input", "Timer5's input capture");
    }
    std::uint32_t debounce_us = l.debounce_us;
    if (read_ms(*licks, "debounce_ms", debounce_us)) l.debounce_us = static_cast<std::uint16_t>(debounce_us);
    read_ms(*licks, "consumed_window_ms", l.consumed_window_us);
  }
}

void read_alerts(MapReader& root, RigConfig& config) {
  auto alerts = root.mapping("alerts");
  if (!alerts) return;
  auto& a = config.alerts;
  alerts->read("webhook_url", a.webhook_url);
  alerts->read("device_lost_s", a.device_lost_s);
  alerts->read("disengaged_trials", a.disengaged_trials);
  alerts->read("idle_minutes", a.idle_minutes);
  alerts->read("overrun_minutes", a.overrun_minutes);
  std::string at;
  // The field's pattern has checked "HH:MM" with HH < 24 and MM < 60.
  if (alerts->read("welfare_check_at", at)) a.welfare_check_minute = std::stoi(at.substr(0, 2)) * 60 + std::stoi(at.substr(3, 2));
}

void read_lab(MapReader& root, RigConfig& config) {
  auto lab = root.mapping("lab");
  if (!lab) return;
  lab->read("url", config.lab.url);
  lab->read("push_interval_s", config.lab.push_interval_s);
  lab->read("timeout_s", config.lab.timeout_s);
}

void read_cues(yaml::Sink& sink, MapReader& root, RigConfig& config) {
  const Field& field = root.field("cues");
  const auto cues = root.raw("cues");
  if (!cues) {
    sink.error(root.self_location(), "cues: missing required field (expected a mapping of cue names to output ids)");
    return;
  }
  if (!cues->IsMap() || cues->size() == 0) {
    sink.error(root.location("cues"), "cues: expected a mapping of cue names to output ids, got " + yaml::describe(*cues));
    return;
  }
  std::vector<std::string> names;
  for (const auto& entry : *cues) names.push_back(entry.first.Scalar());
  MapReader cue_map(sink, *cues, "cues", std::vector<std::string_view>(names.begin(), names.end()));
  for (const auto& name : names) {
    std::int64_t id = 0;
    if (cue_map.integer(name, id, static_cast<std::int64_t>(field.rule.min), static_cast<std::int64_t>(field.rule.max),
                        field.rule.expected)) {
      config.cues[name] = static_cast<std::uint8_t>(id);
    }
  }
}

RigConfig read_rig_config(yaml::Sink& sink, const YAML::Node& document) {
  RigConfig config;
  MapReader root(sink, document, "", kRigConfigShape);
  if (auto rig = root.mapping("rig")) {
    rig->read("id", config.id);
    rig->read("lab", config.lab_name);
    rig->read("institution", config.institution);
  }
  auto& policy = config.device_policy;
  if (auto device = root.mapping("device")) {
    device->read("kind", config.device_kind, kDeviceKindNames);
    device->read("port", config.port);
    read_limit(*device, "heartbeat_timeout_ms", policy.heartbeat_timeout_ms);
    read_limit(*device, "max_open_us", policy.max_open_us);
    read_limit(*device, "max_open_us_per_s", policy.max_open_us_per_s);
  }
  if (auto wheel = root.mapping("wheel")) {
    read_limit(*wheel, "sample_period_us", policy.wheel_period_us);
    read_limit(*wheel, "samples_per_batch", policy.wheel_samples_per_batch);
    const bool ticks_ok = wheel->read("ticks_per_rev", config.ticks_per_rev);
    if (wheel->read("threshold_deg", config.threshold_deg) && ticks_ok) {
      const auto ticks = degrees_to_ticks(config.threshold_deg, config.ticks_per_rev);
      if (ticks < 1 || ticks > kMaxThresholdTicks) {
        sink.error(wheel->location("threshold_deg"),
                   wheel->path("threshold_deg") + ": " + yaml::format_number(config.threshold_deg) + " deg is " +
                       std::to_string(ticks) + " encoder ticks; the encoder can express 1 to 65535");
      }
    }
  }
  read_cues(sink, root, config);
  if (auto valves = root.mapping("valves")) {
    for (const auto valve : {wire::Valve::kCherry, wire::Valve::kGrape}) {
      if (auto entry = valves->mapping(flavour_name(valve))) {
        read_calibration(*entry, config.calibration[static_cast<std::size_t>(valve)]);
      }
    }
  }
  std::int64_t max_age_days = config.calibration_max_age_days;
  root.read("calibration_max_age_days", max_age_days);
  config.calibration_max_age_days = static_cast<int>(max_age_days);
  if (auto files = root.mapping("files")) {
    if (auto dirs = files->text_list("protocol_dirs")) config.protocol_dirs = std::move(*dirs);
    read_limit(*files, "max_file_bytes", config.max_file_bytes);
  }
  read_recording(sink, root, config);
  read_alerts(root, config);
  read_lab(root, config);
  return config;
}

}  // namespace

const yaml::Shape& rig_config_file_shape() { return kRigConfigShape; }

Loaded<RigConfig> load_rig_config_file(const std::string& path) {
  return yaml::load_file<RigConfig>(path, read_rig_config);
}

Loaded<RigConfig> parse_rig_config(const std::string& text, const std::string& file_name) {
  return yaml::load_text<RigConfig>(text, file_name, read_rig_config);
}

}  // namespace rig::config
