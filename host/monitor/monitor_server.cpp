// Follows the Boost.Beast async server examples: each connection is a shared object whose handlers hold
// shared_from_this(); one read and at most one write in flight per connection; any error ends that
// connection only. Everything below runs on the server's own thread except MonitorServer's public calls,
// which hand their work to that thread.
#include "host/monitor/monitor_server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "host/monitor/static_files.hpp"

namespace rig::monitor {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::seconds kHttpReadTimeout{30};
constexpr std::size_t kWebSocketReadLimitBytes = 4096;
// How long accepting pauses after it failed (descriptors exhausted): long enough not to spin, short enough
// that the dashboard comes back soon after descriptors are free again.
constexpr std::chrono::milliseconds kAcceptPause{250};
// Rate buckets kept for at most this many client addresses; full buckets are forgotten first.
constexpr std::size_t kMaxTrackedClients = 4096;
// The dashboard's page loads its own files, connects its own WebSocket, and nothing else; uPlot sets styles
// from script, which 'unsafe-inline' for styles allows (scripts stay 'self' only).
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

std::string_view view(beast::string_view text) { return {text.data(), text.size()}; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Compares without an early exit, so the time taken does not tell how much of a token was right.
bool same_token(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// What every response carries: no caching of live data, no sniffing, no framing, no referrer, and the CSP.
template <class Fields>
void set_security_headers(Fields& res) {
  res.set(http::field::server, "rig-monitor");
  res.set(http::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "no-referrer");
  res.set("Content-Security-Policy", kContentSecurityPolicy);
}

// What a response needs of its request; kept instead of the request when the answer comes later.
struct RequestHead {
  unsigned version = 11;
  bool keep_alive = true;
};

RequestHead head_of(const Request& req) { return {req.version(), req.keep_alive()}; }

Response make_response(const RequestHead& req, http::status status, std::string body, std::string_view type) {
  Response res{status, req.version};
  set_security_headers(res);
  res.set(http::field::content_type, beast::string_view(type.data(), type.size()));
  res.keep_alive(req.keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response json_response(const RequestHead& req, unsigned status, const nlohmann::json& body) {
  return make_response(req, static_cast<http::status>(status), json_text(body), "application/json");
}

Response error_response(const RequestHead& req, unsigned status, const std::string& message) {
  return json_response(req, status, nlohmann::json{{"error", message}});
}

// A non-negative decimal integer (at most 18 digits), or nullopt.
std::optional<std::int64_t> parse_count(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

// The value of `name` in a query string ("a=1&b=2"), or nullopt.
std::optional<std::string_view> query_value(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

bool is_subject_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && id.find_first_not_of(kSubjectIdChars) == std::string_view::npos;
}

Response bad_subject_id(const RequestHead& head) {
  return error_response(head, 404, "no such subject: an id is 1 to 64 letters, digits, '_', '-' or '.'");
}

class TokenBucket {
 public:
  TokenBucket(double burst, Clock::time_point now) : tokens_(burst), last_(now) {}
  // Takes one token if there is one, after refilling at `rate` per second up to `burst`.
  bool take(Clock::time_point now, double rate, double burst) {
    refill(now, rate, burst);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }
  bool full(Clock::time_point now, double rate, double burst) const {
    const double elapsed_s = now > last_ ? std::chrono::duration<double>(now - last_).count() : 0.0;
    return tokens_ + elapsed_s * rate >= burst;
  }

 private:
  void refill(Clock::time_point now, double rate, double burst) {
    if (now > last_) tokens_ = std::min(burst, tokens_ + std::chrono::duration<double>(now - last_).count() * rate);
    last_ = now;
  }
  double tokens_;
  Clock::time_point last_;
};

class Connection {
 public:
  virtual ~Connection() = default;
  virtual void close() = 0;
};

}  // namespace

class WebSocketSession;

struct MonitorServer::Impl : std::enable_shared_from_this<MonitorServer::Impl> {
  Impl(ServerOptions server_options, ApiHandlers api, std::unique_ptr<StatusModel> model)
      : acceptor(io),
        accept_pause(io),
        options(std::move(server_options)),
        handlers(std::move(api)),
        status(std::move(model)),
        global_bucket(options.total_burst, now()) {
    std::error_code ec;
    if (!options.web_root.empty()) web_root = std::filesystem::canonical(options.web_root, ec);
    if (ec) web_root.clear();
  }

  Clock::time_point now() const { return options.clock ? options.clock() : Clock::now(); }
  void warn(const std::string& text) const {
    if (options.warn) options.warn(text);
  }

  // Runs `work` on the server's thread unless the server has stopped (then drops it). Any thread.
  template <class F>
  void post_if_open(F&& work) {
    const std::lock_guard lock(closing);
    if (closed) return;
    asio::post(io, std::forward<F>(work));
  }

  void do_accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
  void publish(const nlohmann::json& event);
  void stop_on_io();
  // The answer to `req`, or nullopt when it comes later through `reply`.

  std::optional<Response> handle(const Request& req, const Reply& reply);
  // A refusal of `req` from `client` before anything else: rate, Host, Origin. nullopt: go on.
  std::optional<Response> refuse(const Request& req, const std::string& client);
  std::optional<Response> refuse_without_token(const Request& req) const;
  std::optional<Response> api(const Request& req, std::string_view path, std::string_view query, const Reply& reply);
  // /api/subjects and /api/subjects/{id}[/weighings|/water], as api().
  std::optional<Response> subjects_api(const Request& req, std::string_view path, const Reply& reply);
  // /api/lab/overview and /api/lab/subjects/{id}, as api().
  std::optional<Response> lab_api(const Request& req, std::string_view path, std::string_view query, const Reply& reply);
  Response static_file(const Request& req) const;
  const std::string& status_text();

  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  tcp::acceptor acceptor;
  asio::steady_timer accept_pause;
  ServerOptions options;
  ApiHandlers handlers;
  std::unique_ptr<StatusModel> status;
  std::filesystem::path web_root;  // canonical; empty: no static files

  std::mutex closing;  // guards `closed` against posts from other threads
  bool closed = false;
  std::thread thread;

  // Server thread only from here on.
  bool stopped = false;
  std::vector<std::weak_ptr<Connection>> connections;
  std::vector<std::weak_ptr<WebSocketSession>> websockets;
  std::atomic<std::size_t> open_websockets{0};
  std::optional<std::string> status_cache;  // json_text(status->document()) until the next event
  TokenBucket global_bucket;
  std::map<std::string, TokenBucket> client_buckets;
  bool accept_failing = false, at_connection_cap = false, rate_limited = false;
};

namespace {

using Impl = MonitorServer::Impl;

}  // namespace

// One WebSocket client: reads (and ignores) what the client sends, writes queued messages one at a time.
class WebSocketSession : public Connection, public std::enable_shared_from_this<WebSocketSession> {
 public:
  WebSocketSession(tcp::socket&& socket, std::shared_ptr<Impl> server)
      : ws_(std::move(socket)), server_(std::move(server)), max_queued_(std::max<std::size_t>(1, server_->options.max_queued_messages)) {}

  void run(Request req) {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) { set_security_headers(res); }));
    ws_.read_message_max(kWebSocketReadLimitBytes);
    ws_.async_accept(req, beast::bind_front_handler(&WebSocketSession::on_accept, shared_from_this()));
  }

  // Queues a message; when more than max_queued_ wait, the oldest waiting ones are dropped.
  void send(std::shared_ptr<const std::string> message) {
    if (!open_) return;
    queue_.push_back(std::move(message));
    while (queue_.size() > max_queued_) queue_.pop_front();
    if (!in_flight_) write_next();
  }

  void close() override {
    mark_closed();
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(ws_).close();
  }

 private:
  void on_accept(beast::error_code ec) {
    if (ec || server_->stopped) return;
    open_ = true;
    ++server_->open_websockets;
    send(std::make_shared<const std::string>(server_->status_text()));
    do_read();
  }

  void mark_closed() {
    if (open_) --server_->open_websockets;
    open_ = false;
    queue_.clear();
  }

  void do_read() {
    ws_.async_read(read_buffer_, beast::bind_front_handler(&WebSocketSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t bytes) {
    if (ec) {  // closed by the client, or an error: this connection ends
      mark_closed();
      return;
    }
    read_buffer_.consume(bytes);
    do_read();
  }

  void write_next() {
    in_flight_ = std::move(queue_.front());
    queue_.pop_front();
    ws_.text(true);
    ws_.async_write(asio::buffer(*in_flight_), beast::bind_front_handler(&WebSocketSession::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    in_flight_.reset();
    if (ec) {
      close();
      return;
    }
    if (open_ && !queue_.empty()) write_next();
  }

  websocket::stream<beast::tcp_stream> ws_;
  std::shared_ptr<Impl> server_;
  std::size_t max_queued_;
  beast::flat_buffer read_buffer_;
  std::deque<std::shared_ptr<const std::string>> queue_;  // waiting, not yet being written
  std::shared_ptr<const std::string> in_flight_;          // being written (kept alive until the write ends)
  bool open_ = false;
};

namespace {

// One HTTP connection: reads a request, answers it, repeats while keep-alive; hands WebSocket upgrades on /ws
// to a WebSocketSession.
class HttpSession : public Connection, public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket&& socket, std::shared_ptr<Impl> server) : stream_(std::move(socket)), server_(std::move(server)) {
    beast::error_code ec;
    const auto peer = stream_.socket().remote_endpoint(ec);
    client_ = ec ? std::string("?") : peer.address().to_string();
  }

  void run() { do_read(); }

  void close() override {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  // Writes `res` (one write in flight: the connection reads nothing while an answer is pending).
  void write(Response res) {
    if (server_->stopped) return;
    response_ = std::make_unique<Response>(std::move(res));
    stream_.expires_after(kHttpReadTimeout);
    http::async_write(stream_, *response_,
                      beast::bind_front_handler(&HttpSession::on_write, shared_from_this(), response_->need_eof()));
  }

 private:
  void do_read() {
    parser_.emplace();
    parser_->body_limit(server_->options.max_request_body_bytes);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(kHttpReadTimeout);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    if (ec || server_->stopped) return;
    Request req = parser_->release();
    if (auto refused = server_->refuse(req, client_)) return write(std::move(*refused));
    if (websocket::is_upgrade(req)) {
      const std::string_view target = view(req.target());
      if (target.substr(0, target.find('?')) == "/ws") {
        stream_.expires_never();
        auto ws = std::make_shared<WebSocketSession>(stream_.release_socket(), server_);
        server_->connections.push_back(ws);
        server_->websockets.push_back(ws);
        ws->run(std::move(req));
        return;
      }
      return write(error_response(head_of(req), 404, "no WebSocket here; use /ws"));
    }
    // The answer may come later, from any thread: it is handed back to this thread, once.
    auto answered = std::make_shared<std::atomic<bool>>(false);
    Reply reply = [server = server_, self = shared_from_this(), head = head_of(req), answered](ApiReply r) {
      if (answered->exchange(true)) return;
      server->post_if_open([self, head, r = std::move(r)] { self->write(json_response(head, r.status, r.body)); });
    };
    auto answer = server_->handle(req, reply);
    if (answer && !answered->exchange(true)) write(std::move(*answer));
  }

  void on_write(bool close_after, beast::error_code ec, std::size_t) {
    response_.reset();
    if (ec) return;
    if (close_after) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    do_read();
  }

  beast::tcp_stream stream_;
  std::shared_ptr<Impl> server_;
  std::string client_;  // the peer's address: the rate limit's key
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::unique_ptr<Response> response_;
};

}  // namespace

void Impl::do_accept() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    self->on_accept(ec, std::move(socket));
  });
}

void Impl::on_accept(beast::error_code ec, tcp::socket socket) {
  if (stopped || ec == asio::error::operation_aborted) return;
  if (ec) {
    // Out of descriptors (EMFILE/ENFILE) or another failure: accepting again at once would fail again at
    // once and spin a core. Pause, say so once, and try again.
    if (!accept_failing) warn("cannot accept connections (" + ec.message() + "); pausing, will retry");
    accept_failing = true;
    accept_pause.expires_after(kAcceptPause);
    accept_pause.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
      if (!wait_ec && !self->stopped) self->do_accept();
    });
    return;
  }
  if (accept_failing) warn("accepting connections again");
  accept_failing = false;
  std::erase_if(connections, [](const auto& c) { return c.expired(); });
  if (connections.size() >= options.max_connections) {
    if (!at_connection_cap) {
      warn("refusing connections: " + std::to_string(connections.size()) + " are open (the limit)");
    }
    at_connection_cap = true;
    beast::error_code ignored;
    socket.close(ignored);
  } else {
    at_connection_cap = false;
    auto session = std::make_shared<HttpSession>(std::move(socket), shared_from_this());
    connections.push_back(session);
    session->run();
  }
  do_accept();
}

