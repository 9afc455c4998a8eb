// rigd: the daemon that owns the rig for the day. It serves the dashboard and the API all the time and runs
// one session at a time when asked (POST /api/sessions), through the same SessionHost as `rig run`.
// Logs go to stderr, one line per event, without colours unless stderr is a terminal (journald-friendly).
#include <CLI/CLI.hpp>

#include <boost/asio/system_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <string>
#include <unistd.h>

#include "host/config/atomic_file.hpp"
#include "host/lab/lab_pusher.hpp"
#include "host/lab/pg.hpp"
#include "command_registry.hpp"
#include "lab_history.hpp"
#include "latency_log.hpp"
#include "host/monitor/monitor_server.hpp"
#include "host/task/diagnostics.hpp"
#include "monitor_observer.hpp"
#include "run_support.hpp"
#include "session_host.hpp"

namespace rig::app {
namespace {

constexpr int kDefaultCrtSurrogates = 1000;
// Trials between two progress lines in the log.
constexpr uint32_t kLogEveryTrials = 50;
// What a start request (POST /api/sessions) may give; anything else is refused, so a typo is not ignored.
constexpr const char* kStartFields[] = {"subject", "protocol", "max_trials", "seed", "weight_g", "override_weight"};

struct DaemonOptions {
  std::string config;
  std::string subjects;
  std::string listen = "127.0.0.1:8765";
  std::string token_file;
  std::string url_file;  // written with the dashboard's URL once bound (tests, scripts)
  std::vector<std::string> host_names;  // names the rig may be reached by (Host, Origin), besides IP addresses
  std::string db;
  std::string device;
  double speed = 1.0;
  int crt = kDefaultCrtSurrogates;
  uint64_t seed = 0;  // the trial draws of sessions whose request gives no seed; 0: a random one each (recorded)
  std::string latency_log;  // benchmarks: every session's per-trial host-path timing (LatencyLog)
};

// Splits "ADDRESS:PORT" (the port 0..65535). Pure. Throws InputError naming the text.
std::pair<std::string, uint16_t> parse_listen(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    throw InputError("--listen " + text + ": expected ADDRESS:PORT, e.g. 127.0.0.1:8765");
  }
  const std::string port_text = text.substr(colon + 1);
  if (port_text.find_first_not_of("0123456789") != std::string::npos || port_text.size() > 5 ||
      std::stoul(port_text) > 65535) {
    throw InputError("--listen " + text + ": the port must be a number from 0 to 65535");
  }
  return {text.substr(0, colon), static_cast<uint16_t>(std::stoul(port_text))};
}

// The session's events as log lines: start, link changes, faults, progress every kLogEveryTrials, the end.
class SessionLog : public SessionObserver {
 public:
  void on_started(const SessionStartInfo& info) override {
    tally_ = {};  // one log for every run of the day
    spdlog::info("session started for {} on {} (firmware {})", info.subject_id, info.device_description,
                 info.device.firmware_build_id);
  }
  void on_link(const link::LinkStatus& status) override {
    if (status.state == link::LinkState::kConnected || status.state == link::LinkState::kHandshaking) return;
    spdlog::warn("link {}: {}", link::link_state_name(status.state), status.reason);
  }
  void on_fault(const wire::Fault& fault, int64_t) override { spdlog::warn("device fault: {}", fault_text(fault.fault_bit)); }
  void on_trial(const CompletedTrial& trial) override {
    tally_.add(trial.record);
    if (tally_.trials % kLogEveryTrials == 0) {
      spdlog::info("trial {}: high side chosen {:.0f}%, block {}", tally_.trials,
                   tally_.choices ? 100.0 * tally_.high_side_choices / tally_.choices : 0.0,
                   trial.state_after.schedule.block_index);
    }
  }
  void on_finished(const SessionEnd& end) override {
    if (end.error) {
      spdlog::error("session ended: {} ({} trials)", end.reason, end.trials);
    } else {
      spdlog::info("session ended: {} ({} trials)", end.reason, end.trials);
    }
  }

