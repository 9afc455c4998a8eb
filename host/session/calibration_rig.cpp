#include "calibration_rig.hpp"

#include <boost/asio/post.hpp>
#include <cstdio>
#include <future>
#include <stdexcept>

#include "device_policy.hpp"
#include "host/task/calibration_plan.hpp"
#include "run_support.hpp"

namespace rig::app {
namespace {

constexpr std::chrono::seconds kConnectTimeout{20};

}  // namespace

CalibrationRig::CalibrationRig(const task::DevicePolicy& policy)
    : policy_(policy), work_(io_.get_executor()), thread_([this] { io_.run(); }) {}

CalibrationRig::~CalibrationRig() { close(); }

const std::string& CalibrationRig::description() const { return description_; }

void CalibrationRig::connect(DeviceRequest request) {
  const double speed = request.kind == DeviceChoice::kSerial ? 1.0 : request.speed;
  std::promise<std::string> made;
  boost::asio::post(io_, [this, &made, &request, speed] {
    try {
      device_ = make_device(io_, std::move(request));
      device_->rig().start(events(speed));
      made.set_value(device_->describe());
    } catch (...) {
      made.set_exception(std::current_exception());
    }
  });
  description_ = made.get_future().get();
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, kConnectTimeout, [this] { return ready_ || failure_; })) {
    failure_ = "no device answered within " + std::to_string(kConnectTimeout.count()) + " s on " + description_ +
               (last_link_reason_.empty() ? "" : " (last: " + last_link_reason_ + ")");
  }
  if (failure_) throw std::runtime_error(*failure_);
}

void CalibrationRig::deliver(const wire::PulseValve& pulse, std::chrono::milliseconds timeout) {
  {
    std::lock_guard lock(mutex_);
    if (failure_) throw std::runtime_error(*failure_);
    pulse_pending_ = true;
    pulse_done_.reset();
  }
  boost::asio::post(io_, [this, pulse] {
    device_->rig().pulse_valve(pulse, [this, pulse](const link::CommandResult& result) {
      std::lock_guard lock(mutex_);
      if (stopping_ || !pulse_pending_ || failure_) return;
      if (!result.acknowledged) {
        failure_ = "the device did not take the pulse command: " + result.error;
      } else if (result.status != wire::AckStatus::kOk) {
        failure_ = refusal_text(result, pulse);
      }
      changed_.notify_all();
    });
  });
  std::unique_lock lock(mutex_);
  const bool finished = changed_.wait_for(lock, timeout, [this] { return pulse_done_ || failure_; });
  pulse_pending_ = false;
  if (!finished) {
    failure_ = "the device did not report the pulses done within " +
               std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) + " s";
  }
  if (failure_) throw std::runtime_error(*failure_);
  const wire::PulseDone done = *pulse_done_;
  if (done.valve != pulse.valve || done.count != pulse.count || done.open_us != pulse.open_us) {
    failure_ = "the device delivered " + std::to_string(done.count) + " pulses of " + std::to_string(done.open_us) +
               " us on valve " + std::to_string(done.valve) + " instead of " + std::to_string(pulse.count) +
               " of " + std::to_string(pulse.open_us) + " us";
    throw std::runtime_error(*failure_);
  }
}

void CalibrationRig::throw_if_failed() {
  std::lock_guard lock(mutex_);
  if (failure_) throw std::runtime_error(*failure_);
}

void CalibrationRig::close() {
  if (!thread_.joinable()) return;
  boost::asio::post(io_, [this] {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    if (device_) device_->rig().stop();
    device_.reset();
    io_.stop();
  });
  thread_.join();
  device_.reset();
}

std::string CalibrationRig::refusal_text(const link::CommandResult& result, const wire::PulseValve& pulse) {
  const std::string train = std::to_string(pulse.count) + " pulses of " + std::to_string(pulse.open_us) + " us";
  switch (result.status) {
    case wire::AckStatus::kClamped:
      return "the device clamped the open time of " + train + " to its safety limit; calibrate below it";
    case wire::AckStatus::kBadState:
      return "the device refused " + train + ": a trial is armed or another pulse train is running";
    case wire::AckStatus::kBadArgument:
      return "the device refused " + train + " as a bad argument (field " + std::to_string(result.detail) + ")";
    default:
      return "the device refused " + train + " (status " + std::to_string(static_cast<int>(result.status)) + ")";
  }
}

device::RigEvents CalibrationRig::events(double speed) {
  device::RigEvents events;
  events.on_link = [this](const link::LinkStatus& status) {
    std::lock_guard lock(mutex_);
    if (stopping_ || failure_) return;
    if (!status.reason.empty()) last_link_reason_ = status.reason;
    if (status.state == link::LinkState::kFailed) {
      failure_ = "the link to the device failed: " + status.reason;
    } else if (ready_ && status.state != link::LinkState::kConnected) {
      failure_ = "the link to the device was lost during the calibration (" + status.reason +
                 "); re-run rig calibrate";
    }
    changed_.notify_all();
  };
  events.on_device = [this, speed](const link::DeviceInfo&, bool reset) {
    std::unique_lock lock(mutex_);
    if (stopping_ || failure_) return;
    if (connected_once_) {
      if (reset) failure_ = "the device restarted during the calibration; re-run rig calibrate";
      changed_.notify_all();
      return;
    }
    connected_once_ = true;
    lock.unlock();
    // A calibration may pulse up to the firmware's limit whatever the session policy says: the table must
    // cover every open time a session could ask for.
    wire::SetSafety safety = safety_request(policy_, speed);
    safety.max_open_us = task::max_calibration_open_us();
    send_device_policy(device_->rig(), safety, policy_, false, [this](const link::CommandResult& result) {
      std::lock_guard lock(mutex_);
      if (stopping_ || failure_) return;
      if (!result.acknowledged || (result.status != wire::AckStatus::kOk && result.status != wire::AckStatus::kClamped)) {
        failure_ = "the device refused the safety limits" + (result.error.empty() ? "" : ": " + result.error);
      } else {
        ready_ = true;
      }
      changed_.notify_all();
    });
  };
  events.on_pulse_done = [this](const wire::PulseDone& done) {
    std::lock_guard lock(mutex_);
    if (!pulse_pending_) return;
    pulse_done_ = done;
    changed_.notify_all();
  };
  events.on_fault = [this](const wire::Fault& fault, int64_t) {
    std::fprintf(stderr, "rig calibrate: device fault: %s\n", fault_text(fault.fault_bit).c_str());
    std::lock_guard lock(mutex_);
    const uint16_t spoils_weighing = wire::kFaultHostTimeout | wire::kFaultValveLimit | wire::kFaultReset;
    if (stopping_ || failure_ || !pulse_pending_ || (fault.fault_bit & spoils_weighing) == 0) return;
    failure_ = "the pulses are not what was asked for (" + fault_text(fault.fault_bit) + "); re-run rig calibrate";
    changed_.notify_all();
  };
  return events;
}

}  // namespace rig::app
