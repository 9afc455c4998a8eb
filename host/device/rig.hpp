// The rig as the task engine sees it: arm a trial, abort it, pulse a valve, configure the wheel stream and the
// safety limits, and receive what the device reports. Implemented over the serial link for every kind of
// device (a real board, the virtual MCU, the firmware in simavr), and by fakes in tests.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "firmware/wire/messages.hpp"
#include "host/model/recording.hpp"
#include "link.hpp"

namespace rig::device {

using link::CommandDone;
using link::CommandResult;
using link::DeviceInfo;
using link::LinkStats;
using link::LinkStatus;

using model::TrialTimes;
using model::WheelSamples;

struct RigEvents {
  std::function<void(const LinkStatus&)> on_link;
  std::function<void(const DeviceInfo&, bool reset)> on_device;
  std::function<void(const wire::TrialEvent&, int64_t t_us)> on_trial_event;
  std::function<void(const wire::TrialResult&, const TrialTimes&)> on_trial_result;
  std::function<void(const wire::Fault&, int64_t t_us)> on_fault;
  std::function<void(const wire::PulseDone&)> on_pulse_done;
  std::function<void(const WheelSamples&)> on_wheel;
  std::function<void(const wire::DeviceStatus&)> on_status;
  // Lick onsets and offsets in the order the device confirmed them (device_us unwrapped; session_id and
  // trial_number left 0 for the session to fill), with the device's glitch count and the edges a gap in its
  // running index shows lost since the previous batch.
  std::function<void(const std::vector<model::LickRecord>&, uint16_t glitches, uint32_t lost)> on_licks;
  // Sync edges (edge_index, device_us unwrapped; session_id 0), in order.
  std::function<void(const std::vector<model::SyncRecord>&)> on_sync;
  // The camera trigger started or stopped; the device times unwrapped.
  std::function<void(const wire::CameraFrames&, int64_t first_frame_us, int64_t last_frame_us)> on_camera;
};

// Every method must be called on the io_context thread the rig was created with; events arrive on it too.
// Commands issued while the device is away are delivered when it returns (or fail if it restarted).
class Rig {
 public:
  virtual ~Rig() = default;

  virtual void start(RigEvents events) = 0;
  // Stops the link (and a simulated device the rig started). Pending commands fail.
  virtual void stop() = 0;

  virtual void arm_trial(const wire::ArmTrial& trial, CommandDone done = {}) = 0;
  virtual void abort_trial(uint32_t trial_id, CommandDone done = {}) = 0;
  virtual void pulse_valve(const wire::PulseValve& pulse, CommandDone done = {}) = 0;
  virtual void set_wheel_stream(uint16_t period_us, uint8_t samples_per_batch, CommandDone done = {}) = 0;
  virtual void set_safety(const wire::SetSafety& limits, CommandDone done = {}) = 0;
  virtual void clear_faults(uint16_t fault_mask, CommandDone done = {}) = 0;
  // The recording outputs and inputs (protocol version 2): the sync pulse train, the camera trigger, the
  // lick inputs.
  virtual void set_sync(const wire::SetSync& sync, CommandDone done = {}) = 0;
  virtual void set_camera(const wire::SetCamera& camera, CommandDone done = {}) = 0;
  virtual void set_licks(const wire::SetLicks& licks, CommandDone done = {}) = 0;

  virtual bool connected() const = 0;
  virtual const DeviceInfo& device() const = 0;
  // Thread-safe.
  virtual LinkStats link_stats() const = 0;
};

}  // namespace rig::device
