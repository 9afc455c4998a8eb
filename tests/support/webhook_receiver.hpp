// A webhook receiver on 127.0.0.1 for the alert tests: it records each POST's JSON body and answers 200 (kAnswer),
// answers 500 (kFail), or reads the request and never answers (kHang). Runs on a thread of its own, joined when it
// is destroyed. unused_port() gives a port nobody listens on (a receiver that refuses connections).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace rig::testing {

class WebhookReceiver {
 public:
  enum class Mode { kAnswer, kFail, kHang };

  explicit WebhookReceiver(Mode mode = Mode::kAnswer)
      : mode_(mode), acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}), port_(acceptor_.local_endpoint().port()) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~WebhookReceiver() {
    io_.stop();
    thread_.join();
  }
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  // The bodies received so far (each parsed; a body that is not JSON is kept as a string). Thread-safe.
  std::vector<nlohmann::json> bodies() const {
    const std::lock_guard lock(mutex_);
    return bodies_;
  }

  // A port on 127.0.0.1 that was free a moment ago and that nothing listens on.
  static std::string unused_url() {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor probe(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    const auto port = probe.local_endpoint().port();
    probe.close();
    return "http://127.0.0.1:" + std::to_string(port) + "/hook";
  }

 private:
  struct Exchange {
    explicit Exchange(boost::asio::ip::tcp::socket s) : socket(std::move(s)) {}
    boost::asio::ip::tcp::socket socket;
    boost::beast::flat_buffer buffer;
    boost::beast::http::request<boost::beast::http::string_body> request;
    boost::beast::http::response<boost::beast::http::string_body> response;
  };

  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, boost::asio::ip::tcp::socket socket) {
      if (ec) return;
      auto exchange = std::make_shared<Exchange>(std::move(socket));
      boost::beast::http::async_read(exchange->socket, exchange->buffer, exchange->request,
                                     [this, exchange](boost::system::error_code read_error, std::size_t) {
                                       if (!read_error) answer(exchange);
                                     });
      accept();
    });
  }

  void answer(const std::shared_ptr<Exchange>& exchange) {
    {
      const std::lock_guard lock(mutex_);
      const auto body = nlohmann::json::parse(exchange->request.body(), nullptr, false);
      bodies_.push_back(body.is_discarded() ? nlohmann::json(exchange->request.body()) : body);
    }
    if (mode_ == Mode::kHang) {
      hanging_.push_back(exchange);  // kept open, never answered
      return;
    }
    exchange->response.result(mode_ == Mode::kAnswer ? 200 : 500);
    exchange->response.body() = mode_ == Mode::kAnswer ? "ok" : "receiver broken";
    exchange->response.prepare_payload();
    boost::beast::http::async_write(exchange->socket, exchange->response,
                                    [exchange](boost::system::error_code, std::size_t) {});
  }

  Mode mode_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  unsigned short port_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<nlohmann::json> bodies_;
  std::vector<std::shared_ptr<Exchange>> hanging_;  // receiver's thread only
};

}  // namespace rig::testing