void Impl::publish(const nlohmann::json& event) {
  if (stopped) return;
  std::optional<nlohmann::json> replacement;
  try {
    if (status) replacement = status->apply(event);
  } catch (const std::exception& e) {
    // A malformed event must not end the server's thread (and the process with it).
    warn(std::string("the status could not take an event: ") + e.what());
  }
  status_cache.reset();
  std::erase_if(websockets, [](const auto& w) { return w.expired(); });
  if (websockets.empty()) return;
  const auto message = std::make_shared<const std::string>(json_text(replacement ? *replacement : event));
  for (const auto& w : websockets) {
    if (const auto ws = w.lock()) ws->send(message);
  }
}

void Impl::stop_on_io() {
  if (stopped) return;
  stopped = true;
  beast::error_code ec;
  acceptor.close(ec);
  accept_pause.cancel();
  for (const auto& c : connections) {
    if (const auto connection = c.lock()) connection->close();
  }
  connections.clear();
  websockets.clear();
}

const std::string& Impl::status_text() {
  if (!status_cache) status_cache = json_text(status ? status->document() : nlohmann::json::object());
  return *status_cache;
}

std::optional<Response> Impl::refuse(const Request& req, const std::string& client) {
  const RequestHead head = head_of(req);
  const auto at = now();
  auto bucket = client_buckets.find(client);
  if (bucket == client_buckets.end()) {
    if (client_buckets.size() >= kMaxTrackedClients) {
      std::erase_if(client_buckets, [&](auto& entry) {
        return entry.second.full(at, options.client_requests_per_s, options.client_burst);
      });
    }
    bucket = client_buckets.emplace(client, TokenBucket(options.client_burst, at)).first;
  }
  const bool client_ok = bucket->second.take(at, options.client_requests_per_s, options.client_burst);
  if (!client_ok || !global_bucket.take(at, options.total_requests_per_s, options.total_burst)) {
    if (!rate_limited) warn("too many requests" + std::string(client_ok ? "" : " from " + client) + "; answering 429");
    rate_limited = true;
    Response res = error_response(head, 429, "too many requests; slow down");
    res.set(http::field::retry_after, "1");
    return res;
  }
  rate_limited = false;

  const auto host = req.find(http::field::host);
  if (host == req.end()) return error_response(head, 400, "the request has no Host header");
  if (!is_allowed_host(view(host->value()), options.host_names)) {
    return error_response(head, 421,
                          "Host \"" + std::string(view(host->value())) +
                              "\" is not a name of this rig; rigd accepts IP addresses, localhost and the names "
                              "given with --host-name");
  }
  // A page from another site may not open the WebSocket or control the rig (cross-site WebSocket hijacking,
  // request forgery). Clients that are not browsers send no Origin.
  const bool needs_same_origin = websocket::is_upgrade(req) || req.method() != http::verb::get;
  const auto origin = req.find(http::field::origin);
  if (needs_same_origin && origin != req.end()) {
    const std::string_view value = view(origin->value());
    const auto scheme_end = value.find("://");
    const std::string_view origin_host = scheme_end == std::string_view::npos ? std::string_view{} : value.substr(scheme_end + 3);
    if (origin_host.empty() || !iequals(origin_host, view(host->value()))) {
      return error_response(head, 403, "cross-origin request refused (Origin " + std::string(value) + ")");
    }
  }
  return std::nullopt;
}

