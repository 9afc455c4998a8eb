#include "vmcu/sim_loop.hpp"

#include <stdexcept>
#include <thread>

namespace rig::device {

SimLoop::SimLoop(boost::asio::io_context& io, uint32_t slice_us)
    : io_(io), work_(boost::asio::make_work_guard(io)), slice_us_(slice_us) {
  if (slice_us_ == 0) throw std::invalid_argument("SimLoop: slice_us must be > 0");
}

SimLoop::~SimLoop() = default;

std::function<std::unique_ptr<link::OpenPort>()> SimLoop::line_opener() {
  return [this]() -> std::unique_ptr<link::OpenPort> {
    if (!vmcu_) throw std::runtime_error("no board on the simulated line");
    poll_due_ = true;
    return std::make_unique<link::OpenPort>(vmcu_->plug_host(), nullptr, vmcu_->path(), false);
  };
}

bool SimLoop::busy() const {
  for (const auto& check : busy_) {
    if (check()) return true;
  }
  return false;
}

void SimLoop::settle() {
  io_.poll();
  // Work handed to another thread (a commit) takes no simulated time: wait for it, then run what it posted
  // back (posted before it reported idle), and so on until the host has nothing left in flight.
  while (busy()) {
    while (busy()) std::this_thread::sleep_for(std::chrono::microseconds(50));
    io_.poll();
  }
}

void SimLoop::step() {
  const bool device_spoke = vmcu_ && vmcu_->step() > 0;
  const size_t timers_due = time_.advance(std::chrono::microseconds(slice_us_));
  elapsed_ += std::chrono::microseconds(slice_us_);
  // A poll runs everything ready, including what its own handlers post, so after one only the board's bytes,
  // timers coming due and other threads' work can make the host ready again (sockets of outside clients, such
  // as a dashboard's, are served at the next of those). Skipping the other polls changes nothing the session
  // sees and saves most of the loop's system calls.
  if (device_spoke || timers_due > 0 || poll_due_ || busy()) {
    settle();
    poll_due_ = false;
  }
}

bool SimLoop::run_until(const std::function<bool()>& done, std::chrono::microseconds limit) {
  settle();
  const auto end = elapsed_ + limit;
  while (!done() && elapsed_ < end) step();
  return done();
}

void SimLoop::run_for(std::chrono::microseconds duration) {
  run_until([] { return false; }, duration);
}

}  // namespace rig::device
