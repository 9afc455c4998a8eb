#include "support/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>

namespace rig::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using boost::asio::ip::tcp;

namespace {

tcp::endpoint local(uint16_t port) { return {boost::asio::ip::make_address("127.0.0.1"), port}; }

// Reads one response on `stream` after `send` wrote the request.
template <class Send>
http::response<http::string_body> exchange(uint16_t port, Send send) {
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::seconds(30));
  stream.connect(local(port));
  send(stream);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  return res;
}

}  // namespace

HttpResult http_request(uint16_t port, http::verb method, const std::string& target, const std::string& body,
                        const std::map<std::string, std::string>& headers) {
  const auto res = exchange(port, [&](beast::tcp_stream& stream) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) req.set(name, value);
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
  });
  HttpResult result{res.result_int(), res.body(), std::string(res[http::field::content_type]), {}};
  for (const auto& field : res) result.headers[std::string(field.name_string())] = std::string(field.value());
  return result;
}

HttpResult http_get(uint16_t port, const std::string& target) { return http_request(port, http::verb::get, target); }

unsigned raw_status(uint16_t port, const std::string& request) {
  return exchange(port, [&](beast::tcp_stream& stream) { boost::asio::write(stream, boost::asio::buffer(request)); })
      .result_int();
}

struct WsClient::Impl {
  boost::asio::io_context io;
  websocket::stream<tcp::socket> ws{io};
};

WsClient::WsClient(uint16_t port, int receive_buffer_bytes, const std::string& origin) : impl_(std::make_unique<Impl>()) {
  auto& socket = beast::get_lowest_layer(impl_->ws);
  socket.open(tcp::v4());
  if (receive_buffer_bytes > 0) socket.set_option(boost::asio::socket_base::receive_buffer_size(receive_buffer_bytes));
  socket.connect(local(port));
  if (!origin.empty()) {
    impl_->ws.set_option(websocket::stream_base::decorator(
        [origin](websocket::request_type& req) { req.set(http::field::origin, origin); }));
  }
  impl_->ws.handshake("127.0.0.1:" + std::to_string(port), "/ws");
}

WsClient::~WsClient() = default;

std::string WsClient::read() {
  beast::flat_buffer buffer;
  impl_->ws.read(buffer);
  return beast::buffers_to_string(buffer.data());
}

void WsClient::drop() {
  beast::error_code ec;
  beast::get_lowest_layer(impl_->ws).close(ec);
}

}  // namespace rig::testing
