// What the device reports, as plain values: its description (field table device.def), the times of a
// trial and the wheel samples. Shared by the link that decodes them, the session that uses them and the store
// that keeps them; depends on nothing but the wire's enums.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "firmware/wire/messages.hpp"

namespace rig::model {

// A device's description (host/model/device.def).
struct DeviceInfo {
#define RIG_DEVICE_FIELD(name, type, doc) type name{};
#include "host/model/device.def"
#undef RIG_DEVICE_FIELD
};

// Device timestamps of a trial, unwrapped to 64-bit microseconds since boot; -1 where it did not happen.
struct TrialTimes {
  std::int64_t armed_us = -1;
  std::int64_t go_cue_us = -1;
  std::int64_t choice_us = -1;
  std::int64_t valve_open_us = -1;
};

// A decoded wheel batch: positions sampled every period_us from t0_us (device time since boot).
struct WheelSamples {
  std::uint16_t batch_seq = 0;
  std::int64_t t0_us = 0;
  std::uint16_t period_us = 0;
  std::vector<std::int32_t> position_ticks;
};

// Every DeviceInfo field as one JSON object, named as in device.def; hal_kind as its number. Pure;
// thread-safe.
std::string device_info_json(const DeviceInfo& device);

}  // namespace rig::model
