// Hard limits on valve open time: per pulse and per sliding one-second window, for each valve.
#ifndef RIG_CORE_VALVE_GUARD_HPP
#define RIG_CORE_VALVE_GUARD_HPP

#include <stdint.h>

#include "firmware/core/time.hpp"
#include "firmware/wire/limits.hpp"
#include "firmware/wire/messages.hpp"

namespace rig {
namespace core {

// Compile-time ceilings and defaults, shared with the host (firmware/wire/limits.hpp).
using wire::kDefaultHeartbeatTimeoutMs;
using wire::kHardMaxOpenUs;
using wire::kHardMaxOpenUsPerS;
using wire::kMaxHeartbeatTimeoutMs;
using wire::kMinHeartbeatTimeoutMs;
using wire::kValveWindowUs;

struct SafetyLimits {
  uint32_t max_open_us = kHardMaxOpenUs;
  uint32_t max_open_us_per_s = kHardMaxOpenUsPerS;
  uint16_t heartbeat_timeout_ms = kDefaultHeartbeatTimeoutMs;
};

// Returns `requested` clamped into the hard ceilings; `clamped` is set when anything changed. Pure.
inline SafetyLimits clamp_limits(const SafetyLimits& requested, bool* clamped) {
  SafetyLimits out = requested;
  if (out.max_open_us > kHardMaxOpenUs) out.max_open_us = kHardMaxOpenUs;
  if (out.max_open_us_per_s > kHardMaxOpenUsPerS) out.max_open_us_per_s = kHardMaxOpenUsPerS;
  if (out.heartbeat_timeout_ms < kMinHeartbeatTimeoutMs) out.heartbeat_timeout_ms = kMinHeartbeatTimeoutMs;
  if (out.heartbeat_timeout_ms > kMaxHeartbeatTimeoutMs) out.heartbeat_timeout_ms = kMaxHeartbeatTimeoutMs;
  *clamped = out.max_open_us != requested.max_open_us || out.max_open_us_per_s != requested.max_open_us_per_s ||
             out.heartbeat_timeout_ms != requested.heartbeat_timeout_ms;
  return out;
}

// Accounts every pulse of each valve and grants open times that keep both limits: a pulse never exceeds
// max_open_us, and the pulses of one valve starting within any one-second window never add up to more than
// max_open_us_per_s. Grants are computed before opening (pulses of the same valve never overlap, and
// between grant and record the window can only empty), so a grant stays valid until it is recorded.
// Not thread-safe; main loop only.
class ValveGuard {
 public:
  void set_limits(const SafetyLimits& limits) { limits_ = limits; }
  const SafetyLimits& limits() const { return limits_; }

  // The open time, at most `request_us`, that `valve` may get for a pulse starting at or after `now_us`.
  // 0 means none is left in the window. Does not record anything.
  uint32_t grant(uint8_t valve, uint32_t request_us, uint32_t now_us) const {
    uint32_t out = request_us < limits_.max_open_us ? request_us : limits_.max_open_us;
    const uint32_t used = used_us(valve, now_us);
    const uint32_t left = used >= limits_.max_open_us_per_s ? 0 : limits_.max_open_us_per_s - used;
    return out < left ? out : left;
  }

  // Records a pulse of `open_us` that started at `start_us`.
  void record(uint8_t valve, uint32_t start_us, uint32_t open_us) {
    if (open_us == 0 || valve >= wire::kValveCount) return;
    History& h = history_[valve];
    while (h.count > 0 && elapsed_us(start_us, h.start_us[h.first]) >= static_cast<int32_t>(kValveWindowUs)) {
      h.first = static_cast<uint8_t>((h.first + 1) % kHistory);
      --h.count;
    }
    if (h.count == kHistory) {
      // Full: fold the oldest pulse into the next one, keeping the later start. That pulse then counts
      // against the window for longer than it really does, which errs on the safe side.
      const uint8_t oldest = h.first;
      const uint8_t next = static_cast<uint8_t>((oldest + 1) % kHistory);
      h.open_us[next] += h.open_us[oldest];
      h.first = next;
      --h.count;
    }
    const uint8_t slot = static_cast<uint8_t>((h.first + h.count) % kHistory);
    h.start_us[slot] = start_us;
    h.open_us[slot] = open_us;
    ++h.count;
  }

  // Open time of `valve` in pulses that started within the second before `now_us`.
  uint32_t used_us(uint8_t valve, uint32_t now_us) const {
    if (valve >= wire::kValveCount) return 0;
    const History& h = history_[valve];
    uint32_t used = 0;
    for (uint8_t i = 0; i < h.count; ++i) {
      const uint8_t slot = static_cast<uint8_t>((h.first + i) % kHistory);
      const int32_t age_us = elapsed_us(now_us, h.start_us[slot]);
      if (age_us < static_cast<int32_t>(kValveWindowUs)) used += h.open_us[slot];
    }
    return used;
  }

 private:
  static constexpr uint8_t kHistory = 8;
  struct History {
    uint32_t start_us[kHistory] = {};
    uint32_t open_us[kHistory] = {};
    uint8_t first = 0;
    uint8_t count = 0;
  };
  SafetyLimits limits_;
  History history_[wire::kValveCount];
};

}  // namespace core
}  // namespace rig

#endif
