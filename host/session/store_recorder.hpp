// Makes a session durable in the SQLite store: every call is queued to a worker thread that owns the store
// connection, and completion is posted back to the io thread, so a commit never blocks the rig's thread.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "host/store/store.hpp"
#include "session_runner.hpp"

namespace rig::app {

// A session end's counts (model::tally_json), resumed_after_trials, volume_ul by flavour (the engine's
// summary) and stage_decision {advance, to, reason}: what the stored end and the printed summary share. Pure.
nlohmann::json session_end_counts_json(const SessionEnd& end);

// JSON text of a session's end (reason, counts, volumes, stage decision, link counters). Pure.
std::string session_end_json(const SessionEnd& end);

struct RecordingContext {
  std::string protocol_path;
  std::string protocol_text;
  std::string rig_config_path;
  std::string rig_config_text;
  task::RigConfig rig_config;
  task::Subject subject;
  std::string device_kind;    // sim | simavr | serial
  std::string host_version;
  std::optional<int64_t> resume_session_id;  // continue this session's row instead of starting a new one
  std::string weight_check_json;  // stored as the session's `weight_check` event when it begins (may be empty)
};

class StoreRecorder final : public SessionRecorder {
 public:
  // Takes the opened store (moved to the worker thread). Thread: construct and call on the io thread.
  StoreRecorder(boost::asio::io_context& io, store::Store store, RecordingContext context);
  ~StoreRecorder() override;

  void begin(const SessionStartInfo& info, std::function<void(std::optional<std::string>)> done) override;
  void commit(const CompletedTrial& trial, std::function<void(std::optional<std::string>)> done) override;
  void event(const std::string& kind, int64_t t_us, const std::string& detail_json) override;
  void end(const SessionEnd& end, std::function<void()> done) override;

  // The session's id once begin() completed (0 before). io thread.
  int64_t session_id() const { return session_id_; }
  // True when no call's work is queued or running on the worker (its completion may still wait on the io
  // thread). Thread-safe. A simulation waits for it before moving time on (device::SimLoop::add_busy_check).
  bool idle() const { return unfinished_jobs_.load() == 0; }
  const std::string& path() const { return path_; }

 private:
  void enqueue(std::function<void(store::Store&)> job);
  void run();

  boost::asio::io_context& io_;
  std::string path_;
  RecordingContext context_;
  int64_t session_id_ = 0;         // io thread's copy, for session_id()
  int64_t worker_session_id_ = 0;  // the worker's: every job after begin's stores under it
  std::atomic<size_t> unfinished_jobs_{0};

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void(store::Store&)>> jobs_;
  bool stopping_ = false;
  store::Store store_;
  std::thread worker_;
};

}  // namespace rig::app
