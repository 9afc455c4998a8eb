// Posts JSON to a webhook (a Slack or Mattermost incoming webhook, or any HTTP receiver) from a thread of its
// own, so that a slow, hanging or refusing receiver never holds anyone up: send() queues and returns. Each
// message is tried up to max_attempts times with a doubling pause between tries; each try is bounded by
// `timeout` (resolve, connect, TLS, write, read). https:// verifies the receiver's certificate against the
// system's CAs (OpenSSL's default paths) and its host name.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

namespace rig::app {

struct WebhookOptions {
  int max_attempts = 5;
  std::chrono::milliseconds first_pause{1000};  // before the second try; doubled before each later one
  std::chrono::milliseconds timeout{5000};      // one try, from resolving to the answer
  std::size_t max_queued = 100;                 // beyond this the oldest waiting message is dropped
};

// A webhook URL taken apart. Throws std::invalid_argument naming what is wrong.
struct WebhookUrl {
  bool tls = false;
  std::string host, port, target;
  static WebhookUrl parse(const std::string& url);
};

class WebhookSender {
 public:
  // How one message ended: delivered (a 2xx answer), or why not after the last try. Called on the sender's
  // thread; for a message dropped from a full queue, on the thread of the send() that dropped it.
  using Done = std::function<void(bool delivered, const std::string& detail)>;
  // A failure worth telling once: called (sender's thread) when a message could not be delivered, and not
  // again until a message is delivered.
  using Problem = std::function<void(const std::string& text)>;

  // Starts the sender's thread. Throws std::invalid_argument for a URL it cannot use.
  WebhookSender(const std::string& url, WebhookOptions options, Problem problem = {});
  // Stops the try in progress, drops what waits (their Done is not called) and joins the thread.
  ~WebhookSender();
  WebhookSender(const WebhookSender&) = delete;
  WebhookSender& operator=(const WebhookSender&) = delete;

  // Queues `body` to be posted. Never blocks on the network; any thread.
  void send(nlohmann::json body, Done done = {});
  // Messages dropped because the queue was full. Thread-safe.
  std::uint64_t dropped() const;

 private:
  struct Message {
    std::string body;
    Done done;
  };
  void run();
  // One try: "" when the receiver answered 2xx, else why not.
  std::string try_once(const std::string& body);

  WebhookUrl url_;
  WebhookOptions options_;
  Problem problem_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Message> queue_;
  bool stopping_ = false;
  bool failing_ = false;  // a failure was told and no delivery has happened since
  std::uint64_t dropped_ = 0;
  std::function<void()> cancel_try_;  // stops the try in progress (set while one runs)
  std::thread thread_;
};

}  // namespace rig::app