std::optional<Response> Impl::refuse_without_token(const Request& req) const {
  const auto it = req.find(http::field::authorization);
  constexpr std::string_view kScheme = "Bearer ";
  const RequestHead head = head_of(req);
  if (it == req.end() || !view(it->value()).starts_with(kScheme)) {
    Response res = error_response(head, 401, "starting and stopping sessions needs 'Authorization: Bearer <token>'");
    res.set(http::field::www_authenticate, "Bearer");
    return res;
  }
  if (options.token.empty()) return error_response(head, 403, "control is disabled: no token is configured");
  if (!same_token(view(it->value()).substr(kScheme.size()), options.token)) {
    return error_response(head, 403, "wrong token");
  }
  return std::nullopt;
}

Response Impl::static_file(const Request& req) const {
  const RequestHead head = head_of(req);
  if (req.method() != http::verb::get) return error_response(head, 405, "only GET here");
  const auto not_found = [&] { return make_response(head, http::status::not_found, "not found\n", "text/plain; charset=utf-8"); };
  const auto file = web_root.empty() ? std::nullopt : resolve_static_path(web_root, view(req.target()));
  if (!file) return not_found();
  const std::string relative = file->lexically_relative(web_root).generic_string();
  if (std::find(options.web_files.begin(), options.web_files.end(), relative) == options.web_files.end()) {
    return not_found();
  }
  std::ifstream in(*file, std::ios::binary);
  std::ostringstream contents;
  contents << in.rdbuf();
  if (!in) return not_found();
  return make_response(head, http::status::ok, std::move(contents).str(), content_type_for(*file));
}

