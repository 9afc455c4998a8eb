// rigd's background push to the lab database: its own thread, its own store connection and its own PostgreSQL
// connection, so a session never waits for the network (DESIGN.md decision 12). Every interval (and at once
// when asked) it pushes the whole outbox; when the lab is unreachable it says so and tries again next interval,
// the outbox growing meanwhile.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

namespace rig::lab {

// Where the push stands, for the rig's status and dashboard.
struct LabPushState {
  std::string server;           // "host:port/database as user" once connected, else the URL's host
  std::string state = "starting";  // starting | ok (the outbox empty at the last push) | unreachable | failing
  std::int64_t backlog_entries = 0;
  std::optional<double> oldest_waiting_s;  // age of the oldest outbox entry, when one waits
  std::optional<std::int64_t> last_push_unix_us;  // the last push that completed
  std::int64_t rows_pushed = 0;  // since rigd started
  std::string last_error;        // the last failure, empty once a push succeeds
};

// The state as the status's `lab` object: {server, state, backlog_entries, oldest_waiting_s, last_push_unix_us,
// rows_pushed, last_error} (null where unknown). Pure; thread-safe.
nlohmann::json lab_push_state_json(const LabPushState& state);

struct LabPusherOptions {
  std::string db_path;   // the rig's store
  std::string conninfo;  // the lab (checked: no password)
  std::string rig_id;
  std::chrono::milliseconds interval{1000};
  std::size_t batch_entries = 5000;
  // A statement the lab has not answered in this long fails (a stalled network or proxy), the connection is
  // dropped and the next attempt reconnects.
  std::chrono::milliseconds answer_timeout{30000};
  // Called on the pusher's thread after each attempt (tell the dashboard, log a change).
  std::function<void(const LabPushState&)> on_state;
  // Wall clock, us since the Unix epoch (tests substitute one).
  std::function<std::int64_t()> clock_unix_us;
};

class LabPusher {
 public:
  // Starts the thread. Throws LabInputError when options.conninfo carries a password or cannot be parsed.
  explicit LabPusher(LabPusherOptions options);
  // Stops the thread and joins it: a push in progress ends at once (its batch stays in the outbox, sent again by
  // the next push), also one waiting for a lab that stopped answering; a connection attempt ends within its
  // 5 s timeout.
  ~LabPusher();
  LabPusher(const LabPusher&) = delete;
  LabPusher& operator=(const LabPusher&) = delete;

  // Pushes now rather than at the next interval (e.g. after a session ended). Thread-safe.
  void push_soon();
  // The last state. Thread-safe.
  LabPushState state() const;

 private:
  void run();

  LabPusherOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool soon_ = false;
  LabPushState state_;
  int abort_pipe_[2] = {-1, -1};  // written once when stopping: ends the connection's waits at once
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace rig::lab
