#include "host/session/webhook.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>
#include <optional>
#include <stdexcept>

namespace rig::app {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Writes the request and reads the answer on an open stream; "" for 2xx, else the status and body's start.
template <class Stream>
asio::awaitable<std::string> write_and_read(Stream& stream, const http::request<http::string_body>& request) {
  co_await http::async_write(stream, request, asio::use_awaitable);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  co_await http::async_read(stream, buffer, response, asio::use_awaitable);
  const unsigned status = response.result_int();
  if (status >= 200 && status < 300) co_return std::string();
  co_return "the receiver answered " + std::to_string(status) + " " + response.body().substr(0, 200);
}

asio::awaitable<std::string> post(const WebhookUrl& url, std::string body) {
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  const auto endpoints = co_await resolver.async_resolve(url.host, url.port, asio::use_awaitable);
  http::request<http::string_body> request{http::verb::post, url.target, 11};
  request.set(http::field::host, url.host);
  request.set(http::field::user_agent, "rig-alerts");
  request.set(http::field::content_type, "application/json");
  request.body() = std::move(body);
  request.prepare_payload();
  if (!url.tls) {
    beast::tcp_stream stream(executor);
    co_await stream.async_connect(endpoints, asio::use_awaitable);
    co_return co_await write_and_read(stream, request);
  }
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.set_default_verify_paths();
  tls.set_verify_mode(asio::ssl::verify_peer);
  tls.set_verify_callback(asio::ssl::host_name_verification(url.host));
  beast::ssl_stream<beast::tcp_stream> stream(executor, tls);
  if (!SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str())) {
    co_return std::string("cannot set the TLS server name");
  }
  co_await beast::get_lowest_layer(stream).async_connect(endpoints, asio::use_awaitable);
  co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
  co_return co_await write_and_read(stream, request);
}

}  // namespace

WebhookUrl WebhookUrl::parse(const std::string& url) {
  WebhookUrl out;
  std::string rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    out.tls = true;
    rest = url.substr(8);
  } else {
    throw std::invalid_argument("webhook URL '" + url + "': expected http:// or https://");
  }
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  out.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (authority.find('@') != std::string::npos) {
    throw std::invalid_argument("webhook URL '" + url + "': credentials in the URL are not supported");
  }
  out.port = out.tls ? "443" : "80";
  if (!authority.empty() && authority.front() == '[') {  // [IPv6]:port
    const auto close = authority.find(']');
    if (close == std::string::npos) throw std::invalid_argument("webhook URL '" + url + "': unclosed '['");
    out.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') out.port = authority.substr(close + 2);
  } else if (const auto colon = authority.rfind(':'); colon != std::string::npos) {
    out.host = authority.substr(0, colon);
    out.port = authority.substr(colon + 1);
  } else {
    out.host = authority;
  }
  if (out.host.empty()) throw std::invalid_argument("webhook URL '" + url + "': no host");
  if (out.port.empty() || out.port.find_first_not_of("0123456789") != std::string::npos) {
    throw std::invalid_argument("webhook URL '" + url + "': the port must be a number");
  }
  return out;
}

WebhookSender::WebhookSender(const std::string& url, WebhookOptions options, Problem problem)
    : url_(WebhookUrl::parse(url)), options_(options), problem_(std::move(problem)), thread_([this] { run(); }) {}

WebhookSender::~WebhookSender() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();
    if (cancel_try_) cancel_try_();
  }
  wake_.notify_all();
  thread_.join();
}

void WebhookSender::send(nlohmann::json body, Done done) {
  Done dropped_done;
  {
    const std::lock_guard lock(mutex_);
    if (stopping_) return;
    if (queue_.size() >= options_.max_queued) {
      dropped_done = std::move(queue_.front().done);
      queue_.pop_front();
      ++dropped_;
    }
    queue_.push_back({body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), std::move(done)});
  }
  wake_.notify_all();
  // Nobody waits forever for a message that will never be sent.
  if (dropped_done) dropped_done(false, "dropped: more than " + std::to_string(options_.max_queued) + " alerts were waiting");
}

std::uint64_t WebhookSender::dropped() const {
  const std::lock_guard lock(mutex_);
  return dropped_;
}

std::string WebhookSender::try_once(const std::string& body) {
  asio::io_context io;
  std::optional<std::string> outcome;
  asio::co_spawn(io, post(url_, body), [&outcome](std::exception_ptr error, std::string result) {
    if (!error) {
      outcome = std::move(result);
      return;
    }
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      outcome = e.what();
    }
  });
  {
    const std::lock_guard lock(mutex_);
    if (stopping_) return "stopped";
    cancel_try_ = [&io] { io.stop(); };
  }
  io.run_for(options_.timeout);
  {
    const std::lock_guard lock(mutex_);
    cancel_try_ = nullptr;
  }
  if (!outcome) return "no answer within " + std::to_string(options_.timeout.count()) + " ms";
  return *outcome;
}

void WebhookSender::run() {
  for (;;) {
    Message message;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      message = std::move(queue_.front());
      queue_.pop_front();
    }
    std::string why;
    auto pause = options_.first_pause;
    for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
      why = try_once(message.body);
      if (why.empty()) break;
      if (attempt == options_.max_attempts) break;
      std::unique_lock lock(mutex_);
      if (wake_.wait_for(lock, pause, [this] { return stopping_; })) return;
      pause *= 2;
    }
    bool tell = false;
    {
      const std::lock_guard lock(mutex_);
      if (stopping_) return;
      tell = !why.empty() && !failing_;
      failing_ = !why.empty();
    }
    if (tell && problem_) {
      problem_("the webhook " + url_.host + " did not take an alert after " + std::to_string(options_.max_attempts) +
               " tries (" + why + "); alerts are still logged, stored and shown; this is said once until one gets through");
    }
    if (message.done) message.done(why.empty(), why.empty() ? "delivered" : why);
  }
}

}  // namespace rig::app
