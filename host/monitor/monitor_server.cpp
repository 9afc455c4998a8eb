// Follows the Boost.Beast async server examples: each connection is a shared object whose handlers hold
// shared_from_this(); one read and at most one write in flight per connection; any error ends that
// connection only.
#include "host/monitor/monitor_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <vector>

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

constexpr std::chrono::seconds kHttpReadTimeout{30};
constexpr std::size_t kWebSocketReadLimitBytes = 4096;

std::string_view view(beast::string_view text) { return {text.data(), text.size()}; }

// Compares without an early exit, so the time taken does not tell how much of a token was right.
bool same_token(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

Response make_response(const Request& req, http::status status, std::string body, std::string_view type) {
  Response res{status, req.version()};
  res.set(http::field::server, "rig-monitor");
  res.set(http::field::content_type, beast::string_view(type.data(), type.size()));
  res.set(http::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response json_response(const Request& req, unsigned status, const nlohmann::json& body) {
  return make_response(req, static_cast<http::status>(status), json_text(body), "application/json");
}

Response error_response(const Request& req, unsigned status, const std::string& message) {
  return json_response(req, status, nlohmann::json{{"error", message}});
}

class Connection {
 public:
  virtual ~Connection() = default;
  virtual void close() = 0;
};

}  // namespace

class WebSocketSession;

struct MonitorServer::Impl : std::enable_shared_from_this<MonitorServer::Impl> {
  Impl(asio::io_context& io_context, ServerOptions server_options, ApiHandlers api)
      : io(io_context), acceptor(io_context), options(std::move(server_options)), handlers(std::move(api)) {}

  void do_accept();
  void track(const std::shared_ptr<Connection>& connection);
  void publish(std::string text);
  void stop();
  // The answer to `req`, or nullopt when it comes later through `later` (io thread, exactly once).
  std::optional<Response> handle(const Request& req, const std::function<void(Response)>& later);
  std::optional<Response> refuse_without_token(const Request& req) const;
  Response static_file(const Request& req) const;

  asio::io_context& io;
  tcp::acceptor acceptor;
  ServerOptions options;
  ApiHandlers handlers;
  bool stopped = false;
  std::vector<std::weak_ptr<Connection>> connections;
  std::vector<std::weak_ptr<WebSocketSession>> websockets;
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
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "rig-monitor"); }));
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

  bool open() const { return open_; }

  void close() override {
    open_ = false;
    queue_.clear();
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(ws_).close();
  }

 private:
  void on_accept(beast::error_code ec) {
    if (ec || server_->stopped) return;
    open_ = true;
    if (server_->handlers.websocket_hello) {
      try {
        std::string hello = server_->handlers.websocket_hello();
        if (!hello.empty()) send(std::make_shared<const std::string>(std::move(hello)));
      } catch (const std::exception&) {
        // The state could not be read now; events follow anyway.
      }
    }
    do_read();
  }

  void do_read() {
    ws_.async_read(read_buffer_, beast::bind_front_handler(&WebSocketSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t bytes) {
    if (ec) {  // closed by the client, or an error: this connection ends
      open_ = false;
      queue_.clear();
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
  HttpSession(tcp::socket&& socket, std::shared_ptr<Impl> server) : stream_(std::move(socket)), server_(std::move(server)) {}

  void run() { do_read(); }

  void close() override {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
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
    if (websocket::is_upgrade(req)) {
      const std::string_view target = view(req.target());
      if (target.substr(0, target.find('?')) == "/ws") {
        stream_.expires_never();
        auto ws = std::make_shared<WebSocketSession>(stream_.release_socket(), server_);
        server_->track(ws);
        server_->websockets.push_back(ws);
        ws->run(std::move(req));
        return;
      }
      write(error_response(req, 404, "no WebSocket here; use /ws"));
      return;
    }
    auto answer = server_->handle(req, [self = shared_from_this()](Response res) { self->write(std::move(res)); });
    if (answer) write(std::move(*answer));
  }

  void write(Response res) {
    response_ = std::make_unique<Response>(std::move(res));
    stream_.expires_after(kHttpReadTimeout);
    http::async_write(stream_, *response_,
                      beast::bind_front_handler(&HttpSession::on_write, shared_from_this(), response_->need_eof()));
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
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::unique_ptr<Response> response_;
};

}  // namespace

void Impl::do_accept() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (self->stopped) return;
    if (!ec) {
      auto session = std::make_shared<HttpSession>(std::move(socket), self);
      self->track(session);
      session->run();
    } else if (ec == asio::error::operation_aborted) {
      return;
    }
    self->do_accept();
  });
}

void Impl::track(const std::shared_ptr<Connection>& connection) {
  std::erase_if(connections, [](const auto& c) { return c.expired(); });
  connections.push_back(connection);
}

void Impl::publish(std::string text) {
  std::erase_if(websockets, [](const auto& w) {
    const auto ws = w.lock();
    return !ws;
  });
  if (websockets.empty()) return;
  const auto message = std::make_shared<const std::string>(std::move(text));
  for (const auto& w : websockets) {
    if (const auto ws = w.lock()) ws->send(message);
  }
}

