// `rig run`: one training session in the foreground, with a live progress line and an end-of-session summary.
#include <CLI/CLI.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <unistd.h>

#include "agent_chooser.hpp"
#include "command_registry.hpp"
#include "device_factory.hpp"
#include "host/analysis/crt.hpp"
#include "host/analysis/fit_json.hpp"
#include "host/store/store.hpp"
#include "host/task/compatibility.hpp"
#include "host/task/engine_state.hpp"
#include "host/task/protocol.hpp"
#include "host/task/rig_config.hpp"
#include "host/task/subject.hpp"
#include "live_fit.hpp"
#if defined(RIG_HAVE_MONITOR)
#include "host/monitor/monitor_server.hpp"
#include "host/monitor/static_files.hpp"
#include "monitor_observer.hpp"
#endif
#include "run_support.hpp"
#include "session_runner.hpp"
#include "store_recorder.hpp"

namespace rig::app {
namespace {

struct RunOptions {
  std::string subject;
  std::string protocol;
  std::string config;
  std::string subjects;
  std::string device;
  double speed = 1.0;
  int64_t max_trials = 0;
  std::string db;
  bool resume = false;
  uint64_t seed = 0;
  int crt = 1000;
  bool json_summary = false;
  bool quiet = false;
  bool serve = false;        // --serve or --port: the dashboard and API while the session runs
  int port = 8765;
  bool port_given = false;
  std::string token_file;    // control token for POST .../stop (none: control refused)
  bool hold = false;         // keep serving after the session ends, until Ctrl-C
};

// The live status line: trials, high-side choices, rewards and volume per flavour, block, indices, link.
class ProgressLine : public SessionObserver {
 public:
  ProgressLine(const LiveFit& fit, bool enabled) : fit_(fit), enabled_(enabled), tty_(::isatty(2)) {}

  void on_started(const SessionStartInfo& info) override {
    started_ = true;
    if (enabled_) std::fprintf(stderr, "rig: session started for %s on %s (firmware %s)\n", info.subject_id.c_str(),
                               info.device_description.c_str(), info.device.firmware_build_id.c_str());
  }
  void on_link(const link::LinkStatus& status) override {
    link_ = status.state == link::LinkState::kConnected ? "ok" : link::link_state_name(status.state);
    // Before the session starts (connecting) and at its end (stopped) the link's states are not news.
    if (enabled_ && started_ && status.state != link::LinkState::kConnected &&
        status.state != link::LinkState::kHandshaking && status.state != link::LinkState::kStopped) {
      std::fprintf(stderr, "%srig: link %s: %s\n", tty_ ? "\n" : "", link::link_state_name(status.state), status.reason.c_str());
    }
  }
  void on_fault(const wire::Fault& fault, int64_t) override {
    if (enabled_) std::fprintf(stderr, "%srig: device fault: %s\n", tty_ ? "\n" : "", fault_text(fault.fault_bit).c_str());
  }
  void on_trial(const CompletedTrial& t) override {
    ++trials_;
    if (t.update.choice) {
      ++choices_;
      high_ += t.update.chose_high ? 1 : 0;
    }
    for (int v = 0; v < 2; ++v) {
      if (t.result.delivered_open_us[v] > 0) ++rewards_[v];
      volume_[v] += t.update.delivered_ul_by_valve[v];
    }
    block_ = t.update.block_index;
    high_side_ = t.update.high_side == wire::Side::kLeft ? 'L' : 'R';
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (tty_ && now - last_print_ < std::chrono::milliseconds(100)) return;
    if (!tty_ && trials_ % 50 != 0) return;
    last_print_ = now;
    std::string indices = "indices pending";
    if (const auto fit = fit_.latest(); fit && fit->controllable_index && fit->distractor_index) {
      char buf[96];
      std::snprintf(buf, sizeof(buf), "ctrl %+.2f dist %+.2f", fit->controllable_index->value, fit->distractor_index->value);
      indices = buf;
    }
    std::fprintf(stderr, "%strial %u | high side %.0f%% | cherry %u (%.0f uL) grape %u (%.0f uL) | block %u high %c | %s | link %s%s",
                 tty_ ? "\r" : "", trials_, choices_ ? 100.0 * high_ / choices_ : 0.0, rewards_[0], volume_[0], rewards_[1],
                 volume_[1], block_, high_side_, indices.c_str(), link_.c_str(), tty_ ? "   " : "\n");
    std::fflush(stderr);
  }
  void on_finished(const SessionEnd&) override {
    if (enabled_ && tty_) std::fprintf(stderr, "\n");
  }