std::optional<Response> Impl::handle(const Request& req, const Reply& reply) {
  const std::string_view target = view(req.target());
  const auto question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query = question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
  if (path == "/ws") return error_response(head_of(req), 426, "/ws is a WebSocket");
  if (!path.starts_with("/api/")) return static_file(req);
  try {
    return api(req, path, query, reply);
  } catch (const std::exception& e) {
    return error_response(head_of(req), 500, e.what());
  }
}

std::optional<Response> Impl::api(const Request& req, std::string_view path, std::string_view query, const Reply& reply) {
  const RequestHead head = head_of(req);
  const auto unavailable = [&] { return error_response(head, 503, "not available on this server"); };
  if (path == "/api/status") {
    if (req.method() != http::verb::get) return error_response(head, 405, "use GET");
    return make_response(head, http::status::ok, status_text(), "application/json");
  }
  if (path == "/api/sessions") {
    if (req.method() == http::verb::get) {
      if (!handlers.sessions) return unavailable();
      handlers.sessions(reply);
      return std::nullopt;
    }
    if (req.method() != http::verb::post) return error_response(head, 405, "use GET or POST");
    if (auto refused = refuse_without_token(req)) return refused;
    if (!handlers.start) return unavailable();
    nlohmann::json body = nlohmann::json::object();
    if (!req.body().empty()) {
      body = nlohmann::json::parse(req.body(), nullptr, false);
      if (body.is_discarded() || !body.is_object()) return error_response(head, 400, "the body must be a JSON object");
    }
    handlers.start(body, reply);
    return std::nullopt;
  }
  if (path == "/api/subjects" || path.starts_with("/api/subjects/")) return subjects_api(req, path, reply);
  if (path.starts_with("/api/lab/")) return lab_api(req, path, query, reply);
  if (path == "/api/sessions/current/stop") {
    if (req.method() != http::verb::post) return error_response(head, 405, "use POST");
    if (auto refused = refuse_without_token(req)) return refused;
    if (!handlers.stop) return unavailable();
    handlers.stop(reply);
    return std::nullopt;
  }
  constexpr std::string_view kSessions = "/api/sessions/", kTrials = "/trials";
  if (path.starts_with(kSessions) && path.ends_with(kTrials) && path.size() > kSessions.size() + kTrials.size()) {
    if (req.method() != http::verb::get) return error_response(head, 405, "use GET");
    const auto id = parse_count(path.substr(kSessions.size(), path.size() - kSessions.size() - kTrials.size()));
    if (!id || *id == 0) return error_response(head, 404, "no such session: the id must be a positive integer");
    const auto after_text = query_value(query, "after");
    const auto limit_text = query_value(query, "limit");
    const auto after = after_text ? parse_count(*after_text) : std::optional<std::int64_t>(0);
    const auto limit = limit_text ? parse_count(*limit_text) : std::optional<std::int64_t>(kMaxTrialPage);
    if (!after) return error_response(head, 400, "after: expected a trial number (a whole number >= 0)");
    if (!limit || *limit < 1 || *limit > kMaxTrialPage) {
      return error_response(head, 400, "limit: expected a whole number from 1 to " + std::to_string(kMaxTrialPage));
    }
    if (!handlers.session_trials) return unavailable();
    handlers.session_trials(*id, *after, *limit, reply);
    return std::nullopt;
  }
  return error_response(head, 404, "no such API endpoint");
}