 private:
  model::TrialTally tally_;
};

// Owns the server and at most one session. Everything runs on the io thread.
class Daemon {
 public:
  // `on_closed` runs (io thread) once the server has stopped for good, after a shutdown.
  Daemon(boost::asio::io_context& io, DaemonOptions options, std::function<void()> on_closed)
      : io_(io), options_(std::move(options)), on_closed_(std::move(on_closed)) {
    if (options_.db.empty()) options_.db = store::Store::default_path();
    if (!options_.latency_log.empty()) latency_log_.emplace(options_.latency_log);
  }

  // Checks the rig config and the subjects file, binds and serves. Throws InputError (bad --listen, a bad
  // config or subjects file with FILE:LINE:COL, unreadable token file), std::runtime_error (bind).
  void start() {
    // Sessions read the files again when they start (edits are picked up); this catches a bad file at boot.
    const RigFiles files = load_rig_files(options_.config, options_.subjects);
    spdlog::info("rig config {} ({} subjects in {})", files.rig_path, files.subjects.subjects.size(), files.subjects_path);
    start_alerts(files.rig);
    const auto [address, port] = parse_listen(options_.listen);
    check_lab(files.rig);
    monitor::ServerOptions server_options = dashboard_server_options(address, port, options_.token_file);
    server_options.host_names = options_.host_names;
    server_options.warn = [](const std::string& text) { spdlog::warn("dashboard: {}", text); };
    if (options_.token_file.empty()) spdlog::warn("no --token-file: starting and stopping sessions is refused (403)");
    // The server answers on its own thread; what touches the session is posted to this (the io) thread.
    monitor::ApiHandlers api;
    add_store_views(api, readers_, options_.db);
    add_welfare_views(api, readers_, options_.db, options_.config, options_.subjects,
                      [this](const std::string& subject, double water_ul, const nlohmann::json& welfare) {
                        spdlog::info("recorded {} for {} from the API", water_ul > 0 ? "water" : "a weighing", subject);
                        boost::asio::post(io_, [this, subject, water_ul, welfare] {
                          if (host_) host_->water_given(subject, water_ul);
                          if (server_) server_->publish({{"type", "welfare"}, {"welfare", welfare}});
                        });
                      });
    api.start = [this](const nlohmann::json& request, monitor::Reply reply) {
      boost::asio::post(io_, [this, request, reply = std::move(reply)] { start_session(request, reply); });
    };
    api.stop = [this](monitor::Reply reply) {
      boost::asio::post(io_, [this, reply = std::move(reply)] { reply(stop_session("stopped from the API")); });
    };
    server_ = monitor::MonitorServer::start(server_options, api, std::make_unique<StatusBoard>());
    publish_daemon("idle");
    start_lab(files.rig);
    spdlog::info("listening on {}", server_->url());
    if (!options_.url_file.empty()) config::write_file_atomically(options_.url_file, server_->url() + "\n");
  }

  // SIGTERM/SIGINT: a running session is stopped cleanly, then the server closes and io.run() returns.
  void shut_down(int signal_number) {
    if (shutting_down_) {
      spdlog::info("still stopping the session; waiting for it to end");
      return;
    }
    shutting_down_ = true;
    spdlog::info("signal {}: shutting down", signal_number);
    if (host_ && host_->running()) {
      host_->request_stop("stopped: rigd is shutting down");
    } else if (!host_) {
      close();  // a session being prepared is dropped when it comes back (launch())
    }
    // Otherwise the session's report is being computed; finish_session() closes the server.
  }