 private:
  const LiveFit& fit_;
  bool enabled_;
  bool tty_;
  bool started_ = false;
  uint32_t trials_ = 0, choices_ = 0, high_ = 0, block_ = 0;
  uint32_t rewards_[2] = {0, 0};
  double volume_[2] = {0, 0};
  char high_side_ = '?';
  std::string link_ = "starting";
  std::chrono::steady_clock::time_point last_print_{};
};

int run(const RunOptions& o) {
  RunInputs in = load_run_inputs(o.config, o.subjects, o.subject, o.protocol);
  if (o.max_trials > 0) in.protocol.limits.max_trials = o.max_trials;
  for (const auto& w : task::stale_calibration_warnings(in.rig, today())) std::fprintf(stderr, "rig: warning: %s\n", w.c_str());

  const std::string db_path = o.db.empty() ? store::Store::default_path() : o.db;
  store::Store db = store::Store::open(db_path);
  for (int64_t id : db.mark_interrupted_sessions()) {
    std::fprintf(stderr, "rig: session %lld had been interrupted; it is marked as such\n", static_cast<long long>(id));
  }

  SessionConfig config;
  config.protocol = in.protocol;
  config.rig_config = in.rig;
  config.subject = in.subject;
  config.speed = o.speed;
  config.seed = o.seed ? o.seed : std::random_device{}() | (static_cast<uint64_t>(std::random_device{}()) << 32);
  RecordingContext recording{in.protocol_path, in.protocol_text, in.rig_path, in.rig_text, in.rig, in.subject,
                             "", RIG_HOST_VERSION, std::nullopt};
  if (o.resume) {
    const auto last = db.latest_session(in.subject.id);
    if (!last) throw InputError("no session of " + in.subject.id + " to resume in " + db_path);
    const store::ResumePoint point = db.resume_point(last->session_id);
    if (point.protocol_sha256 != store::sha256_hex(in.protocol_text)) {
      throw InputError("session " + std::to_string(last->session_id) + " ran " + point.protocol_path +
                       " with different contents; resume it with the same protocol file");
    }
    config.resume = task::engine_state_from_json(point.state_json);
    config.seed = point.rng_seed;
    recording.resume_session_id = last->session_id;
    std::fprintf(stderr, "rig: resuming session %lld after trial %u\n", static_cast<long long>(last->session_id),
                 point.last_trial_number);
  } else {
    config.water_before_session_ul = db.water_today_ul(in.subject.id, today());
  }

  std::vector<analysis::TrialRecord> history;
  for (const auto& t : db.subject_trials(in.subject.id)) history.push_back(to_analysis_record(t));

  boost::asio::io_context io;
  DeviceRequest request = device_request(o.device, in.rig, o.speed, config.seed);
  recording.device_kind = device_kind_name(request.kind);
  if (request.kind != DeviceChoice::kSerial) {
    request.chooser = std::make_unique<AgentChooser>(agent_params_for(in.subject, in.subjects_path),
                                                     in.subject.controllable, config.seed ^ 0x9E3779B97F4A7C15ull);
  }
  request.simavr_program = sibling_program("rig-simavr");
  auto device = make_device(io, std::move(request));
  config.device_description = device->describe();

  StoreRecorder recorder(io, std::move(db), recording);
  LiveFit live(std::move(history), recording.resume_session_id.value_or(-1));
  ProgressLine progress(live, !o.quiet && !o.json_summary);
  auto runner = SessionRunner::create(io, device->rig(), config, recorder);
  runner->add_observer(&live);
  runner->add_observer(&progress);

#if defined(RIG_HAVE_MONITOR)
  std::unique_ptr<MonitorObserver> monitor_view;
  std::shared_ptr<monitor::MonitorServer> server;
  if (o.serve) {
    monitor::ServerOptions server_options;
    server_options.port = static_cast<uint16_t>(o.port);
    server_options.web_root = monitor::default_web_root();
    if (!o.token_file.empty()) {
      try {
        server_options.token = monitor::read_token_file(o.token_file);
      } catch (const std::runtime_error& e) {
        throw InputError(e.what());
      }
    }
    MonitorContext context{in.subject.id, in.protocol.name, in.subject.daily_water_target_ml * 1000.0,
                           config.water_before_session_ul, [&device] { return device->rig().link_stats(); },
                           [&recorder] { return recorder.session_id(); }};
    monitor_view = std::make_unique<MonitorObserver>(live, context, [&server](std::string text) {
      if (server) server->publish(std::move(text));
    });
    monitor::ApiHandlers api;
    api.status = [&] { return monitor_view->status(); };
    api.websocket_hello = [&] { return monitor_view->status().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); };
    api.sessions = [db_path] { return monitor::ApiReply{200, session_list_json(db_path)}; };
    api.start = [](const nlohmann::json&) {
      return monitor::ApiReply{409, {{"error", "this is `rig run`: it runs its one session; start sessions with rigd"}}};
    };
    api.stop = [runner] {
      if (!runner->running()) return monitor::ApiReply{409, {{"error", "no session is running"}}};
      runner->request_stop("stopped from the dashboard");
      return monitor::ApiReply{202, {{"stopping", true}}};
    };
    try {
      server = monitor::MonitorServer::start(io, server_options, api);
    } catch (const std::exception& e) {
      if (o.port_given) throw;
      // The default port is taken (another rig run?): serve on any free port rather than not at all.
      std::fprintf(stderr, "rig: port %d is busy (%s); using a free port\n", o.port, e.what());
      server_options.port = 0;
      server = monitor::MonitorServer::start(io, server_options, api);
    }
    runner->add_observer(monitor_view.get());
    std::fprintf(stderr, "rig: dashboard at %s\n", server->url().c_str());
  }
  const auto stop_serving = [&] {
    if (server) server->stop();
  };
#else
  if (o.serve) throw InputError("--serve: this rig was built without the monitor (host/monitor)");
  const auto stop_serving = [] {};
#endif

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  std::optional<SessionEnd> end;
  std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (end) {  // --hold: the session is over, Ctrl-C ends the serving
      stop_serving();
      return;
    }
    runner->request_stop("stopped by the operator");
    if (o.hold) signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);
  runner->start([&](const SessionEnd& e) {
    end = e;
    if (o.serve && o.hold) {
      std::fprintf(stderr, "rig: session over; the dashboard stays up until Ctrl-C\n");
      return;
    }
    signals.cancel();
    stop_serving();
  });
  io.run();
  if (!end) throw std::runtime_error("the session ended without a result");

