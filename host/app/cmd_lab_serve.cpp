// `rig lab serve --url URL [--port P]`: the lab page (docs/lab.md, "The lab page"). The HTTP server (host/monitor)
// answers on its own thread; the lab's queries and fits run on one worker thread of their own with its own
// PostgreSQL connection (a reader role: `rig lab add-reader`), which between requests reads and fits ahead so
// that pages answer from memory. The process ends on SIGINT or SIGTERM.
#include "cmd_lab_serve.hpp"

#include <CLI/CLI.hpp>
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "command_registry.hpp"
#include "host/config/atomic_file.hpp"
#include "host/config/subjects_file.hpp"
#include "host/lab/lab_page.hpp"
#include "host/monitor/monitor_server.hpp"
#include "host/monitor/static_files.hpp"
#include "run_support.hpp"
#include "welfare_support.hpp"

namespace rig::app {
namespace {

}  // namespace


namespace {

// Requests waiting for the worker beyond this are answered 503 at once: a page asks again in seconds.
constexpr std::size_t kMaxWaitingRequests = 64;
// How often an idle worker looks for new sessions to read and fit ahead.
constexpr std::chrono::seconds kRewarmInterval{30};

lab::LabClock clock_now() {
  const auto now_unix_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return {now_unix_us, local_day_of(now_unix_us), local_day_of};
}

// The worker: one thread, one connection, one LabPage. Jobs run in order; between them, the page reads ahead.
class LabWorker {
 public:
  using Job = std::function<monitor::ApiReply(lab::PgConnection&, lab::LabPage&)>;

  LabWorker(std::string conninfo, lab::LabPageOptions page_options, bool quiet)
      : conninfo_(std::move(conninfo)), page_(std::move(page_options)), quiet_(quiet), thread_([this] { run(); }) {}
  ~LabWorker() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  LabWorker(const LabWorker&) = delete;
  LabWorker& operator=(const LabWorker&) = delete;

  // Queues `job`; its answer (or the failure's) goes to `reply`. Thread-safe.
  void post(Job job, monitor::Reply reply) {
    {
      std::lock_guard lock(mutex_);
      if (jobs_.size() >= kMaxWaitingRequests) {
        reply({503, {{"error", "the lab page is busy; try again in a few seconds"}}});
        return;
      }
      jobs_.push_back({std::move(job), std::move(reply)});
    }
    wake_.notify_all();
  }

 private:
  struct Pending {
    Job job;
    monitor::Reply reply;
  };

  lab::PgConnection& connection() {
    if (!lab_) {
      lab_ = std::make_unique<lab::PgConnection>(conninfo_, lab::PgTimeouts{10, std::chrono::seconds(60)});
      // The page needs to read only; a role that may write is more than it needs (docs/lab.md, "Roles").
      const auto writes = lab_->exec("SELECT has_table_privilege(current_user, 'trials', 'INSERT')", "read the role's privileges");
      if (writes.text(0, 0) == "t" && !warned_writer_) {
        std::fprintf(stderr, "rig lab serve: warning: %s may write the lab; the page needs only a reader (rig lab add-reader)\n",
                     lab_->server().c_str());
        warned_writer_ = true;
      }
    }
    return *lab_;
  }

  monitor::ApiReply answer(const Job& job) {
    try {
      return job(connection(), page_);
    } catch (const lab::SubjectNotFound& e) {
      return {404, {{"error", e.what()}}};
    } catch (const std::invalid_argument& e) {
      return {400, {{"error", e.what()}}};
    } catch (const lab::LabError& e) {
      lab_.reset();  // a failed connection is not trusted again: the next request reconnects
      return {503, {{"error", std::string("the lab database cannot be read: ") + e.what()}}};
    } catch (const std::exception& e) {
      return {500, {{"error", e.what()}}};
    }
  }

  void warm() {
    try {
      const bool more = page_.warm_step(connection(), clock_now());
      if (!more) {
        warming_ = false;
        next_warm_ = std::chrono::steady_clock::now() + kRewarmInterval;
      }
      const auto progress = page_.progress();
      const auto now = std::chrono::steady_clock::now();
      if (!quiet_ && (!more || now - last_progress_ > std::chrono::seconds(5)) && progress.final != last_final_) {
        std::fprintf(stderr, "rig lab serve: %zu of %zu sessions read and fitted\n", progress.final, progress.sessions);
        last_progress_ = now;
        last_final_ = progress.final;
      }
    } catch (const std::exception& e) {
      lab_.reset();
      warming_ = false;
      next_warm_ = std::chrono::steady_clock::now() + kRewarmInterval;
      std::fprintf(stderr, "rig lab serve: reading ahead failed (tries again in %lld s): %s\n",
                   static_cast<long long>(kRewarmInterval.count()), e.what());
    }
  }

