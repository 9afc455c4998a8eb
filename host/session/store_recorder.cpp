#include "store_recorder.hpp"

#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "host/model/trial_json.hpp"
#include "host/task/engine_state.hpp"

namespace rig::app {

namespace {

nlohmann::json stage_decision_json(const task::AdvanceDecision& advance) {
  return {{"advance", advance.advance}, {"to", advance.to}, {"reason", advance.reason}};
}

}  // namespace

nlohmann::json session_end_counts_json(const SessionEnd& end) {
  nlohmann::json j = model::tally_json(end);
  j["resumed_after_trials"] = end.resumed_after_trials;
  j["volume_ul"] = {{"cherry", end.summary.delivered_ul_by_valve[0]}, {"grape", end.summary.delivered_ul_by_valve[1]}};
  j["stage_decision"] = stage_decision_json(end.advance);
  return j;
}

std::string session_end_json(const SessionEnd& end) {
  nlohmann::json j = session_end_counts_json(end);
  j["reason"] = end.reason;
  j["error"] = end.error;
  j["link"] = {{"frames_sent", end.link.frames_sent},     {"frames_received", end.link.frames_received},
               {"dropped", end.link.dropped_total},       {"retransmitted", end.link.retransmitted},
               {"replayed", end.link.replayed},           {"reconnects", end.link.reconnects},
               {"device_resets", end.link.device_resets}};
  return j.dump();
}

StoreRecorder::StoreRecorder(boost::asio::io_context& io, store::Store store, RecordingContext context)
    : io_(io), path_(store.path()), context_(std::move(context)), store_(std::move(store)) {
  worker_ = std::thread([this] { run(); });
}

StoreRecorder::~StoreRecorder() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

void StoreRecorder::enqueue(std::function<void(store::Store&)> job) {
  ++unfinished_jobs_;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void StoreRecorder::run() {
  for (;;) {
    std::function<void(store::Store&)> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      // Drain before stopping: a queued commit is a trial the mouse already did.
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job(store_);
    --unfinished_jobs_;
  }
}

void StoreRecorder::begin(const SessionStartInfo& info, std::function<void(std::optional<std::string>)> done) {
  auto ctx = context_;
  enqueue([this, info, ctx, done](store::Store& store) {
    std::optional<std::string> error;
    int64_t id = 0;
    try {
      if (ctx.resume_session_id) {
        id = *ctx.resume_session_id;
        store.resume_session(id, store::ResumeInfo{info.device.firmware_build_id, model::device_info_json(info.device),
                                                   ctx.host_version});
      } else {
        store::SessionStart start;
        start.subject = ctx.subject;
        start.protocol_path = ctx.protocol_path;
        start.protocol_text = ctx.protocol_text;
        start.rig_config_path = ctx.rig_config_path;
        start.rig_config_text = ctx.rig_config_text;
        start.valve_calibration_json = store::calibration_json(ctx.rig_config);
        start.device_kind = ctx.device_kind;
        start.firmware_build_id = info.device.firmware_build_id;
        start.hardware_json = model::device_info_json(info.device);
        start.host_version = ctx.host_version;
        start.rng_seed = info.seed;
        start.started_at_unix_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                       std::chrono::system_clock::now().time_since_epoch()).count();
        start.initial_state_json = task::engine_state_to_json(info.initial_state);
        id = store.begin_session(start);
      }
      if (!ctx.weight_check_json.empty()) store.log_event(id, "weight_check", 0, ctx.weight_check_json);
    } catch (const std::exception& e) {
      error = e.what();
    }
    // Set here, on the worker, before any later job runs: an event() queued before begin's completion reached
    // the io thread is stored with its session too.
    worker_session_id_ = id;
    boost::asio::post(io_, [this, id, error, done] {
      session_id_ = id;
      done(error);
    });
  });
}

void StoreRecorder::commit(const CompletedTrial& trial, std::function<void(std::optional<std::string>)> done) {
  enqueue([this, trial, done](store::Store& store) {
    std::optional<std::string> error;
    try {
      store.commit_trial(worker_session_id_, trial.record, trial.wheel, trial.state_after, trial.recording);
      if (trial.record.reversed_after) {
        store.log_event(worker_session_id_, "reversal", trial.record.planned_at_us,
                        "{\"after_trial\":" + std::to_string(trial.record.trial_number) + ",\"block\":" +
                            std::to_string(trial.state_after.schedule.block_index) + "}");
      }
      if (trial.timing) trial.timing->committed_ns = steady_now_ns();
    } catch (const std::exception& e) {
      error = e.what();
    }
    boost::asio::post(io_, [done, error] { done(error); });
  });
}

void StoreRecorder::event(const std::string& kind, int64_t t_us, const std::string& detail_json) {
  enqueue([this, kind, t_us, detail_json](store::Store& store) {
    try {
      store.log_event(worker_session_id_ ? std::optional<int64_t>(worker_session_id_) : std::nullopt, kind, t_us, detail_json);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "rig: could not record event %s: %s\n", kind.c_str(), e.what());
    }
  });
}

void StoreRecorder::end(const SessionEnd& end, std::function<void()> done) {
  const std::string summary = session_end_json(end);
  enqueue([this, end, summary, done](store::Store& store) {
    try {
      store.record(worker_session_id_, end.recording_tail);
      store.log_event(worker_session_id_, "stage_decision", 0, stage_decision_json(end.advance).dump());
      store.end_session(worker_session_id_, end.reason, summary);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "rig: could not record the end of session %lld: %s\n", static_cast<long long>(worker_session_id_), e.what());
    }
    boost::asio::post(io_, done);
  });
}

}  // namespace rig::app
