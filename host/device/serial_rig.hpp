// The Rig over the serial link: the one implementation for a real board, the virtual MCU and simavr.
#pragma once

#include <memory>

#include "device_clock.hpp"
#include "link.hpp"
#include "rig.hpp"

namespace rig::device {

// Not thread-safe: the io_context thread only (link_stats() excepted).
class SerialRig : public Rig {
 public:
  SerialRig(boost::asio::io_context& io, link::LinkOptions options);
  ~SerialRig() override;

  void start(RigEvents events) override;
  void stop() override;
  void arm_trial(const wire::ArmTrial& trial, CommandDone done = {}) override;
  void abort_trial(uint32_t trial_id, CommandDone done = {}) override;
  void pulse_valve(const wire::PulseValve& pulse, CommandDone done = {}) override;
  void set_wheel_stream(uint16_t period_us, uint8_t samples_per_batch, CommandDone done = {}) override;
  void set_safety(const wire::SetSafety& limits, CommandDone done = {}) override;
  void clear_faults(uint16_t fault_mask, CommandDone done = {}) override;
  void set_sync(const wire::SetSync& sync, CommandDone done = {}) override;
  void set_camera(const wire::SetCamera& camera, CommandDone done = {}) override;
  void set_licks(const wire::SetLicks& licks, CommandDone done = {}) override;
  bool connected() const override;
  const DeviceInfo& device() const override;
  LinkStats link_stats() const override;
  // Closes the port and reconnects (see Link::drop_connection).
  void drop_connection(const std::string& reason) {
    if (link_) link_->drop_connection(reason);
  }

 private:
  void dispatch(const wire::FrameView& frame);

  boost::asio::io_context& io_;
  link::LinkOptions options_;
  std::shared_ptr<link::Link> link_;
  RigEvents events_;
  link::DeviceClock clock_;
  bool have_lick_index_ = false;
  uint16_t next_lick_index_ = 0;  // the running index the next LickEdges should start at
};

}  // namespace rig::device
