#include "host/lab/lab_pusher.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "host/lab/lab_sync.hpp"
#include "host/lab/pg.hpp"
#include "host/model/trial_json.hpp"
#include "host/store/store.hpp"

namespace rig::lab {
namespace {

std::int64_t system_unix_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

nlohmann::json lab_push_state_json(const LabPushState& state) {
  return {{"server", state.server},
          {"state", state.state},
          {"backlog_entries", state.backlog_entries},
          {"oldest_waiting_s", model::optional_json(state.oldest_waiting_s)},
          {"last_push_unix_us", model::optional_json(state.last_push_unix_us)},
          {"rows_pushed", state.rows_pushed},
          {"last_error", state.last_error}};
}

LabPusher::LabPusher(LabPusherOptions options) : options_(std::move(options)) {
  check_conninfo(options_.conninfo);
  if (!options_.clock_unix_us) options_.clock_unix_us = system_unix_us;
  if (::pipe2(abort_pipe_, O_CLOEXEC) != 0) throw LabError(std::string("lab push: pipe: ") + std::strerror(errno));
  thread_ = std::thread([this] { run(); });
}

LabPusher::~LabPusher() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  const char stop = 1;
  [[maybe_unused]] const auto written = ::write(abort_pipe_[1], &stop, 1);
  thread_.join();
  ::close(abort_pipe_[0]);
  ::close(abort_pipe_[1]);
}

void LabPusher::push_soon() {
  {
    std::lock_guard lock(mutex_);
    soon_ = true;
  }
  wake_.notify_all();
}

LabPushState LabPusher::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

void LabPusher::run() {
  std::unique_ptr<PgConnection> lab;
  std::unique_ptr<store::Store> store;
  for (;;) {
    LabPushState next = state();
    bool connecting = false;
    try {
      if (!store) store = std::make_unique<store::Store>(store::Store::open(options_.db_path));
      connecting = !lab;
      if (!lab) {
        lab = std::make_unique<PgConnection>(options_.conninfo, PgTimeouts{5, options_.answer_timeout});
        lab->set_abort_fd(abort_pipe_[0]);
      }
      connecting = false;
      next.server = lab->server();
      PushOptions push;
      push.batch_entries = options_.batch_entries;
      const auto result = push_outbox(*store, *lab, options_.rig_id, push);
      next.rows_pushed += static_cast<std::int64_t>(result.rows);
      next.last_push_unix_us = options_.clock_unix_us();
      next.last_error.clear();
      next.state = "ok";
    } catch (const std::exception& e) {
      // A connection that failed once is not trusted again: the next attempt reconnects.
      lab.reset();
      next.last_error = e.what();
      next.state = connecting ? "unreachable" : "failing";
    }
    try {
      if (store) {
        const auto backlog = store->outbox_backlog();
        next.backlog_entries = backlog.entries;
        next.oldest_waiting_s.reset();
        if (backlog.oldest_queued_unix_us) {
          next.oldest_waiting_s = static_cast<double>(options_.clock_unix_us() - *backlog.oldest_queued_unix_us) / 1e6;
        }
      }
    } catch (const std::exception& e) {
      store.reset();
      next.last_error = e.what();
      next.state = "failing";
    }
    {
      std::lock_guard lock(mutex_);
      state_ = next;
    }
    if (options_.on_state) options_.on_state(next);
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, options_.interval, [this] { return stop_ || soon_; });
    soon_ = false;
    if (stop_) return;
  }
}

}  // namespace rig::lab