std::optional<Response> Impl::subjects_api(const Request& req, std::string_view path, const Reply& reply) {
  const RequestHead head = head_of(req);
  constexpr std::string_view kSubjects = "/api/subjects";
  const auto unavailable = [&] { return error_response(head, 503, "not available on this server"); };
  if (path == kSubjects) {
    if (req.method() != http::verb::get) return error_response(head, 405, "use GET");
    if (!handlers.subjects) return unavailable();
    handlers.subjects(reply);
    return std::nullopt;
  }
  std::string_view rest = path.substr(kSubjects.size() + 1);
  const auto slash = rest.find('/');
  const std::string_view id = rest.substr(0, slash);
  const std::string_view record = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  if (!is_subject_id(id)) return bad_subject_id(head);
  if (record.empty()) {
    if (req.method() != http::verb::get) return error_response(head, 405, "use GET");
    if (!handlers.subject) return unavailable();
    handlers.subject(std::string(id), reply);
    return std::nullopt;
  }
  if (record != "weighings" && record != "water") return error_response(head, 404, "no such API endpoint");
  if (req.method() != http::verb::post) return error_response(head, 405, "use POST");
  if (auto refused = refuse_without_token(req)) return refused;
  if (!handlers.record_welfare) return unavailable();
  const auto body = nlohmann::json::parse(req.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object()) return error_response(head, 400, "the body must be a JSON object");
  handlers.record_welfare(std::string(id), std::string(record), body, reply);
  return std::nullopt;
}