  void run() {
    for (;;) {
      std::optional<Pending> pending;
      {
        std::unique_lock lock(mutex_);
        if (!warming_) {
          wake_.wait_until(lock, next_warm_, [this] { return stop_ || !jobs_.empty(); });
          if (!stop_ && jobs_.empty()) warming_ = true;
        }
        if (stop_) return;
        if (!jobs_.empty()) {
          pending = std::move(jobs_.front());
          jobs_.pop_front();
        }
      }
      if (pending) {
        pending->reply(answer(pending->job));
      } else {
        warm();
      }
    }
  }

  std::string conninfo_;
  lab::LabPage page_;
  bool quiet_;
  std::unique_ptr<lab::PgConnection> lab_;  // worker thread only
  bool warned_writer_ = false;
  bool warming_ = true;
  std::chrono::steady_clock::time_point next_warm_{};
  std::chrono::steady_clock::time_point last_progress_{};
  std::size_t last_final_ = 0;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> jobs_;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the rest exists
};

}  // namespace

int lab_serve(const ServeOptions& o) {
  try {
    lab::check_conninfo(o.url);
  } catch (const lab::LabInputError& e) {
    throw InputError(std::string("--url: ") + e.what());
  }
  lab::LabPageOptions page_options;
  page_options.index_sessions = o.index_sessions;
  page_options.offline_after = std::chrono::seconds(o.offline_after_s);
  if (!o.subjects.empty()) page_options.subjects = load_subjects_checked(o.subjects);

  // The signals end the process through sigwait below, on this thread, whatever thread they are sent to.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  LabWorker worker(o.url, std::move(page_options), o.quiet);
  monitor::ServerOptions server_options;
  server_options.address = o.address;
  server_options.port = o.port;
  server_options.web_root = o.web_root.empty() ? monitor::default_web_root() / "lab" : std::filesystem::path(o.web_root);
  server_options.web_files = monitor::kLabPageFiles;
  server_options.host_names = o.host_names;
  server_options.warn = [](const std::string& text) { std::fprintf(stderr, "rig lab serve: %s\n", text.c_str()); };
  monitor::ApiHandlers api;
  api.lab_overview = [&worker](monitor::Reply reply) {
    worker.post([](lab::PgConnection& lab, lab::LabPage& page) { return monitor::ApiReply{200, page.overview(lab, clock_now())}; },
                std::move(reply));
  };
  api.lab_subject = [&worker](const std::string& subject, std::optional<std::int64_t> sessions, monitor::Reply reply) {
    const int pooled = sessions ? static_cast<int>(std::min<std::int64_t>(*sessions, lab::kMaxPooledSessions + 1)) : 5;
    worker.post(
        [subject, pooled](lab::PgConnection& lab, lab::LabPage& page) {
          return monitor::ApiReply{200, page.subject(lab, subject, pooled, clock_now())};
        },
        std::move(reply));
  };
  auto server = monitor::MonitorServer::start(server_options, api, nullptr);
  std::printf("lab page: %s (lab %s; Ctrl-C stops)\n", server->url().c_str(), o.url.c_str());
  std::fflush(stdout);
  if (!o.url_file.empty()) config::write_file_atomically(o.url_file, server->url() + "\n");
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::fprintf(stderr, "rig lab serve: signal %d: stopping\n", signal_number);
  server->stop();
  return kExitOk;
}

CLI::App* add_lab_serve_command(CLI::App& lab, const std::shared_ptr<ServeOptions>& o, const std::string& url_help) {
  CLI::App* serve = lab.add_subcommand("serve", "Serve the lab page: every rig, every subject, each subject's learning (docs/lab.md)");
  serve->add_option("--url", o->url, url_help + "; a read-only role is enough (`rig lab add-reader`)")->required();
  serve->add_option("--port", o->port, "TCP port (0: any free port)")->capture_default_str();
  serve->add_option("--address", o->address, "Address to listen on (anything but loopback makes the page reachable from the network)")
      ->capture_default_str();
  serve->add_option("--host-name", o->host_names,
                    "A name the page is reached by (repeatable); requests naming any other host than an IP address or "
                    "localhost are refused (DNS rebinding)");
  serve->add_option("--subjects", o->subjects,
                    "Subjects YAML whose welfare rules (baseline, thresholds, water) judge the subjects it lists "
                    "(default: the lab's subjects rows and the default rules)");
  serve->add_option("--index-sessions", o->index_sessions, "Sessions each subject's indices pool on the overview")
      ->capture_default_str()->check(CLI::Range(1, lab::kMaxPooledSessions));
  serve->add_option("--offline-after", o->offline_after_s, "Seconds without a push after which a rig shows offline")
      ->capture_default_str()->check(CLI::Range(1, 86400));
  serve->add_option("--url-file", o->url_file, "Write the page's URL to this file once listening");
  serve->add_option("--web-root", o->web_root, "The page's files (default: the installed dashboard's lab/)");
  serve->add_flag("--quiet", o->quiet, "No progress lines while reading ahead");
  return serve;
}

}  // namespace rig::app
