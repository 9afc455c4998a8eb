// A virtual MCU with a random mouse and a SerialRig connected to it, driven from the test thread: the fixture
// for the link and fault tests.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <algorithm>
#include <map>

#include "serial_rig.hpp"
#include "vmcu/sim_loop.hpp"
#include "vmcu/virtual_mcu.hpp"

namespace rig::test {

inline wire::ArmTrial session_trial(uint32_t trial_id) {
  wire::ArmTrial t{};
  t.trial_id = trial_id;
  t.kind = static_cast<uint8_t>(trial_id % 5 == 0 ? wire::TrialKind::kInstructedLeft : wire::TrialKind::kFree);
  t.quiescence_us = 100000;
  t.quiescence_tolerance_ticks = 8;
  t.response_window_us = 2000000;
  t.threshold_left_ticks = t.threshold_right_ticks = 300;
  t.open_us[wire::open_index(wire::Side::kLeft, wire::Valve::kCherry)] = 20000 + trial_id % 7 * 1000;
  t.open_us[wire::open_index(wire::Side::kRight, wire::Valve::kGrape)] = 30000;
  t.open_us[wire::open_index(wire::Side::kRight, wire::Valve::kCherry)] = trial_id % 2 ? 25000 : 0;
  t.cue_duration_us = 100000;
  return t;
}

// Where the fixture's board runs: on an in-process line stepped with the host on simulated time (the default:
// the outcome depends only on the seeds), or behind a real pty in its own thread, paced at kSpeed against the
// wall clock (what `rig run --device sim` does; only throughput-independent facts may be asserted there).
enum class BoardLine { kSimulated, kPty };

class VmcuSession {
 public:
  static constexpr double kSpeed = 25.0;

  explicit VmcuSession(uint32_t boot_id = 7, BoardLine line = BoardLine::kSimulated)
      : line_(line), loop_(line == BoardLine::kSimulated ? std::make_unique<device::SimLoop>(io_) : nullptr) {
    start_device(boot_id);
    link::LinkOptions options;
    if (loop_) {
      options.open_line = loop_->line_opener();
    } else {
      options.port_path = vmcu_->path();
      options.time_scale = kSpeed;
    }
    options.host_nonce = 0x5EED0000u + boot_id;
    rig_ = std::make_unique<device::SerialRig>(io_, options);
    device::RigEvents events;
    events.on_link = [this](const link::LinkStatus& s) { statuses.push_back(s); };
    events.on_device = [this](const link::DeviceInfo&, bool reset) {
      resets += reset ? 1 : 0;
      wire::SetSafety safety{};
      // On simulated time the firmware's own watchdog (250 ms); a pty test thread can stall a few ms, which is
      // seconds of device time at kSpeed.
      safety.heartbeat_timeout_ms = loop_ ? 250 : 2000;
      safety.max_open_us = 500000;
      safety.max_open_us_per_s = 600000;
      rig_->set_safety(safety);
    };
    events.on_trial_event = [this](const wire::TrialEvent& e, int64_t) {
      if (e.event == static_cast<uint8_t>(wire::TrialEventKind::kArmed)) ++armed[e.trial_id];
    };
    events.on_trial_result = [this](const wire::TrialResult& r, const device::TrialTimes&) { results.push_back(r); };
    events.on_fault = [this](const wire::Fault& f, int64_t) { faults.push_back(f); };
    rig_->start(events);
    EXPECT_TRUE(run_until([this] { return rig_->connected(); }, std::chrono::seconds(10)));
  }

  ~VmcuSession() {
    rig_->stop();
    if (vmcu_) vmcu_->stop();
  }

  // A board with `boot_id` (its seed too) and a random mouse, attached to the simulated line.
  void start_device(uint32_t boot_id) {
    device::VirtualMcuOptions options;
    options.line = loop_ ? device::VmcuLine::kInProcess : device::VmcuLine::kPty;
    options.speed = kSpeed;
    options.boot_id = boot_id;
    options.seed = boot_id;
    vmcu_ = std::make_unique<device::VirtualMcu>(options, std::make_unique<sim::RandomChooser>(boot_id, 0.5, 0.1));
    if (loop_) {
      loop_->attach(vmcu_.get());
    } else {
      vmcu_->start();
    }
  }

