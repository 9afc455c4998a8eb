// The clock and the timers of the host (link retransmission, heartbeats, silence detection, reconnect backoff,
// the session's ITI and limits). Outside a simulation they are the steady clock and Boost.Asio's steady
// timers. On a thread that holds a SimulatedTime, they are that simulation's: time stands still until the
// simulation advances it, and a timer fires when the simulated time reaches it, so what a test sees depends on
// its seed, never on how fast the machine is (DESIGN decision 11, ADR 0003).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>

namespace rig::link {

struct HostClock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<HostClock>;
  static constexpr bool is_steady = true;

  // The simulated time of this thread's SimulatedTime, else the steady clock. Thread-safe (each thread
  // sees its own simulation, if any).
  static time_point now() noexcept;
  // Whether this thread runs on simulated time.
  static bool simulated() noexcept;
};

using TimerHandler = std::function<void(const boost::system::error_code&)>;

namespace detail {
struct SimTimerQueue;
}

// While it lives, HostClock::now() on the thread that made it returns this object's time, which moves only by
// advance(), and HostTimers that start waiting on that thread wait for it. One per thread at a time (a second
// one throws std::logic_error). Not thread-safe: the thread that made it only, which must also destroy it.
class SimulatedTime {
 public:
  explicit SimulatedTime(HostClock::time_point start = HostClock::time_point(std::chrono::hours(1)));
  ~SimulatedTime();
  SimulatedTime(const SimulatedTime&) = delete;
  SimulatedTime& operator=(const SimulatedTime&) = delete;

  HostClock::time_point now() const;
  // Moves time forward by `step` (a negative step throws std::invalid_argument) and posts the handler of every
  // timer now due to its io_context, earliest first (timers due at the same time in the order they started
  // waiting). The handlers run when that io_context next runs. Returns how many timers came due.
  size_t advance(HostClock::duration step);

 private:
  std::shared_ptr<detail::SimTimerQueue> queue_;
};

// A one-shot timer with the part of Asio's waitable-timer interface the host uses. On a thread holding a
// SimulatedTime when async_wait() is called, it waits in simulated time; otherwise it is an Asio steady timer.
// Like Asio's: a wait ends once, with success or boost::asio::error::operation_aborted (cancel(), a new expiry),
// and the handler runs on the io_context; a simulated wait still pending when the timer is destroyed is dropped. Not thread-safe: the io_context's thread only.
class HostTimer {
 public:
  explicit HostTimer(boost::asio::io_context& io);
  ~HostTimer();
  HostTimer(const HostTimer&) = delete;
  HostTimer& operator=(const HostTimer&) = delete;

  // Sets the expiry `after` from HostClock::now(); a pending wait ends with operation_aborted.
  void expires_after(HostClock::duration after);
  HostClock::time_point expiry() const { return expiry_; }
  void async_wait(TimerHandler handler);
  // Ends a pending wait with operation_aborted. Returns how many waits it ended (0 or 1).
  size_t cancel();

 private:
  boost::asio::io_context& io_;
  boost::asio::steady_timer real_;
  HostClock::time_point expiry_{};
  std::weak_ptr<detail::SimTimerQueue> sim_queue_;  // while a simulated wait is pending
  uint64_t sim_wait_ = 0;
};

}  // namespace rig::link
