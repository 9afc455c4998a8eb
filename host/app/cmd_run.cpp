// `rig run`: one training session in the foreground, with a live progress line and an end-of-session summary.
#include <CLI/CLI.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <unistd.h>

#include "command_registry.hpp"
#include "lab_history.hpp"
#include "latency_log.hpp"
#include "host/store/store.hpp"
#include "live_fit.hpp"
#if defined(RIG_HAVE_MONITOR)
#include "host/monitor/monitor_server.hpp"
#include "monitor_observer.hpp"
#endif
#include "run_support.hpp"
#include "session_host.hpp"
#include "session_runner.hpp"

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
  std::string latency_log;   // hidden, benchmarks: per-trial host-path timing (LatencyLog)
  std::optional<double> weight_g;  // today's weight (else today's weighing, a question at a terminal, or the
                                   // simulated body's)
  std::string override_weight;     // train under the weight threshold, for this stated reason
};

// The operator's answer to `prompt` on the terminal ("" when stdin ended).
std::string ask_at_terminal(const std::string& prompt) {
  std::fprintf(stderr, "%s", prompt.c_str());
  std::fflush(stderr);
  std::string line;
  if (!std::getline(std::cin, line)) return "";
  return line;
}

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
  void on_trial(const CompletedTrial& trial) override {
    const auto& t = trial.record;
    ++trials_;
    if (t.choice) {
      ++choices_;
      high_ += t.chose_high ? 1 : 0;
    }
    for (const auto valve : {wire::Valve::kCherry, wire::Valve::kGrape}) {
      const auto v = static_cast<std::size_t>(valve);
      if (model::delivered_open_us(t, valve) > 0) ++rewards_[v];
      volume_[v] += model::delivered_ul(t, valve);
    }
    block_ = trial.state_after.schedule.block_index;
    high_side_ = model::side_code(trial.state_after.schedule.high_side)[0];
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (tty_ && now - last_print_ < std::chrono::milliseconds(100)) return;
    if (!tty_ && trials_ % 50 != 0) return;
    last_print_ = now;
    std::string indices = "indices pending";
    if (const auto fit = fit_.latest()) {
      const auto state = analysis::estimability(*fit);
      if (!state.estimable) {
        indices = "indices " + state.reason;
      } else if (fit->controllable_index && fit->distractor_index) {
        char buf[96];
        std::snprintf(buf, sizeof(buf), "ctrl %+.2f dist %+.2f (L2 %.2g)", fit->controllable_index->value,
                      fit->distractor_index->value, fit_.options().l2);
        indices = buf;
      }
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
  SessionHostOptions options{o.subject, o.protocol, o.config, o.subjects, o.device, o.speed, o.max_trials,
                             o.db,      o.resume,   o.seed,   o.crt,      false,      {},         {}};
  options.weight.weight_g = o.weight_g;
  options.weight.override_reason = o.override_weight;
  if (::isatty(0)) options.weight.ask = ask_at_terminal;
  const auto notice = [](const std::string& text) { std::fprintf(stderr, "rig: %s\n", text.c_str()); };
  options.elsewhere = lab_history(notice);
  boost::asio::io_context io;

  SessionPlan plan = SessionHost::prepare(options, notice);
  plan.config.time_trials = !o.latency_log.empty();
  // The session's alerts: on the terminal, stored with the session, on the dashboard, and to the webhook.
  // Declared before the server: destroyed after it (the server's last events may name an alert).
  std::function<void(const model::Alert&)> publish_alert;
  AlertSink alerts(plan.inputs.rig.id, plan.inputs.rig.alerts,
                   AlertOutlets{[](const model::Alert& a) {
                                  std::fprintf(stderr, "rig: ALERT (%s): %s\n", model::alert_kind_name(a.kind),
                                               model::alert_line(a).c_str());
                                },
                                {},
                                [&publish_alert](const model::Alert& a) {
                                  if (publish_alert) publish_alert(a);
                                },
                                [](const std::string& text) { std::fprintf(stderr, "rig: alerts: %s\n", text.c_str()); }});
#if defined(RIG_HAVE_MONITOR)
  // Declared before the server: joined after it, so no handler posts to a pool that is gone.
  boost::asio::thread_pool store_readers(1);
  SessionHost* running = nullptr;  // io thread
  std::unique_ptr<monitor::MonitorServer> server;
  SessionHost::Publish publish;
  if (o.serve) {
    monitor::ServerOptions server_options =
        dashboard_server_options("127.0.0.1", static_cast<uint16_t>(o.port), o.token_file);
    server_options.warn = [](const std::string& text) { std::fprintf(stderr, "rig: dashboard: %s\n", text.c_str()); };
    monitor::ApiHandlers api;
    add_store_views(api, store_readers, plan.db_path);
    add_welfare_views(api, store_readers, plan.db_path, plan.inputs.rig_path, plan.inputs.subjects_path,
                      [&io, &running, &server](const std::string& subject, double water_ul, const nlohmann::json& welfare) {
                        boost::asio::post(io, [&running, &server, subject, water_ul, welfare] {
                          if (running) running->water_given(subject, water_ul);
                          if (server) server->publish({{"type", "welfare"}, {"welfare", welfare}});
                        });
                      });
    api.start = [](const nlohmann::json&, const monitor::Reply& reply) {
      reply({409, {{"error", "this is `rig run`: it runs its one session; start sessions with rigd"}}});
    };
    api.stop = [&io, &running](monitor::Reply reply) {
      boost::asio::post(io, [&running, reply = std::move(reply)] {
        if (!running || !running->running()) return reply({409, {{"error", "no session is running"}}});
        running->request_stop("stopped from the dashboard");
        reply({202, {{"stopping", true}}});
      });
    };
    try {
      server = monitor::MonitorServer::start(server_options, api, std::make_unique<StatusBoard>());
    } catch (const std::exception& e) {
      if (o.port_given) throw;
      // The default port is taken (another rig run?): serve on any free port rather than not at all.
      std::fprintf(stderr, "rig: port %d is busy (%s); using a free port\n", o.port, e.what());
      server_options.port = 0;
      server = monitor::MonitorServer::start(server_options, api, std::make_unique<StatusBoard>());
    }
    std::fprintf(stderr, "rig: dashboard at %s\n", server->url().c_str());
    publish = [dashboard = server.get()](nlohmann::json event) { dashboard->publish(std::move(event)); };
    publish_alert = [dashboard = server.get()](const model::Alert& a) {
      dashboard->publish({{"type", "alert"}, {"alert", model::alert_json(a)}});
    };
  }
  SessionHost host(io, std::move(plan), std::move(publish), &alerts);
  running = &host;
  const auto stop_serving = [&] {
    if (server) server->stop();
  };
#else
  if (o.serve) throw InputError("--serve: this rig was built without the monitor (host/monitor)");
  SessionHost host(io, std::move(plan), {}, &alerts);
  const auto stop_serving = [] {};
#endif
  ProgressLine progress(host.live_fit(), !o.quiet && !o.json_summary);
  host.add_observer(&progress);
  std::optional<LatencyLog> latency_log;
  if (!o.latency_log.empty()) host.add_observer(&latency_log.emplace(o.latency_log));

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  std::optional<SessionEnd> end;
  nlohmann::json report;
  std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (end) {  // --hold: the session is over, Ctrl-C ends the serving
      stop_serving();
      return;
    }
    host.request_stop("stopped by the operator");
    if (o.hold) signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);
  host.start([&](const SessionEnd& e, const nlohmann::json& r) {
    end = e;
    report = r;
    if (o.serve && o.hold) {
      std::fprintf(stderr, "rig: session over; the dashboard stays up until Ctrl-C\n");
      return;
    }
    signals.cancel();
    stop_serving();
  });
  io.run();
  if (!end) throw std::runtime_error("the session ended without a result");

  if (o.json_summary) {
    std::cout << report.dump(2) << std::endl;
  } else {
    print_report(report);
  }
  return end->error ? kExitFailure : kExitOk;
}

