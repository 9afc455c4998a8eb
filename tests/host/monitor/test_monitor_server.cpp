// The monitor's HTTP API, static files and WebSocket against real sockets (port 0), the server on its own
// io thread as in `rig run`.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "host/monitor/monitor_server.hpp"
#include "monitor_client.hpp"

using namespace rig::monitor;
using namespace rig::monitor::testing;
namespace http = boost::beast::http;

namespace {

constexpr const char* kToken = "t0ken-for-tests";

class MonitorServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = std::filesystem::temp_directory_path() /
            ("rig-monitor-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(base_);
    std::filesystem::create_directories(base_ / "web");
    std::ofstream(base_ / "web" / "index.html") << "<html>dashboard</html>";
    std::ofstream(base_ / "secret.txt") << "top secret";
  }
  void TearDown() override {
    if (server_) on_io([&] { server_->stop(); });
    work_.reset();
    if (thread_.joinable()) thread_.join();
    std::filesystem::remove_all(base_);
  }

  void start(ApiHandlers handlers, std::string token = kToken, std::size_t max_queued = 16) {
    ServerOptions options;
    options.port = 0;
    options.web_root = base_ / "web";
    options.token = std::move(token);
    options.max_queued_messages = max_queued;
    server_ = MonitorServer::start(io_, options, std::move(handlers));
    thread_ = std::thread([this] { io_.run(); });
  }

