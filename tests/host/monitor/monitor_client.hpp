// Blocking HTTP and WebSocket clients for the monitor tests (the server runs on its own io thread).
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <map>
#include <string>

namespace rig::monitor::testing {

struct HttpResult {
  unsigned status = 0;
  std::string body;
  std::string content_type;
  std::map<std::string, std::string> headers;  // every response header, by its name as sent
};

// One request on a fresh connection to 127.0.0.1:port. Throws boost::system::system_error on socket errors.
inline HttpResult http_request(uint16_t port, boost::beast::http::verb method, const std::string& target,
                               const std::string& body = {}, const std::map<std::string, std::string>& headers = {}) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::seconds(30));
  stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  beast::error_code ec;
  stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  HttpResult result{res.result_int(), res.body(), std::string(res[http::field::content_type]), {}};
  for (const auto& field : res) result.headers[std::string(field.name_string())] = std::string(field.value());
  return result;
}

inline HttpResult http_get(uint16_t port, const std::string& target) {
  return http_request(port, boost::beast::http::verb::get, target);
}

// A WebSocket client of /ws.
class WsClient {
 public:
  // Connects and upgrades. `receive_buffer_bytes` > 0 shrinks the socket's receive buffer (a client that
  // never reads then fills it quickly); a non-empty `origin` is sent as the Origin header (a browser page's).
  // Throws boost::system::system_error when the server refuses the upgrade.
  explicit WsClient(uint16_t port, int receive_buffer_bytes = 0, const std::string& origin = {}) : ws_(io_) {
    auto& socket = boost::beast::get_lowest_layer(ws_);
    socket.open(boost::asio::ip::tcp::v4());
    if (receive_buffer_bytes > 0) socket.set_option(boost::asio::socket_base::receive_buffer_size(receive_buffer_bytes));
    socket.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    if (!origin.empty()) {
      ws_.set_option(boost::beast::websocket::stream_base::decorator([origin](boost::beast::websocket::request_type& req) {
        req.set(boost::beast::http::field::origin, origin);
      }));
    }
    ws_.handshake("127.0.0.1:" + std::to_string(port), "/ws");
  }
  // The next message's text. Throws on a closed connection.
  std::string read() {
    boost::beast::flat_buffer buffer;
    ws_.read(buffer);
    return boost::beast::buffers_to_string(buffer.data());
  }
  // Drops the TCP connection without a WebSocket close (a browser tab killed mid-stream).
  void drop() {
    boost::beast::error_code ec;
    boost::beast::get_lowest_layer(ws_).close(ec);
  }

 private:
  boost::asio::io_context io_;
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_;
};

// Sends `request` as-is (for targets a well-behaved client would never send) and returns the status code.
inline unsigned raw_status(uint16_t port, const std::string& request) {
  boost::asio::io_context io;
  boost::beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::seconds(30));
  stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  boost::asio::write(stream, boost::asio::buffer(request));
  boost::beast::flat_buffer buffer;
  boost::beast::http::response<boost::beast::http::string_body> res;
  boost::beast::http::read(stream, buffer, res);
  return res.result_int();
}

}  // namespace rig::monitor::testing