std::optional<Response> Impl::lab_api(const Request& req, std::string_view path, std::string_view query, const Reply& reply) {
  const RequestHead head = head_of(req);
  constexpr std::string_view kSubjects = "/api/lab/subjects/";
  const auto unavailable = [&] { return error_response(head, 503, "not available on this server"); };
  if (path != "/api/lab/overview" && !path.starts_with(kSubjects)) return error_response(head, 404, "no such API endpoint");
  if (req.method() != http::verb::get) return error_response(head, 405, "use GET");
  if (path == "/api/lab/overview") {
    if (!handlers.lab_overview) return unavailable();
    handlers.lab_overview(reply);
    return std::nullopt;
  }
  const std::string_view id = path.substr(kSubjects.size());
  if (!is_subject_id(id)) return bad_subject_id(head);
  std::optional<std::int64_t> sessions;
  if (const auto text = query_value(query, "sessions")) {
    sessions = parse_count(*text);
    if (!sessions) return error_response(head, 400, "sessions: expected a whole number of sessions");
  }
  if (!handlers.lab_subject) return unavailable();
  handlers.lab_subject(std::string(id), sessions, reply);
  return std::nullopt;
}

std::string json_text(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string read_token_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read the token file " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  const auto first = token.find_first_not_of(" \t\r\n");
  const auto last = token.find_last_not_of(" \t\r\n");
  if (first == std::string::npos) throw std::runtime_error("the token file " + path.string() + " is empty");
  return token.substr(first, last - first + 1);
}