  // Runs `f` on the server's io thread and waits for it.
  template <typename F>
  void on_io(F f) {
    std::promise<void> done;
    boost::asio::post(io_, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

  void publish(const std::string& text) {
    on_io([&] { server_->publish(text); });
  }

  ApiHandlers status_only() {
    ApiHandlers h;
    h.status = [] { return nlohmann::json{{"state", "running"}, {"trials", 7}}; };
    h.websocket_hello = [] { return std::string(R"({"type":"status"})"); };
    return h;
  }

  uint16_t port() const { return server_->port(); }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ = boost::asio::make_work_guard(io_);
  std::thread thread_;
  std::shared_ptr<MonitorServer> server_;
  std::filesystem::path base_;
};

}  // namespace

TEST_F(MonitorServerTest, BindsLoopbackOnTheChosenFreePort) {
  start(status_only());
  EXPECT_NE(port(), 0);
  EXPECT_EQ(server_->url(), "http://127.0.0.1:" + std::to_string(port()) + "/");
}

TEST_F(MonitorServerTest, StatusIsTheHandlersJson) {
  start(status_only());
  const auto res = http_get(port(), "/api/status");
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(res.content_type, "application/json");
  const auto json = nlohmann::json::parse(res.body);
  EXPECT_EQ(json["state"], "running");
  EXPECT_EQ(json["trials"], 7);
}

TEST_F(MonitorServerTest, ServesTheDashboardAndAnswers404ForUnknownPaths) {
  start(status_only());
  const auto index = http_get(port(), "/");
  EXPECT_EQ(index.status, 200u);
  EXPECT_EQ(index.body, "<html>dashboard</html>");
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(http_get(port(), "/nothing.js").status, 404u);
  EXPECT_EQ(http_get(port(), "/api/nothing").status, 404u);
}

TEST_F(MonitorServerTest, NeverServesAPathOutsideTheDashboard) {
  start(status_only());
  for (const char* target : {"/../", "/../secret.txt", "/%2e%2e/", "/%2e%2e/secret.txt", "/..%2f", "/..%2fsecret.txt",
                             "/%2e%2e%2fsecret.txt", "/./../secret.txt", "//etc/passwd", "/etc/passwd"}) {
    const auto res = http_get(port(), target);
    EXPECT_EQ(res.status, 404u) << target;
    EXPECT_EQ(res.body.find("top secret"), std::string::npos) << target;
  }
  const std::string absolute = "GET " + (base_ / "secret.txt").string() + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  EXPECT_EQ(raw_status(port(), absolute), 404u);
  EXPECT_EQ(raw_status(port(), "GET http://127.0.0.1/../secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 404u);
}

TEST_F(MonitorServerTest, StartingAndStoppingNeedTheToken) {
  std::atomic<int> starts = 0, stops = 0;
  ApiHandlers h = status_only();
  h.start = [&](const nlohmann::json& request, const std::function<void(ApiReply)>& reply) {
    ++starts;
    reply(ApiReply{201, {{"subject", request.value("subject", "")}}});
  };
  h.stop = [&] {
    ++stops;
    return ApiReply{202, {{"stopping", true}}};
  };
  start(h);
  const std::string body = R"({"subject":"SIM001"})";
  EXPECT_EQ(http_request(port(), http::verb::post, "/api/sessions", body).status, 401u);
  EXPECT_EQ(http_request(port(), http::verb::post, "/api/sessions", body, {{"Authorization", "Basic abc"}}).status, 401u);
  EXPECT_EQ(http_request(port(), http::verb::post, "/api/sessions", body, {{"Authorization", "Bearer wrong"}}).status, 403u);
  EXPECT_EQ(http_request(port(), http::verb::post, "/api/sessions/current/stop").status, 401u);
  EXPECT_EQ(http_request(port(), http::verb::post, "/api/sessions/current/stop", "", {{"Authorization", "Bearer t0ken"}}).status, 403u);
  EXPECT_EQ(starts, 0);
  EXPECT_EQ(stops, 0);

  const std::map<std::string, std::string> auth{{"Authorization", std::string("Bearer ") + kToken}};
  const auto started = http_request(port(), http::verb::post, "/api/sessions", body, auth);
  EXPECT_EQ(started.status, 201u);
  EXPECT_EQ(nlohmann::json::parse(started.body)["subject"], "SIM001");
  EXPECT_EQ(http_request(port(), http::verb::post, "/api/sessions", "not json", auth).status, 400u);
  EXPECT_EQ(http_request(port(), http::verb::post, "/api/sessions/current/stop", "", auth).status, 202u);
  EXPECT_EQ(starts, 1);
  EXPECT_EQ(stops, 1);
}

TEST_F(MonitorServerTest, AStartAnsweredLaterKeepsItsConnectionWaitingWhileOthersAreServed) {
  std::function<void(ApiReply)> pending;
  std::promise<void> received;
  ApiHandlers h = status_only();
  h.start = [&](const nlohmann::json&, std::function<void(ApiReply)> reply) {
    pending = std::move(reply);
    received.set_value();
  };
  start(h);
  const std::map<std::string, std::string> auth{{"Authorization", std::string("Bearer ") + kToken}};
  auto started = std::async(std::launch::async, [&] {
    return http_request(port(), http::verb::post, "/api/sessions", R"({"subject":"SIM001"})", auth);
  });
  ASSERT_EQ(received.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  // The io thread is free while the start is being prepared elsewhere.
  EXPECT_EQ(http_get(port(), "/api/status").status, 200u);
  EXPECT_EQ(started.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  boost::asio::post(io_, [&] { pending(ApiReply{202, {{"run", 1}}}); });
  const auto res = started.get();
  EXPECT_EQ(res.status, 202u);
  EXPECT_EQ(nlohmann::json::parse(res.body)["run"], 1);
}

TEST_F(MonitorServerTest, ControlIsRefusedWhenNoTokenIsConfigured) {
  ApiHandlers h = status_only();
  h.stop = [] { return ApiReply{202, {}}; };
  start(h, "");
  EXPECT_EQ(http_request(port(), http::verb::post, "/api/sessions/current/stop", "", {{"Authorization", "Bearer "}}).status, 401u);
  EXPECT_EQ(http_request(port(), http::verb::post, "/api/sessions/current/stop", "", {{"Authorization", "Bearer x"}}).status, 403u);
}

TEST_F(MonitorServerTest, ReadOnlyViewsNeedNoToken) {
  ApiHandlers h = status_only();
  h.sessions = [] { return ApiReply{200, {{"sessions", nlohmann::json::array()}}}; };
  start(h);
  EXPECT_EQ(http_get(port(), "/api/sessions").status, 200u);
  EXPECT_EQ(http_get(port(), "/api/status").status, 200u);
}

TEST_F(MonitorServerTest, AHandlerThatThrowsAnswers500AndTheServerGoesOn) {
  ApiHandlers h;
  h.status = []() -> nlohmann::json { throw std::runtime_error("store unreadable"); };
  start(h);
  const auto res = http_get(port(), "/api/status");
  EXPECT_EQ(res.status, 500u);
  EXPECT_EQ(nlohmann::json::parse(res.body)["error"], "store unreadable");
  EXPECT_EQ(http_get(port(), "/").status, 200u);
}

TEST_F(MonitorServerTest, WebSocketClientGetsTheStateThenEachPublishedEvent) {
  start(status_only());
  WsClient client(port());
  EXPECT_EQ(client.read(), R"({"type":"status"})");
  publish(R"({"type":"trial","n":1})");
  publish(R"({"type":"trial","n":2})");
  EXPECT_EQ(client.read(), R"({"type":"trial","n":1})");
  EXPECT_EQ(client.read(), R"({"type":"trial","n":2})");
}

TEST_F(MonitorServerTest, KeepsServingAfterAClientDisconnectsMidStream) {
  start(status_only());
  {
    WsClient leaving(port());
    leaving.read();
    for (int i = 0; i < 50; ++i) publish(std::string(10000, 'x'));
    leaving.drop();
  }
  for (int i = 0; i < 50; ++i) publish(std::string(10000, 'y'));
  EXPECT_EQ(http_get(port(), "/api/status").status, 200u);
  WsClient staying(port());
  EXPECT_EQ(staying.read(), R"({"type":"status"})");
  publish("after");
  EXPECT_EQ(staying.read(), "after");
}

TEST_F(MonitorServerTest, AClientThatNeverReadsNeitherBlocksPublishingNorGetsEverything) {
  start(status_only(), kToken, 4);
  WsClient stuck(port(), 4096);  // handshake done, then never reads
  const std::string big(200000, 'z');
  const auto began = std::chrono::steady_clock::now();
  for (int i = 0; i < 500; ++i) publish(big);  // 100 MB if nothing were dropped
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(20));
  EXPECT_EQ(http_get(port(), "/api/status").status, 200u);
  WsClient reader(port());
  reader.read();
  publish("fresh");
  EXPECT_EQ(reader.read(), "fresh");
}

TEST(MonitorServer, RefusesAnAddressThatIsNotAnIpAddress) {
  boost::asio::io_context io;
  ServerOptions options;
  options.address = "not-an-address";
  options.port = 0;
  EXPECT_THROW(MonitorServer::start(io, options, {}), std::runtime_error);
}

TEST(MonitorServer, ReadsTheTokenFileWithoutSurroundingWhitespace) {
  const auto path = std::filesystem::temp_directory_path() / ("rig-token-" + std::to_string(::getpid()));
  std::ofstream(path) << "  abc123\n";
  EXPECT_EQ(read_token_file(path), "abc123");
  std::ofstream(path) << "\n";
  EXPECT_THROW(read_token_file(path), std::runtime_error);
  std::filesystem::remove(path);
  EXPECT_THROW(read_token_file(path), std::runtime_error);
}
