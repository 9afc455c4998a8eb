#include "session_host.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <random>

#include "agent_chooser.hpp"
#include "host/task/compatibility.hpp"
#include "host/task/engine_state.hpp"

namespace rig::app {
namespace {

// The day's water after the session, read back from the store (the session's trials are all committed by
// now): what the mouse earned and the top-up still owed to reach its minimum. When the store cannot be read,
// the day before the session plus this run's rewards (a resumed session's earlier trials are then counted
// twice; the message says so).
nlohmann::json water_after_session(const std::string& db_path, const task::Subject& subject,
                                   const task::WelfareStatus& before, const SessionEnd& end,
                                   const store::SubjectElsewhere* elsewhere) {
  const double earned_ul = end.volume_ul_by_valve[0] + end.volume_ul_by_valve[1];
  task::WelfareStatus after = before;
  std::string note;
  try {
    const store::Store db = store::Store::open(db_path, store::OpenOptions::reading());
    after = read_welfare(db, subject, local_today(), elsewhere);
  } catch (const std::exception& e) {
    after.session_today_ul += earned_ul;
    after.owed_ul = std::max(0.0, after.minimum_ul - after.total_today_ul());
    note = std::string("estimated: the store could not be read (") + e.what() + ")";
  }
  return {{"session_ul", earned_ul},
          {"today_ul", after.total_today_ul()},
          {"target_ul", after.target_ul},
          {"minimum_ul", after.minimum_ul},
          {"topup_owed_ul", after.owed_ul},
          {"note", note}};
}

}  // namespace

SessionPlan SessionHost::prepare(const SessionHostOptions& options, const Notice& notice) {
  SessionPlan plan;
  plan.options = options;
  plan.inputs = load_run_inputs(options.config, options.subjects, options.subject, options.protocol,
                                options.confine_protocol);
  RunInputs& in = plan.inputs;
  if (options.max_trials > 0) in.protocol.limits.max_trials = options.max_trials;
  for (const auto& w : task::stale_calibration_warnings(in.rig, today())) notice("warning: " + w);

  plan.db_path = options.db.empty() ? store::Store::default_path() : options.db;
  if (options.resume && !std::filesystem::exists(plan.db_path)) {
    // Nothing to resume, and no reason to leave an empty database behind.
    throw InputError("no session of " + in.subject.id + " to resume: there is no database " + plan.db_path);
  }
  // Before the store is touched: a subject running on another rig stops the start here.
  if (options.elsewhere) plan.elsewhere = options.elsewhere(in.rig, in.subject.id);
  store::Store& db = plan.db.emplace(store::Store::open(plan.db_path));
  for (int64_t id : db.mark_interrupted_sessions()) {
    notice("session " + std::to_string(id) + " had been interrupted; it is marked as such");
  }

  SessionConfig& config = plan.config;
  config.protocol = in.protocol;
  config.rig_config = in.rig;
  config.subject = in.subject;
  config.speed = options.speed;
  config.seed = options.seed ? options.seed
                             : std::random_device{}() | (static_cast<uint64_t>(std::random_device{}()) << 32);
  plan.recording = RecordingContext{in.protocol_path, in.protocol_text, in.rig_path, in.rig_text, in.rig, in.subject,
                                    "", RIG_HOST_VERSION, std::nullopt, ""};
  if (options.resume) {
    const auto last = db.latest_session(in.subject.id);
    if (!last) throw InputError("no session of " + in.subject.id + " to resume in " + plan.db_path);
    const store::ResumePoint point = db.resume_point(last->session_id);
    if (point.protocol_sha256 != store::sha256_hex(in.protocol_text)) {
      throw InputError("session " + std::to_string(last->session_id) + " ran " + point.protocol_path +
                       " with different contents; resume it with the same protocol file");
    }
    config.resume = task::engine_state_from_json(point.state_json);
    db.for_each_trial(last->session_id, [&](const store::StoredTrial& t) { config.resumed_tally.add(t); });
    config.seed = point.rng_seed;
    plan.recording.resume_session_id = last->session_id;
    notice("resuming session " + std::to_string(last->session_id) + " after trial " +
           std::to_string(point.last_trial_number));
  }
  const store::SubjectElsewhere* elsewhere = plan.elsewhere ? &*plan.elsewhere : nullptr;
  plan.history = subject_history(db, in.subject.id, elsewhere);

  plan.device = device_request(options.device, in.rig, options.speed, config.seed);
  plan.recording.device_kind = device_kind_name(plan.device.kind);
  if (plan.device.kind != DeviceChoice::kSerial) {
    plan.device.chooser = std::make_unique<AgentChooser>(agent_params_for(in.subject, in.subjects_path),
                                                         in.subject.controllable, config.seed ^ 0x9E3779B97F4A7C15ull);
  }
  plan.device.simavr_program = sibling_program("rig-simavr");

  WeightSource weight = options.weight;
  weight.simulated_body = plan.device.kind != DeviceChoice::kSerial && in.subject.simulated_agent.has_value();
  WeightCheck check = check_weight_before_session(db, in.subject, weight, elsewhere);
  if (check.status.under_threshold) {
    notice("warning: " + in.subject.id + " is under its weight threshold; training anyway: " + weight.override_reason);
  }
  plan.recording.weight_check_json = check.detail.dump();
  plan.welfare = std::move(check.status);
  // Water by hand today counts towards the daily maximum too.
  if (!options.resume) config.water_before_session_ul = plan.welfare.total_today_ul();
  return plan;
}

SessionHost::SessionHost(boost::asio::io_context& io, SessionPlan plan, Publish publish, AlertSink* alerts)
    : io_(io), options_(std::move(plan.options)), inputs_(std::move(plan.inputs)), db_path_(std::move(plan.db_path)),
      config_(std::move(plan.config)), welfare_(std::move(plan.welfare)), elsewhere_(std::move(plan.elsewhere)) {
  const RunInputs& in = inputs_;
  RecordingContext recording = std::move(plan.recording);
  device_ = make_device(io, std::move(plan.device));
  config_.device_description = device_->describe();

  const int64_t fit_session_id = recording.resume_session_id.value_or(-1);
  recorder_ = std::make_unique<StoreRecorder>(io, std::move(*plan.db), std::move(recording));
  live_ = std::make_unique<LiveFit>(std::move(plan.history), fit_session_id);
  runner_ = SessionRunner::create(io, device_->rig(), config_, *recorder_);
  runner_->add_observer(live_.get());
  if (alerts) {
    alert_view_ = std::make_unique<AlertObserver>(
        io, *alerts, in.rig.alerts, in.protocol.limits.max_minutes, in.subject.id,
        [this] { return recorder_->session_id(); },
        [this](const model::Alert& alert) { recorder_->event("alert", alert.raised_at_unix_us, model::alert_json(alert).dump()); });
    runner_->add_observer(alert_view_.get());
  }

#if defined(RIG_HAVE_MONITOR)
  if (publish) {
    MonitorContext context{in.subject.id, in.protocol.name, welfare_.target_ul,
                           config_.water_before_session_ul, [this] { return device_->rig().link_stats(); },
                           [this] { return recorder_->session_id(); }, config_.rig_config.sync,
                           config_.rig_config.licks.enabled, welfare_.minimum_ul, welfare_json(welfare_),
                           protocol_detail_json(in.protocol, in.protocol_path, in.protocol_text)};
    monitor_view_ = std::make_unique<MonitorObserver>(*live_, std::move(context), std::move(publish));
  }
#else
  (void)publish;
#endif
}

SessionHost::~SessionHost() {
  if (reporter_.joinable()) reporter_.join();
}

void SessionHost::start(Done done) {
#if defined(RIG_HAVE_MONITOR)
  if (monitor_view_) runner_->add_observer(monitor_view_.get());
#endif
  runner_->start([this, done = std::move(done)](const SessionEnd& end) {
    // The report's final fit and randomization test take a while: a worker computes them and posts back.
    const int64_t session_id = recorder_->session_id();
    std::weak_ptr<int> alive = alive_;
    // The io context must not run out of work while the report is computed (after a Ctrl-C nothing else
    // may be pending on it), or its run() returns before `done` is posted.
    auto work = boost::asio::make_work_guard(io_);
    reporter_ = std::thread([this, end, session_id, alive, done, work = std::move(work)]() mutable {
      live_->wait_idle();
      nlohmann::json report = session_report(end, live_->trials(), options_.crt, config_.seed,
                                             inputs_.subject.id, session_id, recorder_->path());
      report["water"] = water_after_session(db_path_, inputs_.subject, welfare_, end, elsewhere_ ? &*elsewhere_ : nullptr);
      boost::asio::post(io_, [alive, end, done, report = std::move(report)] {
        if (alive.lock()) done(end, report);
      });
      work.reset();
    });
  });
}

}  // namespace rig::app
