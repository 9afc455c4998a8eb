// The device policy a session (or a calibration) sends when the device connects: the rig config's watchdog,
// valve limits and wheel stream (task::DevicePolicy), so that no app code repeats a firmware constant.
#pragma once

#include "firmware/wire/messages.hpp"
#include "host/task/rig_config.hpp"
#include "rig.hpp"

namespace rig::app {

// The SetSafety of `policy`. A simulated device running faster than real time (speed > 1) gets the longest
// watchdog the firmware allows instead: a few ms of host scheduling delay are seconds of its time. Pure;
// thread-safe.
wire::SetSafety safety_request(const task::DevicePolicy& policy, double speed);

// Sends `safety` (its acknowledgement goes to `on_safety`), the policy's wheel stream when `with_wheel`, and a
// clear of every latched fault. Call on the rig's io_context thread; errors arrive as command results.
void send_device_policy(device::Rig& rig, const wire::SetSafety& safety, const task::DevicePolicy& policy,
                        bool with_wheel, device::CommandDone on_safety = {});

}  // namespace rig::app