  live.wait_idle();
  const nlohmann::json report = session_report(*end, live.trials(), o.crt, config.seed, in.subject.id,
                                               recorder.session_id(), recorder.path());
  if (o.json_summary) {
    std::cout << report.dump(2) << std::endl;
  } else {
    print_report(report);
  }
  return end->error ? kExitFailure : kExitOk;
}

const CommandRegistration kRegistration{
    "run", "Run one training session for a subject (simulated rig by default) and print its summary",
    [](CLI::App& command) {
      auto o = std::make_shared<RunOptions>();
      command.add_option("--subject", o->subject, "Subject id (from the subjects file)")->required();
      command.add_option("--protocol", o->protocol, "Protocol YAML (default: the subject's current stage)");
      command.add_option("--config", o->config, "Rig config YAML (default: $RIG_CONFIG, ~/.config/rig/rig.yaml, or the simulated rig's example)");
      command.add_option("--subjects", o->subjects, "Subjects YAML (default: subjects.yaml beside the rig config)");
      command.add_option("--device", o->device, "sim | simavr | serial[:PATH] (default: the rig config's device)");
      command.add_option("--speed", o->speed, "Simulated devices: device time per wall time")
          ->capture_default_str()->check(CLI::Range(0.1, 1000.0));
      command.add_option("--max-trials", o->max_trials, "End after this many trials (overrides the protocol)")
          ->check(CLI::PositiveNumber);
      command.add_option("--db", o->db, "Session database (default: " + store::Store::default_path() + ")");
      command.add_flag("--resume", o->resume, "Continue the subject's last session exactly where it stopped");
      command.add_option("--seed", o->seed, "Seed of the trial draws (default: random, recorded)");
      command.add_option("--crt", o->crt, "Surrogates of the randomization test in the summary (0: none)")
          ->capture_default_str()->check(CLI::NonNegativeNumber);
      command.add_flag("--json-summary", o->json_summary, "Print the summary as one JSON object on stdout");
      command.add_flag("--quiet", o->quiet, "No progress line");
      command.add_flag("--serve", o->serve, "Serve the dashboard and API on 127.0.0.1 while the session runs");
      auto* port = command.add_option("--port", o->port, "Dashboard port (implies --serve; 0: any free port)")
                       ->capture_default_str()->check(CLI::Range(0, 65535));
      command.add_option("--token-file", o->token_file, "File holding the token that may stop the session from the API");
      command.add_flag("--hold", o->hold, "With --serve: keep serving after the session ends, until Ctrl-C");
      return [o, port] {
        o->port_given = port->count() > 0;
        o->serve = o->serve || o->port_given;
        return run_with_errors("run", [&] { return run(*o); });
      };
    }};

}  // namespace
}  // namespace rig::app