 private:
  // POST /api/sessions: checks the request, prepares the session on the worker thread (files, database, the
  // subject's history) and sets it up back on the io thread; `reply` gets 202 or why not.
  void start_session(const nlohmann::json& request, const monitor::Reply& reply) {
    if (shutting_down_) return reply({503, {{"error", "rigd is shutting down"}}});
    for (const auto& [key, value] : request.items()) {
      if (std::find(std::begin(kStartFields), std::end(kStartFields), key) == std::end(kStartFields)) {
        std::string allowed;
        for (const char* field : kStartFields) allowed += (allowed.empty() ? "" : ", ") + std::string(field);
        return reply({400, {{"error", "unknown field \"" + key + "\" in the request; allowed: " + allowed}}});
      }
    }
    if (preparing_) return reply({409, {{"error", "a session is being started"}}});
    if (host_) {
      return reply({409, {{"error", "a session is running (subject " + host_->subject_id() +
                                        "); stop it first with POST /api/sessions/current/stop"}}});
    }
    SessionHostOptions options;
    if (!request.contains("subject") || !request["subject"].is_string() || request["subject"].get<std::string>().empty()) {
      return reply({400, {{"error", "the request needs \"subject\": the subject's id"}}});
    }
    options.subject = request["subject"].get<std::string>();
    if (request.contains("protocol")) {
      if (!request["protocol"].is_string()) return reply({400, {{"error", "\"protocol\" must be a protocol file's path"}}});
      options.protocol = request["protocol"].get<std::string>();
      options.confine_protocol = true;
    }
    if (request.contains("max_trials")) {
      if (!request["max_trials"].is_number_integer() || request["max_trials"].get<int64_t>() <= 0) {
        return reply({400, {{"error", "\"max_trials\" must be a positive integer"}}});
      }
      options.max_trials = request["max_trials"].get<int64_t>();
    }
    options.seed = options_.seed;
    if (request.contains("seed")) {
      if (!request["seed"].is_number_unsigned() || request["seed"].get<uint64_t>() == 0) {
        return reply({400, {{"error", "\"seed\" must be a positive integer"}}});
      }
      options.seed = request["seed"].get<uint64_t>();
    }
    if (request.contains("weight_g")) {
      if (!request["weight_g"].is_number() || !(request["weight_g"].get<double>() > 0.0)) {
        return reply({400, {{"error", "\"weight_g\" must be the subject's weight today in grams, a positive number"}}});
      }
      options.weight.weight_g = request["weight_g"].get<double>();
    }
    if (request.contains("override_weight")) {
      if (!request["override_weight"].is_string() || request["override_weight"].get<std::string>().empty()) {
        return reply({400, {{"error", "\"override_weight\" must state why the subject trains under its weight threshold"}}});
      }
      options.weight.override_reason = request["override_weight"].get<std::string>();
    }
    options.weight.who = "rigd request";
    options.config = options_.config;
    options.subjects = options_.subjects;
    options.device = options_.device;
    options.speed = options_.speed;
    options.db = options_.db;
    options.crt = options_.crt;
    options.elsewhere = lab_history([](const std::string& text) { spdlog::warn("{}", text); });
    preparing_ = true;
    publish_daemon("starting");
    boost::asio::post(preparer_, [this, options, reply]() mutable {
      auto plan = std::make_shared<std::optional<SessionPlan>>();
      monitor::ApiReply refusal{500, {}};
      try {
        plan->emplace(SessionHost::prepare(options, [](const std::string& text) { spdlog::warn("{}", text); }));
      } catch (const task::ConfigError& e) {
        nlohmann::json diagnostics = nlohmann::json::array();
        for (const auto& d : e.diagnostics()) diagnostics.push_back(task::format_diagnostic(d));
        refusal = {400, {{"error", e.what()}, {"diagnostics", diagnostics}}};
      } catch (const ConflictError& e) {
        refusal = {409, {{"error", e.what()}}};
      } catch (const InputError& e) {
        refusal = {400, {{"error", e.what()}}};
      } catch (const WelfareRefusal& e) {
        refusal = {403, {{"error", e.what()}, {"welfare", true}}};
      } catch (const std::exception& e) {
        refusal = {500, {{"error", e.what()}}};
      }
      boost::asio::post(io_, [this, plan, refusal = std::move(refusal), subject = options.subject,
                              reply = std::move(reply)] { launch(subject, std::move(*plan), refusal, reply); });
    });
  }

