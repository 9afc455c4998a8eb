// Runs a virtual MCU and the host's io_context together on one simulated clock (DESIGN decision 11): the
// board runs a slice, the host's clock (link::HostClock) moves by the same slice, and the io_context runs
// every handler that is then ready: bytes from the board, expired link::HostTimers (heartbeats, retransmission, silence
// detection, reconnect backoff, the session's ITI and limits). Host work handed to other threads (the store's
// worker) is waited for before time moves on, so it takes no simulated time. Nothing depends on wall time: a
// test's outcome depends only on its seeds, and it runs as fast as the CPU allows.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "host_clock.hpp"
#include "serial_port.hpp"
#include "vmcu/virtual_mcu.hpp"

namespace rig::device {

// Not thread-safe: make it, use it and destroy it on one thread, which becomes the io_context's thread and
// runs on simulated time while the loop lives (make the loop before the link or session that it drives, so
// their timers are set on simulated time).
class SimLoop {
 public:
  explicit SimLoop(boost::asio::io_context& io, uint32_t slice_us = 250);
  ~SimLoop();
  SimLoop(const SimLoop&) = delete;
  SimLoop& operator=(const SimLoop&) = delete;

  // The board the loop steps, or none (nullptr: no device on the line). Not owned; must have an in-process
  // line (VmcuLine::kInProcess) and outlive its attachment.
  void attach(VirtualMcu* vmcu) {
    vmcu_ = vmcu;
    poll_due_ = true;  // a board gone or come changes the line the host reads
  }
  // Host work running on other threads: while `busy()` is true, time does not move (the loop polls the
  // io_context until it is false). `busy` is called on the loop's thread and must be thread-safe with that work.
  void add_busy_check(std::function<bool()> busy) { busy_.push_back(std::move(busy)); }

  // For link::LinkOptions::open_line: plugs a new cable into the attached board; throws std::runtime_error
  // when none is attached (the link retries with its backoff, as for a board not yet enumerated).
  std::function<std::unique_ptr<link::OpenPort>()> line_opener();

  // One slice: the board runs, the clock moves `slice_us`, ready handlers run, busy host work is waited for.
  void step();
  // Steps until `done()` (checked after every slice) or `limit` of simulated time. Returns done().
  bool run_until(const std::function<bool()>& done, std::chrono::microseconds limit);
  // Steps for `duration` of simulated time.
  void run_for(std::chrono::microseconds duration);

  // Simulated time since the loop was made.
  std::chrono::microseconds elapsed() const { return elapsed_; }

 private:
  void settle();
  bool busy() const;

  boost::asio::io_context& io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  link::SimulatedTime time_;
  uint32_t slice_us_;
  VirtualMcu* vmcu_ = nullptr;
  std::vector<std::function<bool()>> busy_;
  std::chrono::microseconds elapsed_{0};
  bool poll_due_ = true;  // the line changed (a board attached or gone, a new cable): the host must look
};

}  // namespace rig::device
