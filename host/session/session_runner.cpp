#include "session_runner.hpp"

#include <boost/asio/post.hpp>
#include <cmath>
#include <nlohmann/json.hpp>

#include "host/task/names.hpp"
#include "host/task/record.hpp"
#include "device_policy.hpp"

namespace rig::app {

using namespace std::chrono_literals;

std::shared_ptr<SessionRunner> SessionRunner::create(boost::asio::io_context& io, device::Rig& rig,
                                                     SessionConfig config, SessionRecorder& recorder) {
  return std::shared_ptr<SessionRunner>(new SessionRunner(io, rig, std::move(config), recorder));
}

SessionRunner::SessionRunner(boost::asio::io_context& io, device::Rig& rig, SessionConfig config,
                             SessionRecorder& recorder)
    : io_(io), rig_(rig), config_(std::move(config)), recorder_(recorder), timer_(io) {
  if (config_.speed <= 0) config_.speed = 1.0;
  if (config_.resume) {
    engine_ = std::make_unique<task::TaskEngine>(config_.protocol, config_.rig_config, config_.subject, *config_.resume);
    static_cast<model::TrialTally&>(tally_) = config_.resumed_tally;
    tally_.resumed_after_trials = config_.resumed_tally.trials;
  } else {
    engine_ = std::make_unique<task::TaskEngine>(config_.protocol, config_.rig_config, config_.subject, config_.seed,
                                                 config_.water_before_session_ul);
  }
}

int64_t SessionRunner::session_now_us() const {
  // The engine's clock: wall time, compressed by the speed of a simulated device. A resumed session carries
  // on from its saved ITI end so its timing continues where it stopped.
  const auto wall = std::chrono::duration_cast<std::chrono::microseconds>(link::HostClock::now() - wall_start_);
  return clock_start_us_ + static_cast<int64_t>(static_cast<double>(wall.count()) * config_.speed);
}

void SessionRunner::start(std::function<void(const SessionEnd&)> done) {
  done_ = std::move(done);
  started_ = true;
  wall_start_ = link::HostClock::now();
  const task::EngineState state = engine_->state();
  if (state.ready_at_us) {
    clock_start_us_ = *state.ready_at_us;
  } else if (state.session_start_us) {
    clock_start_us_ = *state.session_start_us;
  }

  if (config_.rig_config.licks.enabled) lick_tracker_.emplace(config_.rig_config.licks.consumed_window_us);
  device::RigEvents events;
  auto self = shared_from_this();
  events.on_link = [self](const link::LinkStatus& status) {
    for (auto* o : self->observers_) o->on_link(status);
    if (self->configured_ && status.state != link::LinkState::kConnected) {
      const nlohmann::json detail = {{"state", link::link_state_name(status.state)}, {"reason", status.reason}};
      self->recorder_.event("link", self->session_now_us(), detail.dump());
    }
    if (status.state == link::LinkState::kFailed) self->finish("the device link failed: " + status.reason, true);
  };
  events.on_device = [self](const link::DeviceInfo& info, bool reset) { self->on_device(info, reset); };
  events.on_trial_result = [self](const wire::TrialResult& r, const device::TrialTimes& t) { self->on_result(r, t); };
  events.on_fault = [self](const wire::Fault& f, int64_t t_us) {
    if (f.fault_bit == wire::kFaultEventOverflow) self->events_lost_ = true;
    for (auto* o : self->observers_) o->on_fault(f, t_us);
    self->recorder_.event("fault", t_us,
                          "{\"fault_bit\":" + std::to_string(f.fault_bit) + ",\"latched\":" +
                              std::to_string(f.latched_faults) + ",\"detail\":" + std::to_string(f.detail) + "}");
  };
  events.on_status = [self](const wire::DeviceStatus& status) { self->on_device_status(status); };
  events.on_wheel = [self](const device::WheelSamples& samples) {
    if (self->in_flight_) self->wheel_.push_back(samples);
    for (auto* o : self->observers_) o->on_wheel(samples);
  };
  events.on_licks = [self](const std::vector<model::LickRecord>& licks, uint16_t glitches, uint32_t lost) {
    self->on_licks(licks, glitches, lost);
  };
  events.on_sync = [self](const std::vector<model::SyncRecord>& edges) {
    if (!self->configured_ || self->finished_) return;
    for (const auto& edge : edges) {
      self->recording_.sync_edges.push_back(edge);
      self->saw_device_time(edge.device_us);
    }
  };
  events.on_camera = [self](const wire::CameraFrames& frames, int64_t first_us, int64_t last_us) {
    self->on_camera(frames, first_us, last_us);
  };
  rig_.start(std::move(events));

  timer_.expires_after(config_.connect_timeout);
  timer_.async_wait([self](const boost::system::error_code& ec) {
    if (!ec && !self->configured_ && !self->finished_) {
      self->finish("no device answered within " + std::to_string(self->config_.connect_timeout.count()) + " s", true);
    }
  });
}

void SessionRunner::on_device(const link::DeviceInfo& info, bool reset) {
  if (finished_) return;
  device_ = info;
  if (!configured_) {
    if (info.encoder_ticks_per_rev != config_.rig_config.ticks_per_rev) {
      finish("the rig config says the wheel has " + std::to_string(config_.rig_config.ticks_per_rev) +
                 " ticks per revolution but the device reports " + std::to_string(info.encoder_ticks_per_rev) +
                 "; fix wheel.ticks_per_rev in " + config_.rig_config.source_file,
             true);
      return;
    }
    if (!recording_pins_match(info)) return;
    timer_.cancel();
    configure_device();
    SessionStartInfo start;
    start.subject_id = config_.subject.id;
    start.device_description = config_.device_description;
    start.device = info;
    start.seed = engine_->state().seed;
    start.initial_state = engine_->state();
    auto self = shared_from_this();
    recorder_.begin(start, [self, start](std::optional<std::string> error) {
      if (error) {
        self->finish("cannot record the session: " + *error, true);
        return;
      }
      self->configured_ = true;
      for (auto* o : self->observers_) o->on_started(start);
      self->next_trial();
    });
    return;
  }
  configure_device();  // a restarted device has forgotten its settings
  if (reset) {
    recorder_.event("device_reset", session_now_us(), "{\"boot_id\":" + std::to_string(info.boot_id) + "}");
    events_lost_ = false;  // a new boot, a new queue
    // The trial died with the MCU: record it as aborted so numbering and the schedule stay exact.
    if (in_flight_) record_lost_trial();
  }
}

void SessionRunner::record_lost_trial() {
  wire::TrialResult lost{};
  lost.trial_id = in_flight_->arm.trial_id;
  lost.kind = in_flight_->arm.kind;
  lost.outcome = static_cast<uint8_t>(wire::TrialOutcome::kAborted);
  on_result(lost, device::TrialTimes{}, true);
}

void SessionRunner::on_device_status(const wire::DeviceStatus& status) {
  // With the device's queue empty, every event it kept has arrived and been taken.
  if (status.queue_depth != 0 || finished_) return;
  const bool overflowed = events_lost_;
  if (events_lost_) {
    events_lost_ = false;
    rig_.clear_faults(wire::kFaultEventOverflow);  // so that a later overflow is reported again
  }
  // A status that comes after the arm's acknowledgement (the line keeps order) shows the trial armed until its
  // result is queued. So an armed trial the device no longer runs, with nothing left in its queue, sent a
  // result that never reached the session (an overflow on an older firmware, or a fault nothing else caught).
  // Record it as aborted (what it delivered is unknown) rather than wait for it forever.
  if (in_flight_ && in_flight_armed_ && status.armed_trial_id != in_flight_->arm.trial_id) {
    const nlohmann::json detail = {{"trial", in_flight_->trial_number},
                                   {"cause", overflowed ? "event_overflow" : "device_idle"},
                                   {"device_trial_state", status.trial_state},
                                   {"device_armed_trial_id", status.armed_trial_id}};
    recorder_.event("trial_lost", session_now_us(), detail.dump());
    record_lost_trial();
  }
}

void SessionRunner::configure_device() {
  const auto& policy = config_.rig_config.device_policy;
  send_device_policy(rig_, safety_request(policy, config_.speed), policy, true);
  configure_recording();
}

bool SessionRunner::recording_pins_match(const link::DeviceInfo& info) {
  const auto& rig = config_.rig_config;
  struct Check {
    bool enabled;
    const char* what;
    const char* key;
    std::uint8_t configured, reported;
  };
  const Check checks[] = {
      {rig.sync.enabled, "sync output", "sync.pin", rig.sync.pin, info.pin_sync},
      {rig.camera.enabled, "camera trigger", "camera.pin", rig.camera.pin, info.pin_camera},
      {rig.licks.enabled, "cherry lick input", "licks.pins.cherry", rig.licks.pins[0], info.pin_lick_cherry},
      {rig.licks.enabled, "grape lick input", "licks.pins.grape", rig.licks.pins[1], info.pin_lick_grape},
  };
  for (const Check& c : checks) {
    if (!c.enabled || c.configured == c.reported) continue;
    finish(std::string("the rig config puts the ") + c.what + " on pin " + std::to_string(c.configured) +
               " but the board has it on pin " + std::to_string(c.reported) + "; fix " + c.key + " in " +
               rig.source_file + " (or rewire)",
           true);
    return false;
  }
  return true;
}

void SessionRunner::configure_recording() {
  const auto& rig = config_.rig_config;
  wire::SetSync sync{};
  sync.enabled = rig.sync.enabled ? 1 : 0;
  sync.min_interval_us = rig.sync.min_interval_us;
  sync.max_interval_us = rig.sync.max_interval_us;
  sync.width_us = rig.sync.width_us;
  // The session's seed, so a session's pulse train can be regenerated.
  sync.seed = static_cast<uint32_t>(engine_->state().seed ^ (engine_->state().seed >> 32));
  rig_.set_sync(sync);
  wire::SetCamera camera{};
  if (rig.camera.enabled) {
    camera.period_us = static_cast<uint32_t>(std::lround(1e6 / rig.camera.rate_hz));
    camera.width_us = rig.camera.width_us;
  }
  rig_.set_camera(camera);
  wire::SetLicks licks{};
  licks.enabled = rig.licks.enabled ? 1 : 0;
  licks.debounce_us = rig.licks.debounce_us;
  rig_.set_licks(licks);
}

void SessionRunner::on_licks(const std::vector<model::LickRecord>& licks, uint16_t glitches, uint32_t lost) {
  if (!configured_ || finished_) return;
  const uint32_t trial = in_flight_ ? in_flight_->trial_number : last_trial_number_;
  for (model::LickRecord lick : licks) {
    lick.trial_number = trial;
    saw_device_time(lick.device_us);
    if (lick_tracker_) lick_tracker_->on_lick(lick);
    recording_.licks.push_back(lick);
  }
  if (lost > 0) {
    recorder_.event("licks_lost", session_now_us(),
                    "{\"lost\":" + std::to_string(lost) + ",\"glitches\":" + std::to_string(glitches) + "}");
  }
}

void SessionRunner::on_camera(const wire::CameraFrames& frames, int64_t first_frame_us, int64_t last_frame_us) {
  if (!configured_ || finished_) return;
  saw_device_time(last_frame_us);
  if (frames.event == static_cast<uint8_t>(wire::CameraEvent::kStarted)) {
    camera_run_ = model::CameraRecord{0, first_frame_us, frames.period_us, frames.frame_count};
    return;
  }
  if (frames.frame_count > 0) {
    recording_.camera_runs.push_back(model::CameraRecord{0, first_frame_us, frames.period_us, frames.frame_count});
  }
  camera_run_.reset();
}

void SessionRunner::next_trial() {
  if (finished_) return;
  if (stop_requested_) {
    finish(stop_reason_, false);
    return;
  }
  std::optional<task::TrialPlan> plan;
  try {
    plan = engine_->next_trial(std::max(session_now_us(), engine_->ready_at_us()));
  } catch (const std::exception& e) {
    finish(std::string("the task engine refused to continue: ") + e.what(), true);
    return;
  }
  if (!plan) {
    const auto reason = engine_->stop_reason();
    finish(reason ? std::string(task::name_of(task::kStopReasonNames, *reason)) + " reached" : "session over", false);
    return;
  }
  in_flight_ = plan;
  in_flight_armed_ = false;
  arm_busy_since_us_ = -1;
  if (lick_tracker_) lick_tracker_->on_armed(plan->trial_number);
  wheel_.clear();
  arm_in_flight();
}

namespace {
constexpr int64_t kArmRetryUs = 20000;
constexpr int64_t kArmBusyLimitUs = 10000000;
}  // namespace

void SessionRunner::arm_in_flight() {
  if (!in_flight_ || finished_) return;
  auto self = shared_from_this();
  const uint32_t id = in_flight_->arm.trial_id;
  rig_.arm_trial(in_flight_->arm, [self, id](const device::CommandResult& r) {
    if (!self->in_flight_ || self->in_flight_->arm.trial_id != id || self->finished_) return;
    if (!r.acknowledged) return;  // a device reset: on_device records the trial as aborted
    if (r.status == wire::AckStatus::kOk || r.status == wire::AckStatus::kClamped) {
      self->in_flight_armed_ = true;
      return;
    }
    if (r.status == wire::AckStatus::kBusy) {
      // The device keeps a slot for every armed trial's result; its queue waits for our acknowledgements.
      const int64_t now = self->session_now_us();
      if (self->arm_busy_since_us_ < 0) self->arm_busy_since_us_ = now;
      if (now - self->arm_busy_since_us_ < kArmBusyLimitUs) {
        self->timer_.expires_after(std::chrono::microseconds(
            static_cast<int64_t>(static_cast<double>(kArmRetryUs) / self->config_.speed)));
        self->timer_.async_wait([self](const boost::system::error_code& ec) {
          if (!ec) self->arm_in_flight();
        });
        return;
      }
      self->finish("the device could not arm trial " + std::to_string(id) + ": its event queue stayed full for " +
                       std::to_string(kArmBusyLimitUs / 1000000) + " s (" + std::to_string(r.detail) +
                       " events unacknowledged)",
                   true);
      return;
    }
    self->finish("the device refused trial " + std::to_string(id) + " (status " +
                     std::to_string(static_cast<int>(r.status)) + ", detail " + std::to_string(r.detail) + ")",
                 true);
  });
}

void SessionRunner::on_result(const wire::TrialResult& result, const device::TrialTimes& times, bool synthesized) {
  // A device's result arrives here inside the link's read handler, right after it decoded the frame: the
  // trial's receive time (for a trial the host synthesized, the time it did so).
  const int64_t received_ns = config_.time_trials ? steady_now_ns() : 0;
  if (!in_flight_ || result.trial_id != in_flight_->arm.trial_id || finished_) return;  // a stale replay
  CompletedTrial trial;
  if (config_.time_trials) {
    trial.timing = std::make_shared<TrialTiming>();
    trial.timing->received_ns = received_ns;
  }
  const task::TrialPlan plan = *in_flight_;
  trial.synthesized = synthesized;
  trial.wheel = std::move(wheel_);
  wheel_.clear();
  task::TrialUpdate update;
  try {
    update = engine_->on_result(plan, result, std::max(session_now_us(), plan.planned_at_us));
  } catch (const std::exception& e) {
    finish(std::string("the task engine rejected a result: ") + e.what(), true);
    return;
  }
  trial.record = task::record_trial(plan, result, times, update);
  trial.state_after = engine_->state();
  in_flight_.reset();
  if (lick_tracker_) {
    lick_tracker_->on_result(trial.record.trial_number, trial.record.valve_open_device_us,
                             {trial.record.delivered_cherry_open_us > 0, trial.record.delivered_grape_open_us > 0});
    if (trial.record.valve_open_device_us) saw_device_time(*trial.record.valve_open_device_us);
    recording_.trial_licks = lick_tracker_->take_final(last_device_us_);
  }
  trial.recording = std::move(recording_);
  recording_.clear();
  last_trial_number_ = trial.record.trial_number;

  tally_.add(trial.record);

  auto self = shared_from_this();
  auto shared_trial = std::make_shared<CompletedTrial>(std::move(trial));
  recorder_.commit(*shared_trial, [self, shared_trial](std::optional<std::string> error) {
    if (error) {
      self->finish("cannot record trial " + std::to_string(shared_trial->record.trial_number) + ": " + *error, true);
      return;
    }
    for (auto* o : self->observers_) o->on_trial(*shared_trial);
    self->after_commit();
  });
}

void SessionRunner::after_commit() {
  if (finished_) return;
  if (stop_requested_) {
    finish(stop_reason_, false);
    return;
  }
  const int64_t wait_us = engine_->ready_at_us() - session_now_us();
  timer_.expires_after(std::chrono::microseconds(
      wait_us > 0 ? static_cast<int64_t>(static_cast<double>(wait_us) / config_.speed) : 0));
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->next_trial();
  });
}

