#include "device_policy.hpp"

#include "firmware/wire/limits.hpp"

namespace rig::app {

wire::SetSafety safety_request(const task::DevicePolicy& policy, double speed) {
  wire::SetSafety safety{};
  safety.heartbeat_timeout_ms = speed > 1.0 ? wire::kMaxHeartbeatTimeoutMs : policy.heartbeat_timeout_ms;
  safety.max_open_us = policy.max_open_us;
  safety.max_open_us_per_s = policy.max_open_us_per_s;
  return safety;
}

void send_device_policy(device::Rig& rig, const wire::SetSafety& safety, const task::DevicePolicy& policy,
                        bool with_wheel, device::CommandDone on_safety) {
  rig.set_safety(safety, std::move(on_safety));
  if (with_wheel) rig.set_wheel_stream(policy.wheel_period_us, policy.wheel_samples_per_batch);
  rig.clear_faults(wire::kAllFaultBits);
}

}  // namespace rig::app