void Impl::stop() {
  if (stopped) return;
  stopped = true;
  beast::error_code ec;
  acceptor.close(ec);
  for (const auto& c : connections) {
    if (const auto connection = c.lock()) connection->close();
  }
  connections.clear();
  websockets.clear();
}

std::optional<Response> Impl::refuse_without_token(const Request& req) const {
  const auto it = req.find(http::field::authorization);
  constexpr std::string_view kScheme = "Bearer ";
  if (it == req.end() || !view(it->value()).starts_with(kScheme)) {
    Response res = error_response(req, 401, "starting and stopping sessions needs 'Authorization: Bearer <token>'");
    res.set(http::field::www_authenticate, "Bearer");
    return res;
  }
  if (options.token.empty()) return error_response(req, 403, "control is disabled: no token is configured");
  if (!same_token(view(it->value()).substr(kScheme.size()), options.token)) {
    return error_response(req, 403, "wrong token");
  }
  return std::nullopt;
}

Response Impl::static_file(const Request& req) const {
  if (req.method() != http::verb::get) return error_response(req, 405, "only GET here");
  const auto file = options.web_root.empty() ? std::nullopt : resolve_static_path(options.web_root, view(req.target()));
  if (!file) return make_response(req, http::status::not_found, "not found\n", "text/plain; charset=utf-8");
  std::ifstream in(*file, std::ios::binary);
  std::ostringstream contents;
  contents << in.rdbuf();
  if (!in) return make_response(req, http::status::not_found, "not found\n", "text/plain; charset=utf-8");
  return make_response(req, http::status::ok, std::move(contents).str(), content_type_for(*file));
}

std::optional<Response> Impl::handle(const Request& req, const std::function<void(Response)>& later) {
  const std::string_view target = view(req.target());
  const std::string_view path = target.substr(0, target.find('?'));
  if (path == "/ws") return error_response(req, 426, "/ws is a WebSocket");
  if (!path.starts_with("/api/")) return static_file(req);
  const auto reply = [&](const ApiReply& r) { return json_response(req, r.status, r.body); };
  const auto unavailable = [&] { return error_response(req, 503, "not available on this server"); };
  try {
    if (path == "/api/status") {
      if (req.method() != http::verb::get) return error_response(req, 405, "use GET");
      return handlers.status ? json_response(req, 200, handlers.status()) : unavailable();
    }
    if (path == "/api/sessions") {
      if (req.method() == http::verb::get) return handlers.sessions ? reply(handlers.sessions()) : unavailable();
      if (req.method() != http::verb::post) return error_response(req, 405, "use GET or POST");
      if (auto refused = refuse_without_token(req)) return std::move(*refused);
      if (!handlers.start) return unavailable();
      nlohmann::json body = nlohmann::json::object();
      if (!req.body().empty()) {
        body = nlohmann::json::parse(req.body(), nullptr, false);
        if (body.is_discarded() || !body.is_object()) return error_response(req, 400, "the body must be a JSON object");
      }
      // Only what json_response() reads of the request outlives it.
      Request head;
      head.version(req.version());
      head.keep_alive(req.keep_alive());
      handlers.start(body, [head = std::move(head), later](const ApiReply& r) { later(json_response(head, r.status, r.body)); });
      return std::nullopt;
    }
    if (path == "/api/sessions/current/stop") {
      if (req.method() != http::verb::post) return error_response(req, 405, "use POST");
      if (auto refused = refuse_without_token(req)) return std::move(*refused);
      return handlers.stop ? reply(handlers.stop()) : unavailable();
    }
    return error_response(req, 404, "no such API endpoint");
  } catch (const std::exception& e) {
    return error_response(req, 500, e.what());
  }
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

std::shared_ptr<MonitorServer> MonitorServer::start(asio::io_context& io, ServerOptions options, ApiHandlers handlers) {
  std::shared_ptr<MonitorServer> server(new MonitorServer());
  const std::string where = options.address + ":" + std::to_string(options.port);
  beast::error_code ec;
  const auto address = asio::ip::make_address(options.address, ec);
  if (ec) throw std::runtime_error("cannot listen on " + where + ": not an IP address");
  server->impl_ = std::make_shared<Impl>(io, std::move(options), std::move(handlers));
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
  return server;
}

MonitorServer::~MonitorServer() {
  if (impl_) impl_->stop();
}

std::string MonitorServer::url() const { return "http://" + address_ + ":" + std::to_string(port_) + "/"; }

void MonitorServer::publish(std::string text) { impl_->publish(std::move(text)); }

void MonitorServer::stop() { impl_->stop(); }

std::size_t MonitorServer::websocket_clients() {
  std::size_t open = 0;
  for (const auto& w : impl_->websockets) {
    if (const auto ws = w.lock(); ws && ws->open()) ++open;
  }
  return open;
}

}  // namespace rig::monitor
