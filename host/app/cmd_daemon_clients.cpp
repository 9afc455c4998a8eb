// `rig start`, `rig stop`, `rig status`, `rig watch`: thin clients of rigd's HTTP API and WebSocket.
#include <CLI/CLI.hpp>

#if defined(RIG_HAVE_MONITOR)

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <optional>
#include <string>

#include "command_registry.hpp"
#include "host/monitor/monitor_server.hpp"
#include "run_support.hpp"

namespace rig::app {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

constexpr const char* kDefaultRigdUrl = "http://127.0.0.1:8765";
constexpr std::chrono::seconds kRequestTimeout{30};

struct ClientOptions {
  std::string url = kDefaultRigdUrl;
  std::string token_file;
};

// rigd's address, from "http://HOST:PORT[/]".
struct Endpoint {
  std::string url;
  std::string host;
  std::string port;
};

// Parses an http:// URL (no path beyond "/"). Pure. Throws InputError naming the URL.
Endpoint parse_url(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) throw InputError("--url " + url + ": expected http://HOST:PORT");
  std::string rest = url.substr(kScheme.size());
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) throw InputError("--url " + url + ": expected http://HOST:PORT without a path");
  const auto colon = rest.rfind(':');
  if (rest.empty() || colon == 0) throw InputError("--url " + url + ": no host");
  if (colon == std::string::npos) return {url, rest, "80"};
  return {url, rest.substr(0, colon), rest.substr(colon + 1)};
}

// rigd is not there (refused, unreachable): the one message for it.
class NotAnswering : public std::runtime_error {
 public:
  explicit NotAnswering(const Endpoint& e) : std::runtime_error("no rigd answering at " + e.url) {}
};

struct Reply {
  unsigned status = 0;
  nlohmann::json body;
};

// Connects a TCP stream to rigd. Throws NotAnswering.
void connect(beast::tcp_stream& stream, boost::asio::io_context& io, const Endpoint& e) {
  beast::error_code ec;
  tcp::resolver resolver(io);
  const auto addresses = resolver.resolve(e.host, e.port, ec);
  if (ec) throw NotAnswering(e);
  stream.expires_after(kRequestTimeout);
  stream.connect(addresses, ec);
  if (ec) throw NotAnswering(e);
}

// One request to rigd on a fresh connection; blocks up to kRequestTimeout. Throws NotAnswering, or
// std::runtime_error when the answer is not rigd's JSON.
Reply request(const ClientOptions& o, http::verb method, const std::string& target, const nlohmann::json* body,
              bool with_token) {
  const Endpoint e = parse_url(o.url);
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  connect(stream, io, e);
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, e.host);
  req.set(http::field::user_agent, "rig");
  if (with_token && !o.token_file.empty()) {
    try {
      req.set(http::field::authorization, "Bearer " + monitor::read_token_file(o.token_file));
    } catch (const std::runtime_error& err) {
      throw InputError(err.what());
    }
  }
  if (body) {
    req.set(http::field::content_type, "application/json");
    req.body() = body->dump();
  }
  req.prepare_payload();
  beast::error_code ec;
  http::write(stream, req, ec);
  if (ec) throw NotAnswering(e);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res, ec);
  if (ec) throw std::runtime_error(e.url + " closed the connection without an answer (" + ec.message() + ")");
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  nlohmann::json parsed = nlohmann::json::parse(res.body(), nullptr, false);
  if (parsed.is_discarded()) {
    throw std::runtime_error(e.url + " answered " + std::to_string(res.result_int()) + " without JSON: is it rigd?");
  }
  return {res.result_int(), std::move(parsed)};
}

