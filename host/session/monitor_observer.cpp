#include "monitor_observer.hpp"

#include <cmath>
#include <filesystem>

#include "host/analysis/fit_json.hpp"
#include "host/model/trial_json.hpp"
#include "host/monitor/monitor_server.hpp"
#include "host/monitor/static_files.hpp"
#include "host/store/store.hpp"
#include "run_support.hpp"

namespace rig::app {
namespace {

using model::side_name;

nlohmann::json estimate_or_null(const std::optional<analysis::Estimate>& e) {
  if (!e || !std::isfinite(e->value) || !std::isfinite(e->se)) return nullptr;
  return {{"value", e->value}, {"se", e->se}};
}

template <typename T>
void push_bounded(std::deque<T>& items, T item, std::size_t limit) {
  items.push_back(std::move(item));
  while (items.size() > limit) items.pop_front();
}

}  // namespace

nlohmann::json session_list_json(const std::string& db_path, const std::string& subject_id) {
  nlohmann::json list = nlohmann::json::array();
  std::error_code ec;
  if (std::filesystem::exists(db_path, ec)) {
    const store::Store db = store::Store::open(db_path, store::OpenOptions::reading());
    for (const auto& s : db.sessions(subject_id)) {
      list.push_back({{"session_id", s.session_id},
                      {"subject", s.subject_id},
                      {"protocol", s.protocol_path},
                      {"started_at", s.started_at_utc},
                      {"ended_at", s.ended_at_utc ? nlohmann::json(*s.ended_at_utc) : nlohmann::json(nullptr)},
                      {"end_reason", s.end_reason ? nlohmann::json(*s.end_reason) : nlohmann::json(nullptr)},
                      {"interrupted", s.interrupted},
                      {"trials", s.trial_count},
                      {"left", s.left_choices},
                      {"right", s.right_choices},
                      {"high_side_choices", s.high_side_choices}});
    }
  }
  return {{"sessions", std::move(list)}};
}

nlohmann::json decimated_wheel(const std::vector<device::WheelSamples>& batches, std::size_t max_points) {
  std::vector<std::pair<int64_t, int32_t>> samples;
  for (const auto& batch : batches) {
    for (std::size_t i = 0; i < batch.position_ticks.size(); ++i) {
      samples.emplace_back(batch.t0_us + static_cast<int64_t>(i) * batch.period_us, batch.position_ticks[i]);
    }
  }
  nlohmann::json t_ms = nlohmann::json::array(), ticks = nlohmann::json::array();
  if (!samples.empty() && max_points > 0) {
    const std::size_t step = (samples.size() + max_points - 1) / max_points;
    const int64_t t0_us = samples.front().first;
    for (std::size_t i = 0; i < samples.size(); i += step) {
      t_ms.push_back(static_cast<double>(samples[i].first - t0_us) / 1000.0);
      ticks.push_back(samples[i].second);
    }
  }
  return {{"t_ms", std::move(t_ms)}, {"position_ticks", std::move(ticks)}};
}

monitor::ServerOptions dashboard_server_options(std::string address, uint16_t port, const std::string& token_file) {
  monitor::ServerOptions options;
  options.address = std::move(address);
  options.port = port;
  options.web_root = monitor::default_web_root();
  if (!token_file.empty()) {
    try {
      options.token = monitor::read_token_file(token_file);
    } catch (const std::runtime_error& e) {
      throw InputError(e.what());
    }
  }
  return options;
}

MonitorObserver::MonitorObserver(const LiveFit& fit, MonitorContext context, std::function<void(std::string)> publish)
    : fit_(fit), context_(std::move(context)), publish_(std::move(publish)) {}

void MonitorObserver::emit(const nlohmann::json& event, TrialTiming* timing) {
  if (!publish_) return;
  std::string text = monitor::json_text(event);
  if (timing) timing->published_ns = steady_now_ns();
  publish_(std::move(text));
}

void MonitorObserver::on_started(const SessionStartInfo& info) {
  state_ = "running";
  device_ = info.device_description;
  block_ = info.initial_state.schedule.block_index;
  high_side_ = side_name(info.initial_state.schedule.high_side);
  emit({{"type", "started"}, {"subject", info.subject_id}, {"device", device_}, {"session_id", session_id_json()}});
}

void MonitorObserver::on_trial(const CompletedTrial& trial) {
  const auto& t = trial.record;
  ++trials_;
  if (t.choice) {
    ++choices_;
    high_choices_ += t.chose_high ? 1 : 0;
  } else if (t.outcome == wire::TrialOutcome::kMiss) {
    ++misses_;
  }
  if (t.reversed_after) ++reversals_;
  for (const auto valve : {wire::Valve::kCherry, wire::Valve::kGrape}) {
    const auto v = static_cast<std::size_t>(valve);
    rewards_[v] += model::delivered_open_us(t, valve) > 0 ? 1 : 0;
    volume_ul_[v] += model::delivered_ul(t, valve);
  }
  block_ = trial.state_after.schedule.block_index;
  high_side_ = side_name(trial.state_after.schedule.high_side);

  // The kShown fields of the record, named and valued as in the export (host/model/trial.def).
  last_trial_ = model::trial_json(t, true);
  last_trial_["synthesized"] = trial.synthesized;
  push_bounded(trial_log_, last_trial_, kStatusTrialLimit);
  wheel_ = decimated_wheel(trial.wheel, kWheelTracePoints);
  wheel_["trial"] = t.trial_number;

  nlohmann::json fit = nullptr;
  if (const auto latest = fit_.latest()) {
    fit = analysis::fit_to_json(*latest);
    nlohmann::json point = {{"trial", t.trial_number},
                            {"n_trials", latest->n_trials},
                            {"controllable", estimate_or_null(latest->controllable_index)},
                            {"distractor", estimate_or_null(latest->distractor_index)}};
    push_bounded(indices_, std::move(point), kStatusTrialLimit);
  }
  emit({{"type", "trial"},
        {"trial", last_trial_},
        {"totals", totals_json()},
        {"water", water_json()},
        {"fit", fit},
        {"index_point", indices_.empty() ? nlohmann::json(nullptr) : indices_.back()},
        {"wheel", wheel_},
        {"link", link_json()}},
       trial.timing.get());
}

void MonitorObserver::on_link(const link::LinkStatus& status) {
  link_ = status;
  emit({{"type", "link"}, {"link", link_json()}});
}

void MonitorObserver::on_fault(const wire::Fault& fault, int64_t t_us) {
  nlohmann::json event = {{"bit", fault.fault_bit}, {"text", fault_text(fault.fault_bit)}, {"t_us", t_us},
                          {"trial", trials_}};
  push_bounded(faults_, event, kStatusFaultLimit);
  emit({{"type", "fault"}, {"fault", std::move(event)}});
}

void MonitorObserver::on_finished(const SessionEnd& end) {
  state_ = "finished";
  end_ = {{"reason", end.reason}, {"error", end.error}, {"trials", end.trials}, {"misses", end.misses},
          {"reversals", end.reversals}};
  emit({{"type", "finished"}, {"end", end_}, {"totals", totals_json()}, {"water", water_json()}});
}

nlohmann::json MonitorObserver::totals_json() const {
  return {{"trials", trials_},
          {"choices", choices_},
          {"misses", misses_},
          {"reversals", reversals_},
          {"high_side_fraction", choices_ ? static_cast<double>(high_choices_) / choices_ : 0.0},
          {"rewards", {{"cherry", rewards_[0]}, {"grape", rewards_[1]}}},
          {"volume_ul", {{"cherry", volume_ul_[0]}, {"grape", volume_ul_[1]}}},
          {"block", block_},
          {"high_side", high_side_}};
}

nlohmann::json MonitorObserver::water_json() const {
  const double session_ul = volume_ul_[0] + volume_ul_[1];
  return {{"session_ul", session_ul},
          {"before_session_ul", context_.water_before_session_ul},
          {"today_ul", context_.water_before_session_ul + session_ul},
          {"daily_target_ul", context_.daily_water_target_ul}};
}

nlohmann::json MonitorObserver::link_json() const {
  nlohmann::json out = {{"state", link::link_state_name(link_.state)}, {"reason", link_.reason}};
  if (context_.link_stats) {
    const link::LinkStats s = context_.link_stats();
    out["counters"] = {{"frames_sent", s.frames_sent},         {"frames_received", s.frames_received},
                       {"dropped", s.dropped_total},           {"retransmitted", s.retransmitted},
                       {"reconnects", s.reconnects},           {"disconnects", s.disconnects},
                       {"device_resets", s.device_resets},     {"commands_failed", s.commands_failed}};
  }
  return out;
}

nlohmann::json MonitorObserver::session_id_json() const {
  const int64_t id = context_.session_id ? context_.session_id() : 0;
  return id > 0 ? nlohmann::json(id) : nlohmann::json(nullptr);
}

nlohmann::json MonitorObserver::status() const {
  const auto latest = fit_.latest();
  return {{"type", "status"},
          {"state", state_},
          {"subject", context_.subject_id},
          {"protocol", context_.protocol_name},
          {"session_id", session_id_json()},
          {"device", device_},
          {"trials", trials_},
          {"totals", totals_json()},
          {"water", water_json()},
          {"link", link_json()},
          {"faults", nlohmann::json(faults_)},
          {"fit", latest ? analysis::fit_to_json(*latest) : nlohmann::json(nullptr)},
          {"indices", nlohmann::json(indices_)},
          {"trial_log", nlohmann::json(trial_log_)},
          {"last_trial", last_trial_},
          {"wheel", wheel_},
          {"end", end_}};
}

}  // namespace rig::app
