// A blocking facade over the asynchronous Rig for `rig calibrate`: the rig runs on its own io_context thread
// while the calling thread talks to the operator, asks for pulse trains and waits for them.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "device_factory.hpp"
#include "host/task/rig_config.hpp"
#include "rig.hpp"

namespace rig::app {

// The rig, running on its own io_context thread while the calling thread talks to the operator. The
// calling thread asks for pulse trains and waits for them; anything that makes a weighing untrustworthy
// after connecting (the link lost, the device restarted, a watchdog or valve-limit fault) fails the call
// in progress and every later one. Methods: the one calling thread only.
class CalibrationRig {
 public:
  // `policy`: the rig config's device policy (watchdog and per-second valve limit).
  explicit CalibrationRig(const task::DevicePolicy& policy);
  ~CalibrationRig();
  CalibrationRig(const CalibrationRig&) = delete;
  CalibrationRig& operator=(const CalibrationRig&) = delete;

  // Starts the device and the link, and waits until the device answered and took the safety limits.
  // Throws std::runtime_error (no device, refusal) with what went wrong.
  void connect(DeviceRequest request);

  const std::string& description() const;

  // Delivers `pulse` and waits (at most `timeout`, wall time) for the device to report it done with every
  // pulse at the requested open time. Throws std::runtime_error saying what went wrong.
  void deliver(const wire::PulseValve& pulse, std::chrono::milliseconds timeout);

  // Throws std::runtime_error when the rig has failed since the last call (e.g. while the operator weighed).
  void throw_if_failed();

  // Stops the link and the device and ends the io thread. Idempotent.
  void close();

 private:
  static std::string refusal_text(const link::CommandResult& result, const wire::PulseValve& pulse);

  // The rig's events, on the io thread: they only record what happened and wake the calling thread.
  device::RigEvents events(double speed);

  const task::DevicePolicy policy_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  std::unique_ptr<DeviceHandle> device_;  // io thread only (until close())
  std::string description_;

  std::mutex mutex_;
  std::condition_variable changed_;
  // Guarded by mutex_.
  bool stopping_ = false;
  bool connected_once_ = false;
  bool ready_ = false;
  bool pulse_pending_ = false;
  std::optional<wire::PulseDone> pulse_done_;
  std::optional<std::string> failure_;
  std::string last_link_reason_;
};

}  // namespace rig::app
