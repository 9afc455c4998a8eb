// Runs one training session: the task engine decides each trial, the Rig runs it on the device, a recorder
// makes each completed trial durable before the next is armed, observers (progress line, live fit, dashboard)
// see every trial. Everything happens on one io_context thread; recording runs on the recorder's own thread
// and posts back.
#pragma once

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "host/model/trial_record.hpp"
#include "host/session/lick_tracker.hpp"
#include "host/task/engine.hpp"
#include "host/task/protocol.hpp"
#include "host/task/rig_config.hpp"
#include "host/task/stages.hpp"
#include "host/task/subject.hpp"
#include "host_clock.hpp"
#include "rig.hpp"

namespace rig::app {

// Steady-clock nanoseconds (std::chrono::steady_clock's epoch), the unit of TrialTiming.
inline int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// When one trial passed each step of the host path (steady_now_ns(); 0: not reached), for latency
// measurement (`rig run --latency-log`, docs/performance.md). Shared by every copy of the CompletedTrial; each
// stamp is written once, by the thread that does that step.
struct TrialTiming {
  int64_t received_ns = 0;               // the link delivered the device's TrialResult (io thread)
  std::atomic<int64_t> committed_ns{0};  // the trial's store transaction returned (recorder thread)
  std::atomic<int64_t> published_ns{0};  // its dashboard event was handed to publish (io thread)
};

// One finished trial with everything the store and the observers need.
struct CompletedTrial {
  model::TrialRecord record;               // the trial as the store keeps it (host/model/trial.def)
  std::vector<model::WheelSamples> wheel;  // the wheel batches since the previous trial
  task::EngineState state_after;           // the engine after the trial: the next block and high side are in
                                           // state_after.schedule
  bool synthesized = false;  // the device restarted mid-trial or lost the result (event queue overflow):
                             // the host recorded the trial as aborted
  model::RecordingChunk recording;  // licks, sync edges and camera runs since the previous trial
  std::shared_ptr<TrialTiming> timing;  // only when SessionConfig::time_trials
};

struct SessionStartInfo {
  std::string subject_id;
  std::string device_description;
  link::DeviceInfo device;
  uint64_t seed = 0;
  task::EngineState initial_state;
};

// How a session ended, with the counts of the whole session (model::TrialTally): after a resume, the trials
// before it too.
struct SessionEnd : model::TrialTally {
  std::string reason;        // plain words: "max_trials reached", "stopped by the operator", ...
  bool error = false;        // ended by a failure (device lost for good, disk full, ...)
  task::SessionSummary summary;
  task::AdvanceDecision advance;
  link::LinkStats link;
  uint32_t resumed_after_trials = 0;  // trials the session had when this run resumed it (0: not a resume)
  model::RecordingChunk recording_tail;  // recorded after the last trial; the recorder writes it before the end
};

// Makes trials durable. begin/commit/event/end are called on the io thread and return at once; `done` runs
// on the io thread when the work is durable (or failed: `error` set).
class SessionRecorder {
 public:
  virtual ~SessionRecorder() = default;
  virtual void begin(const SessionStartInfo& info, std::function<void(std::optional<std::string> error)> done) = 0;
  virtual void commit(const CompletedTrial& trial, std::function<void(std::optional<std::string> error)> done) = 0;
  virtual void event(const std::string& kind, int64_t t_us, const std::string& detail_json) = 0;
  virtual void end(const SessionEnd& end, std::function<void()> done) = 0;
};

// Sees the session as it runs (io thread; must not block).
class SessionObserver {
 public:
  virtual ~SessionObserver() = default;
  virtual void on_started(const SessionStartInfo&) {}
  virtual void on_trial(const CompletedTrial&) {}
  virtual void on_link(const link::LinkStatus&) {}
  virtual void on_fault(const wire::Fault&, int64_t) {}
  virtual void on_wheel(const device::WheelSamples&) {}
  virtual void on_finished(const SessionEnd&) {}
};

struct SessionConfig {
  task::Protocol protocol;
  task::RigConfig rig_config;
  task::Subject subject;
  uint64_t seed = 0;
  double speed = 1.0;                         // device time per wall time (simulated devices)
  double water_before_session_ul = 0.0;
  std::optional<task::EngineState> resume;    // continue a session exactly
  model::TrialTally resumed_tally;            // with `resume`: the counts of the session's trials so far
  std::string device_description;
  std::chrono::seconds connect_timeout{20};
  bool time_trials = false;                   // stamp each CompletedTrial's TrialTiming (benchmarks)
};

// Its timers and its clock are link::HostClock's (simulated time under a link::SimulatedTime).
// Not thread-safe: the io_context thread only (request_stop may be posted from a signal handler's strand).
class SessionRunner : public std::enable_shared_from_this<SessionRunner> {
 public:
  static std::shared_ptr<SessionRunner> create(boost::asio::io_context& io, device::Rig& rig, SessionConfig config,
                                               SessionRecorder& recorder);