const CommandRegistration kRunRegistration{
    "run", "Run one training session for a subject (simulated rig by default) and print its summary",
    [](CLI::App& command) {
      auto o = std::make_shared<RunOptions>();
      command.add_option("--subject", o->subject, "Subject id (from the subjects file)")->required();
      command.add_option("--protocol", o->protocol, "Protocol YAML (default: the subject's current stage)");
      command.add_option("--config", o->config, "Rig config YAML (default: $RIG_CONFIG, ~/.config/rig/rig.yaml, installed: /etc/rig/rig.yaml, else the simulated rig's example)");
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
      command.add_option("--weight", o->weight_g,
                         "The subject's weight today, grams (recorded; else today's weighing is used, or asked for "
                         "at a terminal)");
      command.add_option("--override-weight", o->override_weight,
                         "Train a subject under its weight threshold; the reason is stored with the session");
      command.add_flag("--json-summary", o->json_summary, "Print the summary as one JSON object on stdout");
      command.add_flag("--quiet", o->quiet, "No progress line");
      command.add_flag("--serve", o->serve, "Serve the dashboard and API on 127.0.0.1 while the session runs");
      auto* port = command.add_option("--port", o->port, "Dashboard port (implies --serve; 0: any free port)")
                       ->capture_default_str()->check(CLI::Range(0, 65535));
      command.add_option("--token-file", o->token_file, "File holding the token that may stop the session from the API");
      command.add_flag("--hold", o->hold, "With --serve: keep serving after the session ends, until Ctrl-C");
      command.add_option("--latency-log", o->latency_log, "Benchmarks: per-trial host-path timing to this file")
          ->group("");  // hidden: tests/bench/host_path.py
      return [o, port] {
        o->port_given = port->count() > 0;
        o->serve = o->serve || o->port_given;
        return run_with_errors("run", [&] { return run(*o); });
      };
    }};

}  // namespace
}  // namespace rig::app
