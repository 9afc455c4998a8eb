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
// The sync pulse train (SetSync) and the camera trigger (SetCamera).
constexpr uint32_t kMinSyncIntervalUs = 10000;
constexpr uint32_t kMaxSyncIntervalUs = 1000000;
constexpr uint32_t kDefaultSyncMinIntervalUs = 50000;
constexpr uint32_t kDefaultSyncMaxIntervalUs = 150000;
constexpr uint32_t kDefaultSyncWidthUs = 5000;
constexpr uint32_t kSyncStartDelayUs = 20000;     // first edge after SetSync (and after SetCamera)
constexpr uint32_t kSyncFlushUs = 250000;         // the oldest waiting edge is sent after this long
constexpr uint32_t kMinPulseWidthUs = 100;
constexpr uint32_t kMaxPulseWidthUs = 30000;      // under one 32.8 ms timer lap
constexpr uint32_t kMinCameraPeriodUs = 5000;     // 200 Hz
constexpr uint32_t kMaxCameraPeriodUs = 1000000;  // 1 Hz
constexpr uint32_t kDefaultCameraWidthUs = 1000;
// Pulses end at least this long before the next rising edge (the timer needs time to re-arm).
constexpr uint32_t kMinPulseGapUs = 500;
// True when a pulse of `width_us` ends kMinPulseGapUs before the next rising edge at the shortest interval.
// The firmware refuses a train that does not (SetSync, SetCamera); the rig config loader says why. Pure.
constexpr bool pulse_leaves_gap(uint32_t width_us, uint32_t shortest_interval_us) {
  return width_us + kMinPulseGapUs <= shortest_interval_us;
}
// The lick inputs (SetLicks).
constexpr uint16_t kDefaultDebounceUs = 2000;
constexpr uint16_t kMinDebounceUs = 100;
constexpr uint16_t kMaxDebounceUs = 50000;
constexpr uint32_t kLickFlushUs = 50000;          // the oldest waiting lick edge is sent after this long
// ClearFaults mask that clears every latched fault bit.
constexpr uint16_t kAllFaultBits = 0xFFFF;

}  // namespace wire
}  // namespace rig

#endif
