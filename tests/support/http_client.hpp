// Blocking HTTP and WebSocket clients of a server on 127.0.0.1 for the tests of the dashboard's server, rigd and
// the lab page (each server runs on its own thread or process). Compiled once (rig_test_support): Beast's
// templates are instantiated in one translation unit instead of in every suite that talks HTTP.
#pragma once

#include <boost/beast/http/verb.hpp>
#include <boost/system/system_error.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "support/free_port.hpp"

namespace rig::testing {

struct HttpResult {
  unsigned status = 0;
  std::string body;
  std::string content_type;
  std::map<std::string, std::string> headers;  // every response header, by its name as sent
};

// One request on a fresh connection to 127.0.0.1:port, 30 s at most. Throws boost::system::system_error on
// socket errors and on the deadline. Thread-safe (nothing shared).
HttpResult http_request(uint16_t port, boost::beast::http::verb method, const std::string& target,
                        const std::string& body = {}, const std::map<std::string, std::string>& headers = {});

// GET `target`; as http_request.
HttpResult http_get(uint16_t port, const std::string& target);

// Sends `request` as-is (for targets a well-behaved client would never send) and returns the status code.
// Throws boost::system::system_error on socket errors.
unsigned raw_status(uint16_t port, const std::string& request);

// A blocking WebSocket client of /ws. Not thread-safe (one test thread uses it).
class WsClient {
 public:
  // Connects and upgrades. `receive_buffer_bytes` > 0 shrinks the socket's receive buffer (a client that
  // never reads then fills it quickly); a non-empty `origin` is sent as the Origin header (a browser page's).
  // Throws boost::system::system_error when the server refuses the upgrade.
  explicit WsClient(uint16_t port, int receive_buffer_bytes = 0, const std::string& origin = {});
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // The next message's text. Throws on a closed connection.
  std::string read();
  // Drops the TCP connection without a WebSocket close (a browser tab killed mid-stream).
  void drop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rig::testing
