// The dashboard's server: a small HTTP API, a WebSocket that pushes JSON events, and the dashboard's static
// files, all on the caller's io_context (the session's thread). It knows nothing of sessions: the app gives it
// callbacks for the API and publishes JSON text. A slow or stuck client never slows the caller: each
// WebSocket keeps at most `max_queued_messages` messages, dropping the oldest not yet being written.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace rig::monitor {

// An API answer: HTTP status and a JSON body.
struct ApiReply {
  unsigned status = 200;
  nlohmann::json body = nlohmann::json::object();
};

// What the API does. Each runs on the io_context thread and must not block; an exception becomes a 500
// with its message. A missing callback answers 503 ("not available here").
struct ApiHandlers {
  std::function<nlohmann::json()> status;                        // GET /api/status
  std::function<ApiReply()> sessions;                            // GET /api/sessions
  // POST /api/sessions (token required). Calls `reply` exactly once on the io thread, possibly later (the
  // handler may prepare the session elsewhere and post back); the connection waits for it.
  std::function<void(const nlohmann::json& request, std::function<void(ApiReply)> reply)> start;
  std::function<ApiReply()> stop;                                // POST /api/sessions/current/stop (token)
  // The first message each new WebSocket client gets (the current state); empty = none.
  std::function<std::string()> websocket_hello;
};

struct ServerOptions {
  std::string address = "127.0.0.1";  // listen address; anything but loopback only when configured
  uint16_t port = 8765;               // 0: any free port (see MonitorServer::port())
  std::filesystem::path web_root;     // the dashboard's files; empty: no static files (404)
  std::string token;                  // control token; empty: control is refused (403)
  std::size_t max_queued_messages = 16;          // per WebSocket client, messages not yet sent
  std::size_t max_request_body_bytes = 64 * 1024;
};

// `value` as compact JSON text, invalid UTF-8 in its strings replaced (U+FFFD) rather than thrown on: what
// the server sends and what publishers hand to publish(). Pure; thread-safe.
std::string json_text(const nlohmann::json& value);

// The control token kept in `path` (surrounding whitespace removed). Reads the file; thread-safe. Throws
// std::runtime_error naming the file when it cannot be read or holds no token.
std::string read_token_file(const std::filesystem::path& path);

class MonitorServer : public std::enable_shared_from_this<MonitorServer> {
 public:
  // Binds and starts accepting. Call on (or before running) the io_context's thread. Throws
  // std::runtime_error naming the address when it cannot bind (in use, bad address).
  static std::shared_ptr<MonitorServer> start(boost::asio::io_context& io, ServerOptions options,
                                              ApiHandlers handlers);
  ~MonitorServer();

  // The bound port (the chosen one when options.port was 0). Thread-safe after start().
  uint16_t port() const { return port_; }
  // "http://ADDRESS:PORT/". Thread-safe after start().
  std::string url() const;

  // Sends `text` to every WebSocket client (queued; never waits). io_context thread only; no errors (a
  // client whose write fails is closed).
  void publish(std::string text);

  // Stops accepting and closes every connection; pending handlers then finish with errors. Idempotent.
  // io_context thread only.
  void stop();

  // Open WebSocket clients. io_context thread only.
  std::size_t websocket_clients();

  // Implementation types (public so the connection classes in the .cpp can name them).
  struct Impl;

 private:
  MonitorServer() = default;
  std::shared_ptr<Impl> impl_;
  uint16_t port_ = 0;
  std::string address_;
};

}  // namespace rig::monitor