// The error of a refused control request, with what to do about it. Throws always.
[[noreturn]] void refuse(const ClientOptions& o, const Reply& r) {
  const std::string said = r.body.is_object() ? r.body.value("error", r.body.dump()) : r.body.dump();
  if (r.status == 401) {
    throw std::runtime_error("rigd wants the control token (401): pass --token-file FILE, the file rigd's --token-file names" +
                             std::string(o.token_file.empty() ? "" : " (" + o.token_file + " was not accepted)"));
  }
  if (r.status == 403) {
    throw std::runtime_error("rigd refused the token (403): " + said +
                             "; use the same token file as rigd's --token-file");
  }
  throw std::runtime_error("rigd answered " + std::to_string(r.status) + ": " + said);
}

std::string or_dash(const nlohmann::json& v) {
  if (v.is_null()) return "-";
  return v.is_string() ? v.get<std::string>() : v.dump();
}

struct StartRequest {
  std::string subject, protocol;
  int64_t max_trials = 0;
  uint64_t seed = 0;
  std::optional<double> weight_g;
  std::string override_weight;
};

int start(const ClientOptions& o, const StartRequest& q) {
  nlohmann::json body{{"subject", q.subject}};
  if (!q.protocol.empty()) body["protocol"] = q.protocol;
  if (q.max_trials > 0) body["max_trials"] = q.max_trials;
  if (q.seed > 0) body["seed"] = q.seed;
  if (q.weight_g) body["weight_g"] = *q.weight_g;
  if (!q.override_weight.empty()) body["override_weight"] = q.override_weight;
  const Reply r = request(o, http::verb::post, "/api/sessions", &body, true);
  if (r.status == 403 && r.body.value("welfare", false)) {
    throw WelfareRefusal("rigd refused the session: " + r.body.value("error", std::string()));
  }
  if (r.status == 400) {
    std::string text = "rigd refused the session: " + r.body.value("error", std::string("bad request"));
    for (const auto& d : r.body.value("diagnostics", nlohmann::json::array())) text += "\n  " + d.get<std::string>();
    throw InputError(text);
  }
  if (r.status == 409) throw std::runtime_error("a session is already running (409): " + r.body.value("error", std::string()));
  if (r.status != 202) refuse(o, r);
  std::printf("started run %s: %s (%s); follow it with `rig watch` or `rig status`\n", or_dash(r.body["run"]).c_str(),
              or_dash(r.body["subject"]).c_str(), or_dash(r.body["protocol"]).c_str());
  return kExitOk;
}

int stop(const ClientOptions& o) {
  const Reply r = request(o, http::verb::post, "/api/sessions/current/stop", nullptr, true);
  if (r.status == 409) throw std::runtime_error("no session is running");
  if (r.status != 202) refuse(o, r);
  std::printf("stopping session %s\n", or_dash(r.body["session_id"]).c_str());
  return kExitOk;
}

int status(const ClientOptions& o, bool json) {
  const Reply r = request(o, http::verb::get, "/api/status", nullptr, false);
  if (r.status != 200) refuse(o, r);
  if (json) {
    std::printf("%s\n", r.body.dump().c_str());
    return kExitOk;
  }
  const nlohmann::json& s = r.body;
  const std::string state = s.value("state", std::string("?"));
  if (state == "idle") {
    std::string last = "no session yet";
    if (const auto& report = s.value("last_report", nlohmann::json()); report.is_object()) {
      last = "last session " + or_dash(report.value("session_id", nlohmann::json())) + ": " +
             or_dash(report.value("end_reason", nlohmann::json())) + ", " + or_dash(report.value("trials", nlohmann::json())) +
             " trials";
    }
    std::printf("rigd at %s: idle (%s)\n", o.url.c_str(), last.c_str());
    return kExitOk;
  }
  std::printf("rigd at %s: %s session %s for %s (%s): %s trials, link %s\n", o.url.c_str(), state.c_str(),
              or_dash(s.value("session_id", nlohmann::json())).c_str(), or_dash(s.value("subject", nlohmann::json())).c_str(),
              or_dash(s.value("protocol", nlohmann::json())).c_str(), or_dash(s.value("trials", nlohmann::json())).c_str(),
              or_dash(s.value("link", nlohmann::json::object()).value("state", nlohmann::json())).c_str());
  return kExitOk;
}