  // Back on the io thread: sets up and starts the prepared session, or tells why it could not be prepared.
  void launch(const std::string& subject, std::optional<SessionPlan> plan, const monitor::ApiReply& refusal,
              const monitor::Reply& reply) {
    preparing_ = false;
    if (!plan) {
      publish_daemon("idle");
      if (refusal.status == 400 || refusal.status == 403 || refusal.status == 409) {
        spdlog::warn("refused a session for {}: {}", subject, refusal.body.value("error", ""));
      } else {
        spdlog::error("could not start a session for {}: {}", subject, refusal.body.value("error", ""));
      }
      return reply(refusal);
    }
    if (shutting_down_) return reply({503, {{"error", "rigd is shutting down"}}});
    plan->config.time_trials = latency_log_.has_value();
    try {
      host_ = std::make_unique<SessionHost>(io_, std::move(*plan),
                                            [this](nlohmann::json event) { server_->publish(std::move(event)); },
                                            alerts_.get());
    } catch (const std::exception& e) {
      spdlog::error("could not start a session for {}: {}", subject, e.what());
      publish_daemon("idle");
      return reply({500, {{"error", e.what()}}});
    }
    ++runs_;
    publish_daemon(nullptr);
    host_->add_observer(&log_);
    if (latency_log_) host_->add_observer(&*latency_log_);
    host_->start([this](const SessionEnd& end, const nlohmann::json& report) { finish_session(end, report); });
    spdlog::info("run {}: starting a session for {} ({}, seed {})", runs_, host_->subject_id(), host_->protocol_name(),
                 host_->seed());
    reply({202,
           {{"run", runs_},
            {"subject", host_->subject_id()},
            {"protocol", host_->protocol_name()},
            {"session_id", host_->session_id() > 0 ? nlohmann::json(host_->session_id()) : nlohmann::json(nullptr)},
            {"status", "/api/status"}}});
  }

  monitor::ApiReply stop_session(const std::string& reason) {
    if (!host_ || !host_->running()) return {409, {{"error", "no session is running"}}};
    spdlog::info("stopping the session: {}", reason);
    host_->request_stop(reason);
    return {202, {{"stopping", true}, {"session_id", host_->session_id()}}};
  }

  void finish_session(const SessionEnd& end, const nlohmann::json& report) {
    spdlog::info("session {} recorded in {}: {}", report.value("session_id", nlohmann::json()).dump(), host_->db_path(),
                 end.reason);
    last_report_ = report;
    if (lab_) lab_->push_soon();  // the session's end and water row reach the lab without waiting an interval
    // Not from inside the host's own callback: the host goes once this handler has returned.
    boost::asio::post(io_, [this] {
      host_.reset();
      publish_daemon("idle");
      if (shutting_down_) close();
    });
  }

  // The alert sink (the journal, the store, the dashboard, the webhook) and the daily welfare check.
  void start_alerts(const task::RigConfig& rig) {
    AlertOutlets outlets;
    outlets.log = [](const model::Alert& a) { spdlog::warn("ALERT ({}): {}", model::alert_kind_name(a.kind), model::alert_line(a)); };
    outlets.store = [this](const model::Alert& a) {
      boost::asio::post(readers_, [db = options_.db, a] {
        try {
          store::Store::open(db).log_event(a.session_id, "alert", a.raised_at_unix_us, model::alert_json(a).dump());
        } catch (const std::exception& e) {
          spdlog::error("could not store an alert: {}", e.what());
        }
      });
    };
    outlets.publish = [this](const model::Alert& a) {
      if (server_) server_->publish({{"type", "alert"}, {"alert", model::alert_json(a)}});
    };
    outlets.warn = [](const std::string& text) { spdlog::warn("alerts: {}", text); };
    alerts_ = std::make_unique<AlertSink>(rig.id, rig.alerts, std::move(outlets));
    if (rig.alerts.welfare_check_minute) schedule_welfare_check(*rig.alerts.welfare_check_minute);
    if (!rig.alerts.webhook_url.empty()) spdlog::info("alerts go to {}", WebhookUrl::parse(rig.alerts.webhook_url).host);
  }

