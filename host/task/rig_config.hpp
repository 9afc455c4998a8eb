// The rig configuration (config/rig*.yaml, documented in docs/config.md): which device, the wheel, the cue
// outputs and each valve's calibration.
#pragma once

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "firmware/wire/board.hpp"
#include "firmware/wire/limits.hpp"
#include "firmware/wire/messages.hpp"
#include "host/config/bounded_read.hpp"
#include "host/task/calibration.hpp"
#include "host/task/diagnostics.hpp"
#include "host/model/enums.hpp"
#include "host/task/names.hpp"

namespace rig::task {

enum class DeviceKind { kSim, kSerial, kSimavr };

// What a session asks of the device: the host watchdog, the valve limits and the wheel stream. Read from
// the rig config (`device:` and `wheel:`, docs/config.md); the defaults are the firmware's and the loader
// refuses what the firmware would clamp (firmware/wire/limits.hpp).
struct DevicePolicy {
  std::uint16_t heartbeat_timeout_ms = wire::kDefaultHeartbeatTimeoutMs;
  std::uint32_t max_open_us = wire::kHardMaxOpenUs;            // one pulse
  std::uint32_t max_open_us_per_s = wire::kHardMaxOpenUsPerS;  // one valve, any one-second window
  std::uint16_t wheel_period_us = wire::kDefaultWheelPeriodUs;
  std::uint8_t wheel_samples_per_batch = wire::kDefaultWheelBatch;

  bool operator==(const DevicePolicy&) const = default;
};

// The recording outputs and inputs (YAML `sync:`, `camera:`, `licks:`, docs/config.md). Pins are the board's
// (firmware/wire/board.hpp): the loader refuses one that is another signal's or that the firmware cannot drive,
// and the session refuses a board that reports a different one.
struct SyncSettings {
  bool enabled = true;
  std::uint8_t pin = wire::kPinSync;
  std::uint32_t min_interval_us = wire::kDefaultSyncMinIntervalUs;
  std::uint32_t max_interval_us = wire::kDefaultSyncMaxIntervalUs;
  std::uint32_t width_us = wire::kDefaultSyncWidthUs;
  bool operator==(const SyncSettings&) const = default;
};
struct CameraSettings {
  bool enabled = false;
  std::uint8_t pin = wire::kPinCamera;
  double rate_hz = 30.0;
  std::uint32_t width_us = wire::kDefaultCameraWidthUs;
  bool operator==(const CameraSettings&) const = default;
};
struct LickSettings {
  bool enabled = false;
  std::array<std::uint8_t, wire::kValveCount> pins = {wire::kPinLickCherry, wire::kPinLickGrape};  // by wire::Valve
  std::uint16_t debounce_us = wire::kDefaultDebounceUs;
  std::uint32_t consumed_window_us = 1000000;  // a delivery counts as consumed with a lick on its spout within this
  bool operator==(const LickSettings&) const = default;
};

// YAML `alerts:` (docs/config.md): when the rig speaks up, and where it posts.
struct AlertSettings {
  std::string webhook_url;          // http:// or https://; empty: alerts are logged, stored and shown only
  double device_lost_s = 10.0;      // the device away for longer than this
  std::int64_t disengaged_trials = 20;  // this many trials in a row without a choice
  double idle_minutes = 5.0;        // no trial completed for this long
  double overrun_minutes = 15.0;    // a session still running this long past its protocol's max_minutes
  std::optional<int> welfare_check_minute;  // rigd: minute of the local day ("HH:MM") of the daily welfare check
  bool operator==(const AlertSettings&) const = default;
};

// YAML `lab:` (docs/lab.md): the lab database rigd pushes the rig's records to.
struct LabSettings {
  std::string url;               // a libpq URL or connection string (no password); empty: no lab
  double push_interval_s = 1.0;  // rigd pushes what is new this often
  double timeout_s = 30.0;       // a statement the lab has not answered in this long fails; the push reconnects
  bool operator==(const LabSettings&) const = default;

  // The two periods as the lab's connections and rigd's timer take them.
  std::chrono::milliseconds push_interval() const { return std::chrono::milliseconds(std::llround(push_interval_s * 1000.0)); }
  std::chrono::milliseconds timeout() const { return std::chrono::milliseconds(std::llround(timeout_s * 1000.0)); }
};

struct RigConfig {
  std::string id;
  std::string lab_name;     // the lab and institution the rig is in (NWB's /general/lab and /general/institution)
  std::string institution;
  DeviceKind device_kind = DeviceKind::kSim;
  std::string port;                          // serial device path; required for kSerial
  std::int64_t ticks_per_rev = 1024;         // wheel encoder ticks per revolution after 4x decoding
  double threshold_deg = 30.0;               // default choice threshold; a protocol may override it
  std::map<std::string, std::uint8_t> cues;  // cue output name -> device cue id (ArmTrial.cue_id)
  std::array<CalibrationTable, wire::kValveCount> calibration;  // by wire::Valve
  int calibration_max_age_days = 30;         // older tables warn at session start
  DevicePolicy device_policy;
  SyncSettings sync;
  CameraSettings camera;
  LickSettings licks;
  AlertSettings alerts;
  LabSettings lab;
  // YAML `files:`. Directories (relative to this file) from which rigd's API may name a protocol; empty: the
  // directories of the subjects' stage protocols.
  std::vector<std::string> protocol_dirs;
  std::size_t max_file_bytes = config::kDefaultMaxConfigBytes;  // protocols and subjects files larger are refused

  std::string source_file;
  FieldLocations locations;

  const CalibrationTable& table(wire::Valve valve) const { return calibration[static_cast<std::size_t>(valve)]; }
};


// Encoder ticks for an angle: round(threshold_deg * ticks_per_rev / 360). Pure; thread-safe.
std::int64_t degrees_to_ticks(double angle_deg, std::int64_t ticks_per_rev);

// One warning per valve whose calibration is older than rig.calibration_max_age_days on `today`
// ("valve cherry: calibration of 2024-01-02 is 45 days old (limit 30); run rig calibrate --valve cherry").
// Shown at session start; a session may still run. Pure; thread-safe.
std::vector<std::string> stale_calibration_warnings(const RigConfig& rig, std::chrono::year_month_day today);

inline constexpr Named<DeviceKind> kDeviceKindNames[] = {
    {"sim", DeviceKind::kSim}, {"serial", DeviceKind::kSerial}, {"simavr", DeviceKind::kSimavr}};
// The valves' flavours as config files name them (host/model/enums.hpp).
using model::flavour_name;
using model::kFlavourNames;

}  // namespace rig::task