  void add_observer(SessionObserver* observer) { observers_.push_back(observer); }
  // Connects, configures the device, then runs trials until a limit, a stop request or a failure. `done` runs
  // once at the end (after the recorder has finished).
  void start(std::function<void(const SessionEnd&)> done);
  // Ends the session cleanly: the trial in flight is aborted on the device and recorded as aborted.
  void request_stop(const std::string& reason);

  const task::TaskEngine& engine() const { return *engine_; }
  bool running() const { return started_ && !finished_; }

 private:
  SessionRunner(boost::asio::io_context& io, device::Rig& rig, SessionConfig config, SessionRecorder& recorder);

  int64_t session_now_us() const;
  void on_device(const link::DeviceInfo& info, bool reset);
  void configure_device();
  void next_trial();
  // Sends the arm of the trial in flight; a device that answers kBusy (no room for the result yet) gets it
  // again every kArmRetryUs, for at most kArmBusyLimitUs.
  void arm_in_flight();
  void on_result(const wire::TrialResult& result, const device::TrialTimes& times, bool synthesized = false);
  void on_device_status(const wire::DeviceStatus& status);
  // Refuses (finishes with the reason) a board whose recording pins differ from the rig config's.
  bool recording_pins_match(const link::DeviceInfo& info);
  void configure_recording();
  void on_licks(const std::vector<model::LickRecord>& licks, uint16_t glitches, uint32_t lost);
  void on_camera(const wire::CameraFrames& frames, int64_t first_frame_us, int64_t last_frame_us);
  // Keeps last_device_us_ the newest device time any report carried.
  void saw_device_time(int64_t device_us) { last_device_us_ = std::max(last_device_us_, device_us); }
  // Records the trial in flight as aborted by the host: its result cannot come any more.
  void record_lost_trial();
  void after_commit();
  void finish(const std::string& reason, bool error);

  boost::asio::io_context& io_;
  device::Rig& rig_;
  SessionConfig config_;
  SessionRecorder& recorder_;
  std::vector<SessionObserver*> observers_;
  std::unique_ptr<task::TaskEngine> engine_;
  std::function<void(const SessionEnd&)> done_;

  link::HostTimer timer_;
  link::HostClock::time_point wall_start_;
  int64_t clock_start_us_ = 0;

  bool started_ = false;
  bool configured_ = false;
  bool finished_ = false;
  bool stop_requested_ = false;
  std::string stop_reason_;
  std::optional<task::TrialPlan> in_flight_;
  bool in_flight_armed_ = false;  // the device acknowledged arming the trial in flight
  int64_t arm_busy_since_us_ = -1;  // session time of the first kBusy for the trial in flight
  bool events_lost_ = false;      // the device reported kFaultEventOverflow and its queue has not emptied since
  std::vector<device::WheelSamples> wheel_;
  model::RecordingChunk recording_;      // since the last commit
  std::optional<TrialLickTracker> lick_tracker_;  // with licks.enabled
  uint32_t last_trial_number_ = 0;
  std::optional<model::CameraRecord> camera_run_;  // a camera run that started and has not stopped
  int64_t last_device_us_ = 0;           // the newest device time seen (closes a camera run at the end)
  SessionEnd tally_;
  link::DeviceInfo device_;
};

}  // namespace rig::app
