#include "support/webhook_receiver.hpp"

#include "support/http_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <mutex>
#include <thread>

namespace rig::testing {

namespace http = boost::beast::http;
using boost::asio::ip::tcp;

struct WebhookReceiver::Impl {
  struct Exchange {
    explicit Exchange(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    boost::beast::flat_buffer buffer;
    http::request<http::string_body> request;
    http::response<http::string_body> response;
  };

  explicit Impl(Mode m) : mode(m), acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0}), port(acceptor.local_endpoint().port()) {
    accept();
    thread = std::jthread([this] { io.run(); });
  }
  ~Impl() {
    io.stop();
    thread.join();
  }

  void accept() {
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      auto exchange = std::make_shared<Exchange>(std::move(socket));
      http::async_read(exchange->socket, exchange->buffer, exchange->request,
                       [this, exchange](boost::system::error_code read_error, std::size_t) {
                         if (!read_error) answer(exchange);
                       });
      accept();
    });
  }

  void answer(const std::shared_ptr<Exchange>& exchange) {
    {
      const std::lock_guard lock(mutex);
      const auto body = nlohmann::json::parse(exchange->request.body(), nullptr, false);
      bodies.push_back(body.is_discarded() ? nlohmann::json(exchange->request.body()) : body);
    }
    if (mode == Mode::kHang) {
      hanging.push_back(exchange);  // kept open, never answered
      return;
    }
    exchange->response.result(mode == Mode::kAnswer ? 200 : 500);
    exchange->response.body() = mode == Mode::kAnswer ? "ok" : "receiver broken";
    exchange->response.prepare_payload();
    http::async_write(exchange->socket, exchange->response, [exchange](boost::system::error_code, std::size_t) {});
  }

  Mode mode;
  boost::asio::io_context io;
  tcp::acceptor acceptor;
  unsigned short port;
  std::jthread thread;
  mutable std::mutex mutex;
  std::vector<nlohmann::json> bodies;
  std::vector<std::shared_ptr<Exchange>> hanging;  // receiver's thread only
};

WebhookReceiver::WebhookReceiver(Mode mode) : impl_(std::make_unique<Impl>(mode)) {}

WebhookReceiver::~WebhookReceiver() = default;

std::string WebhookReceiver::url() const { return "http://127.0.0.1:" + std::to_string(impl_->port) + "/hook"; }

std::vector<nlohmann::json> WebhookReceiver::bodies() const {
  const std::lock_guard lock(impl_->mutex);
  return impl_->bodies;
}

std::string WebhookReceiver::unused_url() { return "http://127.0.0.1:" + std::to_string(unused_port()) + "/hook"; }

}  // namespace rig::testing