  // The board is gone (its end of the line closes with it).
  void kill_device() {
    if (loop_) loop_->attach(nullptr);
    vmcu_->stop();
    vmcu_.reset();
  }

  // Runs host and board until `done` or `limit`: simulated time, or on a pty wall time (a guard against a
  // hang, never a throughput assertion).
  template <typename Done>
  bool run_until(Done done, std::chrono::milliseconds limit) {
    if (loop_) return loop_->run_until(done, limit);
    const auto end = std::chrono::steady_clock::now() + limit * 10;
    while (!done() && std::chrono::steady_clock::now() < end) io_.run_for(std::chrono::milliseconds(5));
    return done();
  }

  // Simulated time since the session began (the simulated line only).
  std::chrono::microseconds elapsed() const { return loop_ ? loop_->elapsed() : std::chrono::microseconds(0); }

  // Arms a trial and waits for its result (or `limit`). Returns true when the result came.
  bool run_trial(uint32_t id, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    rig_->arm_trial(session_trial(id), [this, id](const link::CommandResult& r) {
      if (r.acknowledged) acks[id].push_back(r.status);
    });
    return run_until([&] { return has_result(id); }, limit);
  }

  bool has_result(uint32_t id) const {
    for (const auto& r : results) {
      if (r.trial_id == id) return true;
    }
    return false;
  }

  // Every result once, in arming order; every trial armed once; deliveries only what the trial called for.
  void expect_exactly_once_in_order(uint32_t first, uint32_t last) const {
    std::vector<uint32_t> ids;
    for (const auto& r : results) ids.push_back(r.trial_id);
    std::vector<uint32_t> expected;
    for (uint32_t id = first; id <= last; ++id) expected.push_back(id);
    EXPECT_EQ(ids, expected);
    for (uint32_t id = first; id <= last; ++id) {
      auto it = armed.find(id);
      EXPECT_TRUE(it != armed.end() && it->second == 1) << "trial " << id << " armed " << (it == armed.end() ? 0 : it->second) << " times";
    }
    for (const auto& r : results) {
      const wire::ArmTrial t = session_trial(r.trial_id);
      if (r.outcome == static_cast<uint8_t>(wire::TrialOutcome::kLeft) ||
          r.outcome == static_cast<uint8_t>(wire::TrialOutcome::kRight)) {
        const auto side = static_cast<wire::Side>(r.outcome);
        EXPECT_EQ(r.delivered_open_us[0], t.open_us[wire::open_index(side, wire::Valve::kCherry)]) << "trial " << r.trial_id;
        EXPECT_EQ(r.delivered_open_us[1], t.open_us[wire::open_index(side, wire::Valve::kGrape)]) << "trial " << r.trial_id;
      } else if (r.outcome == static_cast<uint8_t>(wire::TrialOutcome::kWatchdogAbort) ||
                 r.outcome == static_cast<uint8_t>(wire::TrialOutcome::kAborted)) {
        // Cut short (a stalled test machine can starve the heartbeat): never more than either side's plan.
        for (uint8_t v = 0; v < wire::kValveCount; ++v) {
          const uint32_t most = std::max(t.open_us[wire::open_index(wire::Side::kLeft, static_cast<wire::Valve>(v))],
                                         t.open_us[wire::open_index(wire::Side::kRight, static_cast<wire::Valve>(v))]);
          EXPECT_LE(r.delivered_open_us[v], most) << "trial " << r.trial_id;
        }
      } else {
        EXPECT_EQ(r.delivered_open_us[0] + r.delivered_open_us[1], 0u) << "trial " << r.trial_id;
      }
    }
  }

  boost::asio::io_context io_;
  BoardLine line_;
  std::unique_ptr<device::SimLoop> loop_;  // made before the rig, so the link's timers run on its clock
  std::unique_ptr<device::VirtualMcu> vmcu_;
  std::unique_ptr<device::SerialRig> rig_;
  std::vector<link::LinkStatus> statuses;
  std::vector<wire::TrialResult> results;
  std::vector<wire::Fault> faults;
  std::map<uint32_t, int> armed;
  std::map<uint32_t, std::vector<wire::AckStatus>> acks;
  int resets = 0;
};

}  // namespace rig::test
