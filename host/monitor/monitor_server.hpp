// The dashboard's server: a small HTTP API, a WebSocket that pushes JSON events, and the dashboard's static
// files, on a thread of its own, so that no client (a hundred pollers, two hundred WebSockets, a slow or
// hostile one) ever takes time from the session's thread (DESIGN decision 6). It knows nothing of sessions:
// the app publishes JSON events, which a StatusModel folds into the status document, and answers the API
// through callbacks. A slow or stuck client never slows anyone: each WebSocket keeps at most
// `max_queued_messages` messages, dropping the oldest not yet being written.
//
// The server defends itself: per-client and global request rates, a cap on open connections, a pause in
// accepting while descriptors run out, Host and Origin checks against DNS rebinding and cross-site use,
// security headers, and only the dashboard's own files.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rig::monitor {

// An API answer: HTTP status and a JSON body.
struct ApiReply {
  unsigned status = 200;
  nlohmann::json body = nlohmann::json::object();
};

// Answers one request. Call exactly once, from any thread (the answer is handed to the server's thread); a
// reply after the server stopped is dropped.
using Reply = std::function<void(ApiReply)>;

// Folds published events into the status document (GET /api/status, the first message of each WebSocket).
// Called on the server's thread only.
class StatusModel {
 public:
  virtual ~StatusModel() = default;
  // Applies `event`. Returns what WebSocket clients get for it: nullopt for the event itself, or a
  // replacement (for instance the whole status after a change that no event type expresses).
  virtual std::optional<nlohmann::json> apply(const nlohmann::json& event) = 0;
  // The status document now. Its size must be bounded whatever the session's length.
  virtual nlohmann::json document() const = 0;
};

// What the API does. Each is called on the server's thread, must not block (post the work elsewhere) and
// answers through its Reply. An exception it throws becomes a 500 with its message; a missing one answers
// 503 ("not available on this server").
struct ApiHandlers {
  std::function<void(Reply)> sessions;  // GET /api/sessions
  // GET /api/sessions/{id}/trials?after=N&limit=M: trials numbered above N (default 0), at most M (default
  // and maximum kMaxTrialPage).
  std::function<void(std::int64_t session_id, std::int64_t after_trial, std::int64_t limit, Reply)> session_trials;
  std::function<void(const nlohmann::json& request, Reply)> start;  // POST /api/sessions (token required)
  std::function<void(Reply)> stop;                                  // POST /api/sessions/current/stop (token)
  // The animal's record: GET /api/subjects (every subject's day), GET /api/subjects/{id} (one), and POST
  // /api/subjects/{id}/weighings or /api/subjects/{id}/water (token; `record` is "weighings" or "water", `body`
  // the request's JSON object). `subject` is the id from the path, checked to be kSubjectIdChars only.
  std::function<void(Reply)> subjects;
  std::function<void(const std::string& subject, Reply)> subject;
  std::function<void(const std::string& subject, const std::string& record, const nlohmann::json& body, Reply)>
      record_welfare;
  // The lab page (`rig lab serve`, docs/lab.md): GET /api/lab/overview, and GET /api/lab/subjects/{id}?sessions=N
  // (`sessions` nullopt when the query has none; its range is the handler's to check).
  std::function<void(Reply)> lab_overview;
  std::function<void(const std::string& subject, std::optional<std::int64_t> sessions, Reply)> lab_subject;
};

// The characters a subject id may have in an API path.
inline constexpr std::string_view kSubjectIdChars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.";

inline constexpr std::int64_t kMaxTrialPage = 500;

// The dashboard's files, relative to its directory: nothing else under it is served (no package manifests).
inline const std::vector<std::string> kDashboardFiles = {
    "index.html", "app.js", "style.css", "node_modules/uplot/dist/uPlot.min.css",
    "node_modules/uplot/dist/uPlot.iife.min.js"};
// The lab page's files, relative to its directory (the dashboard's `lab/`).
inline const std::vector<std::string> kLabPageFiles = {"index.html", "lab.js", "lab.css"};

struct ServerOptions {
  std::string address = "127.0.0.1";  // listen address; anything but loopback only when configured
  uint16_t port = 8765;               // 0: any free port (see MonitorServer::port())
  std::filesystem::path web_root;     // the dashboard's files; empty: no static files (404)
  std::vector<std::string> web_files = kDashboardFiles;  // the only files served from web_root
  std::string token;                  // control token; empty: control is refused (403)
  // Host names (besides "localhost" and IP literals) that requests may name in Host, and pages in Origin.
  // A name the operator did not give here could be an attacker's DNS name rebound to this rig.
  std::vector<std::string> host_names;
  std::size_t max_queued_messages = 16;  // per WebSocket client, messages not yet sent
  std::size_t max_request_body_bytes = 64 * 1024;
  std::size_t max_connections = 512;     // open HTTP and WebSocket connections; more are closed at once
  // Request rates (token buckets): per client address, and over all clients. Over either: 429.
  double client_requests_per_s = 50.0;
  double client_burst = 100.0;
  double total_requests_per_s = 1000.0;
  double total_burst = 2000.0;
  // Warnings worth an operator's attention (descriptors exhausted, connection cap reached), once per
  // episode, on the server's thread. Empty: none.
  std::function<void(const std::string&)> warn;
  // The clock of the rate limits; empty: std::chrono::steady_clock. Tests give a clock that stands still.
  std::function<std::chrono::steady_clock::time_point()> clock;
};

// `value` as compact JSON text, invalid UTF-8 in its strings replaced (U+FFFD) rather than thrown on. Pure;
// thread-safe.
std::string json_text(const nlohmann::json& value);

// The control token kept in `path` (surrounding whitespace removed). Reads the file; thread-safe. Throws
// std::runtime_error naming the file when it cannot be read or holds no token.
std::string read_token_file(const std::filesystem::path& path);

// True when `host` (a Host header's value, or the host[:port] of an Origin) names this server: an IP literal
// (with or without a port), "localhost", or one of `names` (case-insensitive). Pure; thread-safe.
bool is_allowed_host(std::string_view host, const std::vector<std::string>& names);

class MonitorServer {
 public:
  // Binds, then serves on a thread of its own until stop(). `status` folds published events (it is used on
  // the server's thread only). Any thread. Throws std::runtime_error naming the address when it cannot bind.
  static std::unique_ptr<MonitorServer> start(ServerOptions options, ApiHandlers handlers,
                                              std::unique_ptr<StatusModel> status);
  // stop().
  ~MonitorServer();
  MonitorServer(const MonitorServer&) = delete;
  MonitorServer& operator=(const MonitorServer&) = delete;

  // The bound port (the chosen one when options.port was 0). Thread-safe.
  uint16_t port() const { return port_; }
  // "http://ADDRESS:PORT/". Thread-safe.
  std::string url() const;

  // Folds `event` into the status and sends it (or the model's replacement) to every WebSocket client.
  // Thread-safe and never waits: the event moves to the server's thread, which serializes it once for all
  // clients. Dropped after stop().
  void publish(nlohmann::json event);

  // Stops accepting, closes every connection and joins the server's thread; replies still to come are
  // dropped. Idempotent. Any thread but the server's own (not from a handler).
  void stop();

  // Open WebSocket clients. Thread-safe.
  std::size_t websocket_clients() const;

  // Implementation types (public so the connection classes in the .cpp can name them).
  struct Impl;

 private:
  MonitorServer() = default;
  std::shared_ptr<Impl> impl_;
  uint16_t port_ = 0;
  std::string address_;
};

}  // namespace rig::monitor
