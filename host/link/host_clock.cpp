#include "host_clock.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <stdexcept>

namespace rig::link {

namespace detail {

// The simulated clock and the waits on it, shared with the timers that wait (weakly: a simulation may end
// before the timers that waited on it).
struct SimTimerQueue : std::enable_shared_from_this<SimTimerQueue> {
  struct Wait {
    boost::asio::io_context* io;
    TimerHandler handler;
  };
  HostClock::time_point now;
  uint64_t next_wait = 1;
  // Ordered by (expiry, the order waits started): what makes firing deterministic.
  std::map<std::pair<HostClock::time_point, uint64_t>, Wait> waits;
  std::map<uint64_t, HostClock::time_point> expiry_of;

  Wait take(uint64_t id) {
    const auto e = expiry_of.find(id);
    if (e == expiry_of.end()) return {nullptr, {}};
    const auto w = waits.find({e->second, id});
    Wait out = std::move(w->second);
    waits.erase(w);
    expiry_of.erase(e);
    return out;
  }
};

}  // namespace detail

namespace {

thread_local detail::SimTimerQueue* t_simulated = nullptr;

void post_result(boost::asio::io_context& io, TimerHandler handler, boost::system::error_code ec) {
  boost::asio::post(io, [handler = std::move(handler), ec] { handler(ec); });
}

}  // namespace

HostClock::time_point HostClock::now() noexcept {
  if (t_simulated) return t_simulated->now;
  return time_point(std::chrono::duration_cast<duration>(std::chrono::steady_clock::now().time_since_epoch()));
}

bool HostClock::simulated() noexcept { return t_simulated != nullptr; }

SimulatedTime::SimulatedTime(HostClock::time_point start) : queue_(std::make_shared<detail::SimTimerQueue>()) {
  if (t_simulated) throw std::logic_error("SimulatedTime: this thread already runs on a simulated clock");
  queue_->now = start;
  t_simulated = queue_.get();
}

SimulatedTime::~SimulatedTime() {
  if (t_simulated == queue_.get()) t_simulated = nullptr;
}

HostClock::time_point SimulatedTime::now() const { return queue_->now; }

size_t SimulatedTime::advance(HostClock::duration step) {
  if (step.count() < 0) throw std::invalid_argument("SimulatedTime: time cannot go back");
  queue_->now += step;
  size_t fired = 0;
  while (!queue_->waits.empty() && queue_->waits.begin()->first.first <= queue_->now) {
    const uint64_t id = queue_->waits.begin()->first.second;
    detail::SimTimerQueue::Wait due = queue_->take(id);
    post_result(*due.io, std::move(due.handler), {});
    ++fired;
  }
  return fired;
}

HostTimer::HostTimer(boost::asio::io_context& io) : io_(io), real_(io) {}

HostTimer::~HostTimer() {
  // A simulated wait is dropped, not completed: the io_context may itself be going away.
  if (const auto queue = sim_queue_.lock()) queue->take(sim_wait_);
}

void HostTimer::expires_after(HostClock::duration after) {
  cancel();
  expiry_ = HostClock::now() + after;
  real_.expires_after(after);
}

void HostTimer::async_wait(TimerHandler handler) {
  if (!t_simulated) {
    real_.async_wait(std::move(handler));
    return;
  }
  cancel();  // one wait at a time, as the host uses it
  if (expiry_ <= t_simulated->now) {
    post_result(io_, std::move(handler), {});
    return;
  }
  const uint64_t id = t_simulated->next_wait++;
  t_simulated->waits.emplace(std::make_pair(expiry_, id), detail::SimTimerQueue::Wait{&io_, std::move(handler)});
  t_simulated->expiry_of.emplace(id, expiry_);
  sim_queue_ = t_simulated->weak_from_this();
  sim_wait_ = id;
}

size_t HostTimer::cancel() {
  size_t ended = real_.cancel();
  if (const auto queue = sim_queue_.lock()) {
    detail::SimTimerQueue::Wait wait = queue->take(sim_wait_);
    if (wait.handler) {
      post_result(io_, std::move(wait.handler), boost::asio::error::operation_aborted);
      ++ended;
    }
  }
  sim_queue_.reset();
  sim_wait_ = 0;
  return ended;
}

}  // namespace rig::link
