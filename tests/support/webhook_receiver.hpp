// A webhook receiver on 127.0.0.1 for the alert tests: it records each POST's JSON body and answers 200 (kAnswer),
// answers 500 (kFail), or reads the request and never answers (kHang). Runs on a thread of its own, joined when it
// is destroyed. unused_url() gives a URL nobody listens on (a receiver that refuses connections).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace rig::testing {

class WebhookReceiver {
 public:
  enum class Mode { kAnswer, kFail, kHang };

  // Listens on a free port of 127.0.0.1 at once. Throws boost::system::system_error when it cannot.
  explicit WebhookReceiver(Mode mode = Mode::kAnswer);
  ~WebhookReceiver();
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  // http://127.0.0.1:PORT/hook.
  std::string url() const;
  // The bodies received so far (each parsed; a body that is not JSON is kept as a string). Thread-safe.
  std::vector<nlohmann::json> bodies() const;

  // A URL on 127.0.0.1 whose port was free a moment ago and that nothing listens on.
  static std::string unused_url();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rig::testing