bool is_allowed_host(std::string_view host, const std::vector<std::string>& names) {
  if (host.empty()) return false;
  std::string_view name = host;
  if (host.front() == '[') {  // [IPv6] or [IPv6]:port
    const auto close = host.find(']');
    if (close == std::string_view::npos) return false;
    const std::string_view rest = host.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !parse_count(rest.substr(1)))) return false;
    beast::error_code ec;
    asio::ip::make_address_v6(std::string(host.substr(1, close - 1)), ec);
    return !ec;
  }
  if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
    if (!parse_count(host.substr(colon + 1))) return false;
    name = host.substr(0, colon);
  }
  beast::error_code ec;
  asio::ip::make_address_v4(std::string(name), ec);
  if (!ec) return true;
  if (iequals(name, "localhost")) return true;
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return iequals(name, n); });
}

std::unique_ptr<MonitorServer> MonitorServer::start(ServerOptions options, ApiHandlers handlers,
                                                    std::unique_ptr<StatusModel> status) {
  std::unique_ptr<MonitorServer> server(new MonitorServer());
  const std::string where = options.address + ":" + std::to_string(options.port);
  beast::error_code ec;
  const auto address = asio::ip::make_address(options.address, ec);
  if (ec) throw std::runtime_error("cannot listen on " + where + ": not an IP address");
  server->impl_ = std::make_shared<Impl>(std::move(options), std::move(handlers), std::move(status));
  auto& acceptor = server->impl_->acceptor;
  const tcp::endpoint endpoint(address, server->impl_->options.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot listen on " + where + ": " + ec.message());
  server->port_ = acceptor.local_endpoint().port();
  server->address_ = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  server->impl_->do_accept();
  server->impl_->thread = std::thread([impl = server->impl_.get()] { impl->io.run(); });
  return server;
}

MonitorServer::~MonitorServer() { stop(); }

std::string MonitorServer::url() const { return "http://" + address_ + ":" + std::to_string(port_) + "/"; }

void MonitorServer::publish(nlohmann::json event) {
  impl_->post_if_open([impl = impl_, event = std::move(event)] { impl->publish(event); });
}

void MonitorServer::stop() {
  if (!impl_) return;
  {
    const std::lock_guard lock(impl_->closing);
    if (!impl_->closed) {
      asio::post(impl_->io, [impl = impl_] { impl->stop_on_io(); });
      impl_->closed = true;
    }
  }
  impl_->work.reset();
  if (impl_->thread.joinable()) impl_->thread.join();
  // Whatever the closed connections left queued runs now (each sees `stopped`), so nothing is left holding
  // the server alive from its own queue.
  impl_->io.restart();
  while (impl_->io.poll() > 0) {
  }
}

std::size_t MonitorServer::websocket_clients() const { return impl_->open_websockets.load(); }

}  // namespace rig::monitor