void SessionRunner::request_stop(const std::string& reason) {
  if (finished_ || stop_requested_) return;
  stop_requested_ = true;
  stop_reason_ = reason;
  if (!configured_) {
    finish(reason, false);
    return;
  }
  if (in_flight_) {
    rig_.abort_trial(in_flight_->arm.trial_id);
    // The aborted result normally arrives in milliseconds; a device that is gone cannot send it.
    timer_.expires_after(3s);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec && !self->finished_) self->finish(self->stop_reason_ + " (the trial in flight got no result)", false);
    });
    return;
  }
  timer_.cancel();
  boost::asio::post(io_, [self = shared_from_this()] {
    if (!self->finished_) self->finish(self->stop_reason_, false);
  });
}

void SessionRunner::finish(const std::string& reason, bool error) {
  if (finished_) return;
  finished_ = true;
  timer_.cancel();
  tally_.reason = reason;
  tally_.error = error;
  tally_.summary = engine_->summary();
  tally_.advance = task::decide_advance(config_.protocol, tally_.summary);
  tally_.link = rig_.link_stats();
  if (camera_run_ && camera_run_->period_us > 0) {
    // A run still going: the frames triggered up to the newest device time the host saw (the device's own
    // count would come after the link is gone). The trigger stops with the session.
    camera_run_->frame_count = static_cast<uint32_t>(
        std::max<int64_t>(0, last_device_us_ - camera_run_->first_frame_device_us) / camera_run_->period_us + 1);
    recording_.camera_runs.push_back(*camera_run_);
    camera_run_.reset();
  }
  if (configured_ && config_.rig_config.camera.enabled && rig_.connected()) rig_.set_camera(wire::SetCamera{});
  if (lick_tracker_) {
    auto last = lick_tracker_->take_final(last_device_us_, true);
    recording_.trial_licks.insert(recording_.trial_licks.end(), last.begin(), last.end());
  }
  tally_.recording_tail = std::move(recording_);
  recording_.clear();
  auto self = shared_from_this();
  auto finish_up = [self] {
    self->rig_.stop();
    for (auto* o : self->observers_) o->on_finished(self->tally_);
    if (self->done_) self->done_(self->tally_);
  };
  if (configured_) {
    recorder_.end(tally_, finish_up);
  } else {
    finish_up();
  }
}

}  // namespace rig::app