int watch(const ClientOptions& o) {
  const Endpoint e = parse_url(o.url);
  boost::asio::io_context io;
  beast::websocket::stream<beast::tcp_stream> ws(io);
  connect(beast::get_lowest_layer(ws), io, e);
  beast::error_code ec;
  ws.handshake(e.host, "/ws", ec);
  if (ec) throw std::runtime_error(e.url + "/ws refused the WebSocket (" + ec.message() + "): is it rigd?");
  beast::get_lowest_layer(ws).expires_never();
  bool seen_session = false;
  for (;;) {
    beast::flat_buffer buffer;
    ws.read(buffer, ec);
    if (ec) {
      if (seen_session) return kExitOk;
      throw std::runtime_error("rigd closed the event stream (" + ec.message() + ")");
    }
    const std::string text = beast::buffers_to_string(buffer.data());
    std::printf("%s\n", text.c_str());
    std::fflush(stdout);
    const nlohmann::json event = nlohmann::json::parse(text, nullptr, false);
    if (event.is_discarded()) continue;
    const std::string type = event.value("type", std::string());
    if (type == "started" || type == "trial" ||
        (type == "status" && (event.value("state", "") == "running" || event.value("state", "") == "connecting"))) {
      seen_session = true;
    }
    if (type == "finished" && seen_session) return kExitOk;
  }
}

void add_client_options(CLI::App& command, ClientOptions& o, bool control) {
  command.add_option("--url", o.url, "rigd's address")->capture_default_str();
  if (control) command.add_option("--token-file", o.token_file, "File holding rigd's control token");
}

const CommandRegistration kStart{
    "start", "Ask rigd to start a session for a subject",
    [](CLI::App& command) {
      auto o = std::make_shared<ClientOptions>();
      auto q = std::make_shared<StartRequest>();
      command.add_option("--subject", q->subject, "Subject id (from rigd's subjects file)")->required();
      command.add_option("--protocol", q->protocol, "Protocol YAML on rigd's machine (default: the subject's stage)");
      command.add_option("--max-trials", q->max_trials, "End after this many trials")->check(CLI::PositiveNumber);
      command.add_option("--seed", q->seed, "Seed of the session's trial draws (default: rigd's --seed, else random; recorded)")
          ->check(CLI::PositiveNumber);
      command.add_option("--weight", q->weight_g, "The subject's weight today, grams (recorded by rigd)");
      command.add_option("--override-weight", q->override_weight,
                         "Train a subject under its weight threshold; the reason is stored with the session");
      add_client_options(command, *o, true);
      return [=] { return run_with_errors("start", [&] { return start(*o, *q); }); };
    }};

const CommandRegistration kStop{"stop", "Ask rigd to stop the running session cleanly", [](CLI::App& command) {
                                  auto o = std::make_shared<ClientOptions>();
                                  add_client_options(command, *o, true);
                                  return [=] { return run_with_errors("stop", [&] { return stop(*o); }); };
                                }};

const CommandRegistration kStatus{"status", "Show whether rigd is idle or running a session", [](CLI::App& command) {
                                    auto o = std::make_shared<ClientOptions>();
                                    auto json = std::make_shared<bool>(false);
                                    add_client_options(command, *o, false);
                                    command.add_flag("--json", *json, "Print rigd's status as one JSON object");
                                    return [=] { return run_with_errors("status", [&] { return status(*o, *json); }); };
                                  }};

const CommandRegistration kWatch{
    "watch", "Print rigd's live events (JSON), one per line, until the session ends or Ctrl-C",
    [](CLI::App& command) {
      auto o = std::make_shared<ClientOptions>();
      add_client_options(command, *o, false);
      return [=] { return run_with_errors("watch", [&] { return watch(*o); }); };
    }};

}  // namespace
}  // namespace rig::app
#endif  // RIG_HAVE_MONITOR
