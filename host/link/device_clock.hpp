// Unwraps the device's 32-bit microsecond timestamps (which wrap every 71.6 min) into 64-bit microseconds
// since the device booted.
#pragma once

#include <cstdint>

namespace rig::link {

// Feed timestamps in the order the device produced them (events arrive in order); a timestamp slightly
// older than the newest seen (a wheel batch's first sample) is placed before it, not a wrap later.
// Not thread-safe. reset() at a new boot.
class DeviceClock {
 public:
  int64_t unwrap(uint32_t t_us) {
    if (!have_) {
      have_ = true;
      last_raw_ = t_us;
      last_us_ = t_us;
      return last_us_;
    }
    const int32_t delta = static_cast<int32_t>(t_us - last_raw_);
    const int64_t value = last_us_ + delta;
    if (delta > 0) {
      last_raw_ = t_us;
      last_us_ = value;
    }
    return value;
  }
  // For fields that are 0 when the event did not happen (go cue, choice, valve open): -1 then.
  int64_t unwrap_optional(uint32_t t_us) { return t_us == 0 ? -1 : unwrap(t_us); }
  void reset() { have_ = false; }

 private:
  bool have_ = false;
  uint32_t last_raw_ = 0;
  int64_t last_us_ = 0;
};

}  // namespace rig::link
