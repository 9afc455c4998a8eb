// The device's hard limits and defaults: the firmware enforces them (firmware/core/valve_guard.hpp,
// wheel_stream.hpp), the host reads a rig's device policy within them (host/task/rig_config.hpp). One
// definition for both builds; C++14 with C headers only.
#ifndef RIG_WIRE_LIMITS_HPP
#define RIG_WIRE_LIMITS_HPP

#include <stdint.h>

#include "firmware/wire/messages.hpp"

namespace rig {
namespace wire {

// Valve ceilings: no SetSafety can raise the limits above these (it only tightens them).
constexpr uint32_t kHardMaxOpenUs = 500000;      // one pulse
constexpr uint32_t kHardMaxOpenUsPerS = 600000;  // one valve, pulses starting within any kValveWindowUs
constexpr uint32_t kValveWindowUs = 1000000;      // the sliding window of kHardMaxOpenUsPerS
// The host watchdog: the device closes the valves and aborts the trial after this long without the host.
constexpr uint16_t kDefaultHeartbeatTimeoutMs = 250;
constexpr uint16_t kMinHeartbeatTimeoutMs = 20;    // below a USB frame schedule's jitter the watchdog would chatter
constexpr uint16_t kMaxHeartbeatTimeoutMs = 2000;  // the watchdog can be loosened this far, never disabled
// The wheel stream.
constexpr uint16_t kDefaultWheelPeriodUs = 1000;
constexpr uint16_t kMinWheelPeriodUs = 250;
constexpr uint8_t kDefaultWheelBatch = kWheelBatchMax;
// ClearFaults mask that clears every latched fault bit.
constexpr uint16_t kAllFaultBits = 0xFFFF;

}  // namespace wire
}  // namespace rig

#endif
