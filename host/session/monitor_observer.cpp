#include "monitor_observer.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cmath>
#include <filesystem>

#include "host/analysis/fit_json.hpp"
#include "host/config/protocol_file.hpp"
#include "host/model/enums.hpp"
#include "host/model/trial_json.hpp"
#include "host/monitor/monitor_server.hpp"
#include "host/monitor/static_files.hpp"
#include "host/store/store.hpp"
#include "run_support.hpp"
#include "welfare_support.hpp"

namespace rig::app {
namespace {

using model::side_name;

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

nlohmann::json protocol_detail_json(const task::Protocol& protocol, const std::string& path, const std::string& text) {
  return {{"name", protocol.name},
          {"path", path},
          {"sha256", store::sha256_hex(text)},
          {"effective_yaml", config::effective_protocol_yaml(protocol)}};
}

MonitorObserver::MonitorObserver(const LiveFit& fit, MonitorContext context, Publish publish)
    : fit_(fit), context_(std::move(context)), publish_(std::move(publish)) {
  emit({{"type", "session"},
        {"state", "connecting"},
        {"subject", context_.subject_id},
        {"protocol", context_.protocol_name},
        {"totals", totals_json()},
        {"water", water_json()},
        {"link", link_json()},
        {"sync", sync_json()},
        {"licks_enabled", context_.licks_enabled},
        {"welfare", context_.welfare},
        {"protocol_detail", context_.protocol_detail}});
}

void MonitorObserver::add_water_by_hand(double volume_ul) {
  context_.water_before_session_ul += volume_ul;
  emit({{"type", "water"}, {"water", water_json()}});
}

void MonitorObserver::emit(nlohmann::json event, TrialTiming* timing) {
  if (!publish_) return;
  if (timing) timing->published_ns = steady_now_ns();
  publish_(std::move(event));
}

void MonitorObserver::on_started(const SessionStartInfo& info) {
  block_ = info.initial_state.schedule.block_index;
  high_side_ = side_name(info.initial_state.schedule.high_side);
  emit({{"type", "started"},
        {"subject", info.subject_id},
        {"device", info.device_description},
        {"session_id", session_id_json()}});
}

void MonitorObserver::add_recording(const model::RecordingChunk& recording) {
  for (const model::SyncRecord& edge : recording.sync_edges) {
    ++sync_.edges;
    if (sync_.last_index && edge.edge_index > *sync_.last_index + 1) {
      sync_.lost += static_cast<uint64_t>(edge.edge_index - *sync_.last_index - 1);
    }
    sync_.last_index = edge.edge_index;
    sync_.last_device_us = edge.device_us;
    newest_device_us_ = std::max(newest_device_us_, edge.device_us);
    raster_.saw_device_time(edge.device_us);
  }
  for (const model::LickRecord& lick : recording.licks) {
    newest_device_us_ = std::max(newest_device_us_, lick.device_us);
    raster_.on_lick(lick);
  }
}

nlohmann::json MonitorObserver::lick_rows_json(bool all) {
  nlohmann::json rows = nlohmann::json::array();
  for (const LickRasterRow& row : raster_.take_complete(all)) {
    nlohmann::json delivered = nlohmann::json::array(), licks = nlohmann::json::object();
    for (const auto& [name, valve] : model::kFlavourNames) {
      const auto v = static_cast<std::size_t>(valve);
      if (row.delivered[v]) delivered.push_back(name);
      licks[name] = row.onsets_ms[v];
    }
    rows.push_back({{"trial", row.trial_number},
                    {"aligned_to", row.valve_aligned ? "valve" : "choice"},
                    {"delivered", std::move(delivered)},
                    {"licks_ms", std::move(licks)}});
  }
  return rows;
}

nlohmann::json MonitorObserver::sync_json() const {
  const int64_t silent_after_us = static_cast<int64_t>(context_.sync.max_interval_us) + kSyncSilentSlackUs;
  nlohmann::json out = {{"enabled", context_.sync.enabled}, {"edges", sync_.edges},     {"lost", sync_.lost},
                        {"last_edge_device_us", nullptr},   {"since_last_edge_ms", nullptr},
                        {"silent_after_ms", static_cast<double>(silent_after_us) / 1000.0}};
  if (sync_.last_device_us) {
    const int64_t since_us = std::max<int64_t>(0, newest_device_us_ - *sync_.last_device_us);
    out["last_edge_device_us"] = *sync_.last_device_us;
    out["since_last_edge_ms"] = static_cast<double>(since_us) / 1000.0;
    out["state"] = since_us > silent_after_us ? "silent" : "ok";
  } else {
    out["state"] = context_.sync.enabled ? "waiting" : "off";
  }
  return out;
}

void MonitorObserver::on_trial(const CompletedTrial& trial) {
  const auto& t = trial.record;
  tally_.add(t);
  add_recording(trial.recording);
  for (const auto& device_us : {t.go_cue_device_us, t.choice_device_us, t.valve_open_device_us}) {
    if (device_us) newest_device_us_ = std::max(newest_device_us_, *device_us);
  }
  raster_.on_trial(t);
  block_ = trial.state_after.schedule.block_index;
  high_side_ = side_name(trial.state_after.schedule.high_side);

  // The kShown fields of the record, named and valued as in the export (host/model/trial.def).
  nlohmann::json shown = model::trial_json(t, true);
  shown["synthesized"] = trial.synthesized;
  nlohmann::json wheel = decimated_wheel(trial.wheel, kWheelTracePoints);
  wheel["trial"] = t.trial_number;

  nlohmann::json fit = nullptr, index_point = nullptr;
  if (const auto latest = fit_.latest()) {
    fit = analysis::fit_to_json(*latest);
    // A fit that cannot be read yet is a gap with its reason, not a clipped band.
    const analysis::Estimability state = analysis::estimability(*latest);
    index_point = {{"trial", t.trial_number},
                   {"n_trials", latest->n_trials},
                   {"estimable", state.estimable},
                   {"controllable", state.estimable ? analysis::estimate_to_json(latest->controllable_index) : nullptr},
                   {"distractor", state.estimable ? analysis::estimate_to_json(latest->distractor_index) : nullptr}};
    if (!state.estimable) index_point["reason"] = state.reason;
  }
  emit({{"type", "trial"},
        {"session_id", session_id_json()},
        {"trial", std::move(shown)},
        {"totals", totals_json()},
        {"water", water_json()},
        {"fit", std::move(fit)},
        {"index_point", std::move(index_point)},
        {"wheel", std::move(wheel)},
        {"link", link_json()},
        {"sync", sync_json()},
        {"lick_rows", lick_rows_json(false)}},
       trial.timing.get());
}

void MonitorObserver::on_link(const link::LinkStatus& status) {
  link_ = status;
  emit({{"type", "link"}, {"link", link_json()}});
}

void MonitorObserver::on_fault(const wire::Fault& fault, int64_t t_us) {
  emit({{"type", "fault"},
        {"fault", {{"bit", fault.fault_bit}, {"text", fault_text(fault.fault_bit)}, {"t_us", t_us}, {"trial", tally_.trials}}}});
}

void MonitorObserver::on_finished(const SessionEnd& end) {
  add_recording(end.recording_tail);
  emit({{"type", "finished"},
        {"end",
         {{"reason", end.reason}, {"error", end.error}, {"trials", end.trials}, {"misses", end.misses},
          {"reversals", end.reversals}}},
        {"totals", totals_json()},
        {"water", water_json()},
        {"sync", sync_json()},
        {"lick_rows", lick_rows_json(true)}});
}

nlohmann::json MonitorObserver::totals_json() const {
  nlohmann::json totals = model::tally_json(tally_);
  totals["volume_ul"] = {{"cherry", tally_.volume_ul_by_valve[0]}, {"grape", tally_.volume_ul_by_valve[1]}};
  totals["block"] = block_;
  totals["high_side"] = high_side_;
  return totals;
}

nlohmann::json MonitorObserver::water_json() const {
  const double session_ul = tally_.volume_ul_by_valve[0] + tally_.volume_ul_by_valve[1];
  const double today_ul = context_.water_before_session_ul + session_ul;
  return {{"session_ul", session_ul},
          {"before_session_ul", context_.water_before_session_ul},
          {"today_ul", today_ul},
          {"daily_target_ul", context_.daily_water_target_ul},
          {"daily_minimum_ul", context_.daily_water_min_ul},
          {"owed_ul", std::max(0.0, context_.daily_water_min_ul - today_ul)}};
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

void StatusBoard::take_lick_rows(const nlohmann::json& event) {
  if (!event.contains("lick_rows") || !event["lick_rows"].is_array()) return;
  for (const auto& row : event["lick_rows"]) push_bounded(lick_rows_, row, kStatusTrialLimit);
}

std::optional<nlohmann::json> StatusBoard::apply(const nlohmann::json& event) {
  if (!event.is_object()) return std::nullopt;
  const std::string type = event.value("type", "");
  const auto take = [&](const char* key) {
    if (event.contains(key)) session_[key] = event[key];
  };
  if (type == "daemon") {
    for (const auto& [key, value] : event.items()) {
      if (key != "type") daemon_[key] = value;
    }
    return document();
  }
  if (type == "session") {
    session_ = {{"state", "connecting"}, {"session_id", nullptr}, {"device", ""}, {"trials", 0},
                {"fit", nullptr},        {"last_trial", nullptr}, {"wheel", nullptr}, {"end", nullptr},
                {"sync", nullptr}};
    faults_.clear();
    trial_log_.clear();
    indices_.clear();
    lick_rows_.clear();
    for (const char* key :
         {"state", "subject", "protocol", "protocol_detail", "totals", "water", "link", "sync", "licks_enabled", "welfare"}) {
      take(key);
    }
  } else if (type == "started") {
    session_["state"] = "running";
    for (const char* key : {"subject", "device", "session_id"}) take(key);
  } else if (type == "trial") {
    for (const char* key : {"totals", "water", "fit", "wheel", "link", "sync"}) take(key);
    take_lick_rows(event);
    if (!event.value("session_id", nlohmann::json()).is_null()) session_["session_id"] = event["session_id"];
    session_["trials"] = event["totals"]["trials"];
    session_["last_trial"] = event["trial"];
    push_bounded(trial_log_, event["trial"], kStatusTrialLimit);
    if (!event.value("index_point", nlohmann::json()).is_null()) {
      indices_.push_back(event["index_point"]);
      if (indices_.size() > kStatusIndexLimit) {
        std::deque<nlohmann::json> kept;
        for (std::size_t i = 0; i < indices_.size(); ++i) {
          if (i % 2 == 0 || i + 1 == indices_.size()) kept.push_back(std::move(indices_[i]));
        }
        indices_ = std::move(kept);
      }
    }
  } else if (type == "link" || type == "water") {
    take(type.c_str());
  } else if (type == "welfare") {
    // The day of the session's subject, or of anyone while no session has one.
    const auto subject = event.value("welfare", nlohmann::json::object()).value("subject", std::string());
    if (!session_.contains("subject") || session_["subject"] == subject) take("welfare");
  } else if (type == "lab") {
    lab_ = event["lab"];
  } else if (type == "alert") {
    push_bounded(alerts_, event["alert"], kStatusAlertLimit);
  } else if (type == "fault") {
    push_bounded(faults_, event["fault"], kStatusFaultLimit);
  } else if (type == "finished") {
    session_["state"] = "finished";
    for (const char* key : {"end", "totals", "water", "sync"}) take(key);
    take_lick_rows(event);
  }
  return std::nullopt;
}

nlohmann::json StatusBoard::document() const {
  nlohmann::json doc = session_;
  doc["type"] = "status";
  if (!doc.contains("trials")) doc["trials"] = 0;
  doc["faults"] = nlohmann::json(faults_);
  doc["indices"] = nlohmann::json(indices_);
  doc["trial_log"] = nlohmann::json(trial_log_);
  doc["lick_rows"] = nlohmann::json(lick_rows_);
  doc["alerts"] = nlohmann::json(alerts_);
  if (!lab_.is_null()) doc["lab"] = lab_;
  for (const auto& [key, value] : daemon_.items()) {
    if (!value.is_null()) doc[key] = value;
  }
  return doc;
}

monitor::ApiReply session_trials_reply(const std::string& db_path, int64_t session_id, int64_t after, int64_t limit) {
  const auto missing = [&] {
    return monitor::ApiReply{404, {{"error", "no session " + std::to_string(session_id) + " in this rig's database"}}};
  };
  std::error_code ec;
  if (!std::filesystem::exists(db_path, ec)) return missing();
  const store::Store db = store::Store::open(db_path, store::OpenOptions::reading());
  if (!db.session(session_id)) return missing();
  nlohmann::json trials = nlohmann::json::array();
  db.for_each_trial(
      session_id, [&](const store::StoredTrial& t) { trials.push_back(nlohmann::json(model::trial_json(t, true))); }, after, limit);
  nlohmann::json next = nullptr;
  if (static_cast<int64_t>(trials.size()) == limit) next = trials.back()["trial_number"];
  return {200, {{"session_id", session_id}, {"after", after}, {"trials", std::move(trials)}, {"next_after", next}}};
}

namespace {

// Runs `read` on `readers` and answers with its result, or 500 with its error.
void answer_from(boost::asio::thread_pool& readers, monitor::Reply reply, std::function<monitor::ApiReply()> read) {
  boost::asio::post(readers, [reply = std::move(reply), read = std::move(read)] {
    monitor::ApiReply answer;
    try {
      answer = read();
    } catch (const std::exception& e) {
      answer = {500, {{"error", e.what()}}};
    }
    reply(std::move(answer));
  });
}

}  // namespace

void add_store_views(monitor::ApiHandlers& api, boost::asio::thread_pool& readers, const std::string& db_path) {
  api.sessions = [&readers, db_path](monitor::Reply reply) {
    answer_from(readers, std::move(reply), [db_path] { return monitor::ApiReply{200, session_list_json(db_path)}; });
  };
  api.session_trials = [&readers, db_path](int64_t session_id, int64_t after, int64_t limit, monitor::Reply reply) {
    answer_from(readers, std::move(reply),
                [=] { return session_trials_reply(db_path, session_id, after, limit); });
  };
}

namespace {

// The subject `id` of the subjects file, or nullopt (a 404 for the API).
std::optional<task::Subject> find_subject(const std::string& config, const std::string& subjects, const std::string& id) {
  const RigFiles files = load_rig_files(config, subjects);
  const task::Subject* subject = files.subjects.find(id);
  return subject ? std::optional<task::Subject>(*subject) : std::nullopt;
}

monitor::ApiReply no_subject(const std::string& id) {
  return {404, {{"error", "no subject '" + id + "' in this rig's subjects file"}}};
}

// Records what `body` asks for (a weighing or water) and answers 201 with the subject's day, or 400.
monitor::ApiReply record_welfare_reply(const std::string& db_path, const task::Subject& subject, const std::string& record,
                                       const nlohmann::json& body, const WelfareRecorded& recorded) {
  const auto number = [&](const char* key) -> std::optional<double> {
    if (!body.contains(key)) return std::nullopt;
    if (!body[key].is_number()) throw InputError(std::string("\"") + key + "\" must be a number");
    return body[key].get<double>();
  };
  const auto text = [&](const char* key) -> std::string {
    if (!body.contains(key)) return "";
    if (!body[key].is_string()) throw InputError(std::string("\"") + key + "\" must be a string");
    return body[key].get<std::string>();
  };
  const std::vector<std::string> allowed =
      record == "weighings" ? std::vector<std::string>{"weight_g", "baseline", "force", "who"}
                            : std::vector<std::string>{"volume_ul", "kind", "who"};
  for (const auto& [key, value] : body.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) throw InputError("unknown field \"" + key + "\"");
  }
  const std::string who = text("who").empty() ? "dashboard" : text("who");
  store::Store db = store::Store::open(db_path);
  double water_ul = 0.0;
  if (record == "weighings") {
    const auto weight_g = number("weight_g");
    if (!weight_g) throw InputError("the request needs \"weight_g\": the weight in grams");
    if (body.contains("baseline") && !body["baseline"].is_boolean()) throw InputError("\"baseline\" must be true or false");
    record_weighing(db, subject, *weight_g, body.value("baseline", false), who, text("force"));
  } else {
    const auto volume_ul = number("volume_ul");
    if (!volume_ul) throw InputError("the request needs \"volume_ul\": the water given, in microlitres");
    record_water(db, subject, *volume_ul, text("kind").empty() ? "topup" : text("kind"), who);
    water_ul = *volume_ul;
  }
  nlohmann::json welfare = welfare_json(read_welfare(db, subject, local_today()));
  if (recorded) recorded(subject.id, water_ul, welfare);
  return {201, {{"welfare", std::move(welfare)}}};
}

}  // namespace

void add_welfare_views(monitor::ApiHandlers& api, boost::asio::thread_pool& readers, const std::string& db_path,
                       const std::string& config, const std::string& subjects, WelfareRecorded recorded) {
  const auto status_of = [db_path](const task::Subject& subject) { return welfare_json(welfare_at(db_path, subject)); };
  api.subjects = [&readers, config, subjects, status_of](monitor::Reply reply) {
    answer_from(readers, std::move(reply), [=] {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& subject : load_rig_files(config, subjects).subjects.subjects) list.push_back(status_of(subject));
      return monitor::ApiReply{200, {{"subjects", std::move(list)}}};
    });
  };
  api.subject = [&readers, config, subjects, status_of](const std::string& id, monitor::Reply reply) {
    answer_from(readers, std::move(reply), [=] {
      const auto subject = find_subject(config, subjects, id);
      return subject ? monitor::ApiReply{200, status_of(*subject)} : no_subject(id);
    });
  };
  api.record_welfare = [&readers, db_path, config, subjects, recorded](const std::string& id, const std::string& record,
                                                                       const nlohmann::json& body, monitor::Reply reply) {
    answer_from(readers, std::move(reply), [=] {
      const auto subject = find_subject(config, subjects, id);
      if (!subject) return no_subject(id);
      try {
        return record_welfare_reply(db_path, *subject, record, body, recorded);
      } catch (const InputError& e) {
        return monitor::ApiReply{400, {{"error", e.what()}}};
      }
    });
  };
}

}  // namespace rig::app