  // A `lab:` section's URL, refused before anything starts when it carries a password or does not parse.
  void check_lab(const task::RigConfig& rig) {
    if (rig.lab.url.empty()) return;
    try {
      lab::check_conninfo(rig.lab.url);
    } catch (const lab::LabInputError& e) {
      throw InputError(rig.source_file + ": lab.url: " + e.what());
    }
  }

  // The background push to the lab database (docs/lab.md), with a `lab:` section: its state goes to the status
  // and the dashboard after every attempt, and into the log when it changes.
  void start_lab(const task::RigConfig& rig) {
    if (rig.lab.url.empty()) return;
    lab::LabPusherOptions options;
    options.db_path = options_.db;
    options.conninfo = rig.lab.url;
    options.rig_id = rig.id;
    options.interval = rig.lab.push_interval();
    options.answer_timeout = rig.lab.timeout();
    options.on_state = [this, said = std::string()](const lab::LabPushState& state) mutable {
      if (state.state != said) {
        if (state.state == "ok") {
          spdlog::info("lab {}: pushing (backlog {})", state.server, state.backlog_entries);
        } else {
          spdlog::warn("lab {}: {} ({} rows waiting): {}", state.server, state.state, state.backlog_entries, state.last_error);
        }
        said = state.state;
      }
      boost::asio::post(io_, [this, json = lab::lab_push_state_json(state)] {
        if (server_) server_->publish({{"type", "lab"}, {"lab", json}});
      });
    };
    lab_ = std::make_unique<lab::LabPusher>(std::move(options));
    spdlog::info("pushing to the lab database every {} s", rig.lab.push_interval_s);
  }

  // At `minute_of_day` (local time) every day: an alert for each subject under its threshold or owed water.
  void schedule_welfare_check(int minute_of_day) {
    welfare_timer_.expires_at(next_local_minute(minute_of_day));
    welfare_timer_.async_wait([this, minute_of_day](const boost::system::error_code& ec) {
      if (ec || shutting_down_) return;
      boost::asio::post(readers_, [this] { check_welfare(); });
      schedule_welfare_check(minute_of_day);
    });
  }

  // Reader thread: every subject's day, and an alert for each that needs someone.
  void check_welfare() {
    try {
      for (const auto& subject : load_rig_files(options_.config, options_.subjects).subjects.subjects) {
        const auto day = welfare_at(options_.db, subject);
        for (const auto& draft : welfare_alerts(day)) {
          model::Alert alert;
          alert.kind = draft.kind;
          alert.text = draft.text;
          alert.subject_id = subject.id;
          alerts_->raise(std::move(alert));
        }
      }
    } catch (const std::exception& e) {
      spdlog::error("the daily welfare check failed: {}", e.what());
    }
  }

  void close() {
    lab_.reset();  // joins the pusher: nothing posts to the server after this
    welfare_timer_.cancel();
    server_->stop();
    spdlog::info("stopped serving; bye");
    if (on_closed_) on_closed_();
  }

  // Tells the dashboard's status what only rigd knows: {daemon:"rigd", run, state, last_report}. `state`
  // "idle" or "starting" between sessions (the dashboard keeps showing the last session's fields), null
  // while a session runs (its own state shows).
  void publish_daemon(nlohmann::json state) {
    if (!server_) return;
    server_->publish({{"type", "daemon"},
                      {"daemon", "rigd"},
                      {"run", runs_},
                      {"state", std::move(state)},
                      {"last_report", last_report_}});
  }

