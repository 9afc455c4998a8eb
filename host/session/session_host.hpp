// One session with everything around it, as `rig run` and rigd both need it: the checked inputs, the store
// (interrupted sessions marked, resume), the device, the store recorder, the live fit, the dashboard's view of
// the session (when a publisher is given) and, when the session ends, the end-of-session report.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "alerts.hpp"
#include "device_factory.hpp"
#include "live_fit.hpp"
#include "run_support.hpp"
#include "session_runner.hpp"
#include "store_recorder.hpp"
#include "welfare_support.hpp"
#if defined(RIG_HAVE_MONITOR)
#include "monitor_observer.hpp"
#endif

namespace rig::app {

// What one session runs with. Empty strings take the same defaults as `rig run`.
struct SessionHostOptions {
  std::string subject;     // subject id (required)
  std::string protocol;    // protocol YAML; "": the subject's current stage
  std::string config;      // rig config YAML; "": default_rig_config_path()
  std::string subjects;    // subjects YAML; "": subjects.yaml beside the rig config
  std::string device;      // sim | simavr | serial[:PATH]; "": the rig config's device
  double speed = 1.0;      // simulated devices: device time per wall time
  int64_t max_trials = 0;  // > 0: overrides the protocol's limit
  std::string db;          // session database; "": store::Store::default_path()
  bool resume = false;     // continue the subject's last session
  uint64_t seed = 0;       // trial draws; 0: random (recorded)
  int crt = 1000;          // randomization-test surrogates in the report (0: none)
  bool confine_protocol = false;  // `protocol` came in a request: it must be in the rig's protocol directories
  WeightSource weight;            // today's weight (check_weight_before_session)
  // What other rigs recorded of the subject (the app reads the lab: host/lab/subject_record.hpp), asked once the
  // rig config is loaded, on prepare()'s thread. nullopt: nothing known (no lab, or it could not be reached; it
  // tells the operator itself). May throw ConflictError (the subject runs on another rig): prepare() stops
  // there, before any weighing is recorded. Empty: this rig's records only.
  std::function<std::optional<store::SubjectElsewhere>(const task::RigConfig& rig, const std::string& subject_id)> elsewhere;
};

// What a session needs from the files and the database, read before the session is set up on the io thread.
struct SessionPlan {
  SessionHostOptions options;
  RunInputs inputs;
  std::string db_path;
  std::optional<store::Store> db;
  SessionConfig config;
  RecordingContext recording;
  std::vector<analysis::TrialRecord> history;  // the subject's earlier trials (the live fit starts from them)
  DeviceRequest device;                        // what make_device() sets up (the simulated mouse included)
  task::WelfareStatus welfare;                 // the subject's day before the session, today's weight settled
  std::optional<store::SubjectElsewhere> elsewhere;  // the subject's record on other rigs, when the lab gave it
};

class SessionHost {
 public:
  // Called with each notice worth telling the operator (stale calibration, interrupted sessions marked,
  // resuming), in plain words without a prefix.
  using Notice = std::function<void(const std::string& text)>;
  // Receives each dashboard event (io thread; must not block: MonitorServer::publish). Empty: no dashboard
  // view.
  using Publish = std::function<void(nlohmann::json event)>;
  // The session's end and its report (session_report()'s JSON), on the io thread.
  using Done = std::function<void(const SessionEnd& end, const nlohmann::json& report)>;

  // Loads and checks the inputs (the simulated mouse's too), opens the store (marking interrupted sessions),
  // prepares a resume, reads the subject's history and settles today's weight (check_weight_before_session:
  // a weighing may be recorded). Blocks for the file and database reads (and an operator's answer); any thread
  // (`notice` is called on it). Throws InputError or task::ConfigError for bad input (FILE:LINE:COL
  // diagnostics), WelfareRefusal under the weight threshold, store errors, std::runtime_error for a bad
  // simulated agent.
  static SessionPlan prepare(const SessionHostOptions& options, const Notice& notice);
  // Sets up the device, the recorder, the live fit and the dashboard's view for a prepared session; the
  // session itself starts with start(). Call on the io context's thread (or before it runs). Throws
  // std::runtime_error when the device cannot be set up.
  // `alerts` (may be null; must outlive the host): where the session's alerts go (AlertObserver).
  SessionHost(boost::asio::io_context& io, SessionPlan plan, Publish publish = {}, AlertSink* alerts = nullptr);
  // Waits for a report still being computed. Destroy it on the io thread, never from inside its own Done.
  ~SessionHost();
  SessionHost(const SessionHost&) = delete;
  SessionHost& operator=(const SessionHost&) = delete;

  // Adds an observer after the live fit and before the dashboard's view. Before start(); io thread.
  void add_observer(SessionObserver* observer) { runner_->add_observer(observer); }
  // Runs the session. `done` runs once on the io thread after the session ended and its report (with the
  // randomization test, computed on a worker thread so the io thread keeps serving) is ready. Call once.
  void start(Done done);
  // Ends the session cleanly (the trial in flight aborted and recorded as such); no-op once it ended.
  // io thread.
  void request_stop(const std::string& reason) { runner_->request_stop(reason); }

  // Water given by hand to `subject` while the session runs (the API recorded it): the dashboard counts it in
  // today's water when `subject` is the session's. io thread.
  void water_given(const std::string& subject, double volume_ul) {
#if defined(RIG_HAVE_MONITOR)
    if (monitor_view_ && subject == inputs_.subject.id && volume_ul > 0.0) monitor_view_->add_water_by_hand(volume_ul);
#else
    (void)subject;
    (void)volume_ul;
#endif
  }

  // True from start() until the session ended. io thread.
  bool running() const { return runner_->running(); }
  // The store's id of the session, 0 until the device connected and the store has the row. io thread.
  int64_t session_id() const { return recorder_->session_id(); }
  const std::string& subject_id() const { return inputs_.subject.id; }
  const std::string& protocol_name() const { return inputs_.protocol.name; }
  const std::string& db_path() const { return db_path_; }
  uint64_t seed() const { return config_.seed; }
  // The live fit (thread-safe reads, see LiveFit).
  const LiveFit& live_fit() const { return *live_; }

 private:
  boost::asio::io_context& io_;
  SessionHostOptions options_;
  RunInputs inputs_;
  std::string db_path_;
  SessionConfig config_;
  std::unique_ptr<DeviceHandle> device_;
  std::unique_ptr<StoreRecorder> recorder_;
  std::unique_ptr<LiveFit> live_;
#if defined(RIG_HAVE_MONITOR)
  std::unique_ptr<MonitorObserver> monitor_view_;
#endif
  std::unique_ptr<AlertObserver> alert_view_;
  std::shared_ptr<SessionRunner> runner_;
  task::WelfareStatus welfare_;  // before the session
  std::optional<store::SubjectElsewhere> elsewhere_;  // counted in the water after the session too
  std::thread reporter_;
  // Expires with the host, so a report posted after the host is gone is dropped.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace rig::app