  boost::asio::io_context& io_;
  DaemonOptions options_;
  std::function<void()> on_closed_;
  // Store reads for the API (session lists, trial pages), off the io and server threads. Before the server:
  // destroyed after it, so no handler posts to a pool that is gone.
  boost::asio::thread_pool readers_{1};
  std::unique_ptr<AlertSink> alerts_;  // before the server and the session: outlives both
  boost::asio::system_timer welfare_timer_{io_};
  std::unique_ptr<monitor::MonitorServer> server_;
  std::unique_ptr<lab::LabPusher> lab_;  // after the server: stopped first (close(), or destruction)
  std::unique_ptr<SessionHost> host_;
  SessionLog log_;
  std::optional<LatencyLog> latency_log_;
  int64_t runs_ = 0;
  bool shutting_down_ = false;
  bool preparing_ = false;
  nlohmann::json last_report_;
  // Prepares sessions (file and database reads) off the io thread. Last member: joined first on destruction,
  // while everything its work posts back to still exists.
  boost::asio::thread_pool preparer_{1};
};

void setup_logging() {
  spdlog::sink_ptr sink;
  if (::isatty(2)) {
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    sink->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  } else {
    // journald stamps each line itself.
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    sink->set_pattern("%l: %v");
  }
  auto logger = std::make_shared<spdlog::logger>("rigd", sink);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

int run(const DaemonOptions& options) {
  boost::asio::io_context io;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  bool closed = false;
  Daemon daemon(io, options, [&] {
    closed = true;
    signals.cancel();
  });
  daemon.start();
  std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec,
                                                                              int signal_number) {
    if (ec) return;
    daemon.shut_down(signal_number);
    // Until the server has closed, later signals are noted; after that nothing may keep io.run() going.
    if (!closed) signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);
  io.run();
  return kExitOk;
}

}  // namespace
}  // namespace rig::app

int main(int argc, char** argv) {
  rig::app::DaemonOptions options;
  CLI::App app{"rigd: the daemon that owns the rig for the day (dashboard, API, one session at a time)"};
  app.set_version_flag("--version", std::string("rigd ") + RIG_HOST_VERSION);
  app.add_option("--config", options.config, "Rig config YAML")->required();
  app.add_option("--subjects", options.subjects, "Subjects YAML (default: subjects.yaml beside the rig config)");
  app.add_option("--listen", options.listen, "ADDRESS:PORT to serve on (port 0: any free port)")->capture_default_str();
  app.add_option("--token-file", options.token_file, "File holding the token that may start and stop sessions");
  app.add_option("--url-file", options.url_file, "Write the dashboard's URL to this file once listening");
  app.add_option("--host-name", options.host_names,
                 "A name this rig is reached by (repeatable); requests naming any other host than an IP address or "
                 "localhost are refused (DNS rebinding)");
  app.add_option("--db", options.db, "Session database (default: " + rig::store::Store::default_path() + ")");
  app.add_option("--device", options.device, "sim | simavr | serial[:PATH] (default: the rig config's device)");
  app.add_option("--speed", options.speed, "Simulated devices: device time per wall time")
      ->capture_default_str()->check(CLI::Range(0.1, 1000.0));
  app.add_option("--crt", options.crt, "Surrogates of the randomization test in each session's report (0: none)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--seed", options.seed,
                 "Seed of the trial draws for sessions whose start request gives none (default: random, recorded)")
      ->check(CLI::PositiveNumber);
  app.add_option("--latency-log", options.latency_log,
                 "Benchmarks: every session's per-trial host-path timing to this file (tests/bench/lab_live.py)");
  CLI11_PARSE(app, argc, argv);
  rig::app::setup_logging();
  try {
    return rig::app::run(options);
  } catch (const rig::app::InputError& e) {
    spdlog::critical("{}", e.what());
    return rig::app::kExitInvalid;
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return rig::app::kExitFailure;
  }
}
