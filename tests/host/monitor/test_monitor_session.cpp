// A simulated session pushed through the MonitorObserver and the server: the dashboard's JSON matches the
// session, and a WebSocket client that never reads does not hold the session back.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include <atomic>
#include <boost/asio/post.hpp>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "host/config/subjects_file.hpp"
#include "host/config/rig_config_file.hpp"
#include "host/config/protocol_file.hpp"
#include "host/store/store.hpp"
#include "serial_rig.hpp"
#include "vmcu/sim_loop.hpp"
#include "vmcu/virtual_mcu.hpp"
#include "host/monitor/monitor_server.hpp"
#include "host/task/protocol.hpp"
#include "host/task/rig_config.hpp"
#include "host/task/subject.hpp"
#include "live_fit.hpp"
#include "support/http_client.hpp"
#include "monitor_observer.hpp"
#include "session_runner.hpp"

using namespace rig;
using namespace rig::testing;

namespace {

// Records nothing, completing on the io thread as the store's worker would.
class NullRecorder : public app::SessionRecorder {
 public:
  explicit NullRecorder(boost::asio::io_context& io) : io_(io) {}
  void begin(const app::SessionStartInfo&, std::function<void(std::optional<std::string>)> done) override {
    boost::asio::post(io_, [done] { done(std::nullopt); });
  }
  void commit(const app::CompletedTrial&, std::function<void(std::optional<std::string>)> done) override {
    boost::asio::post(io_, [done] { done(std::nullopt); });
  }
  void event(const std::string&, int64_t, const std::string&) override {}
  void end(const app::SessionEnd&, std::function<void()> done) override { boost::asio::post(io_, done); }

 private:
  boost::asio::io_context& io_;
};

}  // namespace

// The session runs on simulated time (device::SimLoop) on its own thread, the io_context's; the server on its
// own; the test thread is the dashboard's clients.
TEST(MonitorSession, ASessionRunsToItsEndWithAStuckClientAndTheStatusMatchesIt) {
  constexpr uint32_t kTrials = 60;  // far more messages than the stuck client's queue of 4
  const std::string protocol_path = std::string(RIG_SOURCE_DIR) + "/protocols/distractor.yaml";
  const std::string protocol_text = [&] {
    std::ifstream in(protocol_path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  auto protocol = config::load_protocol_file(protocol_path);
  auto rig_config = config::load_rig_config_file(std::string(RIG_SOURCE_DIR) + "/config/rig.sim.yaml");
  auto subjects = config::load_subjects_file(std::string(RIG_SOURCE_DIR) + "/config/subjects.yaml");
  ASSERT_TRUE(protocol.ok() && rig_config.ok() && subjects.ok());

  boost::asio::io_context io;
  app::SessionConfig config;
  config.protocol = *protocol.value;
  config.protocol.limits.max_trials = kTrials;
  config.rig_config = *rig_config.value;
  config.subject = *subjects.value->find("SIM001");
  config.seed = 5;

  device::VirtualMcuOptions board_options;
  board_options.line = device::VmcuLine::kInProcess;
  board_options.seed = 5;
  device::VirtualMcu board(board_options, std::make_unique<sim::RandomChooser>(5, 0.5, 0.05));
  std::atomic<device::SimLoop*> loop{nullptr};  // made on the session's thread, before the link opens the line
  link::LinkOptions link_options;
  link_options.open_line = [&loop] { return loop.load()->line_opener()(); };
  link_options.host_nonce = 5;
  device::SerialRig rig(io, link_options);
  NullRecorder recorder(io);
  app::LiveFit live({}, 1);
  monitor::ServerOptions options;
  options.port = 0;
  options.max_queued_messages = 4;
  const auto server = monitor::MonitorServer::start(options, {}, std::make_unique<app::StatusBoard>());
  app::MonitorContext context{config.subject.id, config.protocol.name, 1000.0, 100.0,
                              [&rig] { return rig.link_stats(); }, [] { return int64_t{42}; },
                              config.rig_config.sync, config.rig_config.licks.enabled, 800.0, nullptr,
                              app::protocol_detail_json(config.protocol, protocol_path, protocol_text)};
  app::MonitorObserver view(live, context, [&server](nlohmann::json event) { server->publish(std::move(event)); });
  auto runner = app::SessionRunner::create(io, rig, config, recorder);
  runner->add_observer(&live);
  runner->add_observer(&view);

  std::promise<app::SessionEnd> ended;
  std::promise<void> clients_ready;
  std::atomic<bool> serving_done{false};
  // Joined (after a stop request) when the test ends, also when an assertion ends it early.
  std::jthread session_thread([&](std::stop_token stop) {
    device::SimLoop sim(io);
    sim.attach(&board);
    loop = &sim;
    auto ready = clients_ready.get_future();
    // The clients connect before the session starts (simulated time stands still meanwhile).
    while (!stop.stop_requested() && ready.wait_for(std::chrono::seconds(0)) != std::future_status::ready) io.poll();
    runner->start([&](const app::SessionEnd& e) { ended.set_value(e); });
    while (!stop.stop_requested() && !serving_done) sim.step();
    server->stop();
    sim.run_for(std::chrono::milliseconds(10));
    runner.reset();
  });

  WsClient stuck(server->port(), 4096);  // never reads
  WsClient reader(server->port());
  EXPECT_EQ(nlohmann::json::parse(reader.read())["type"], "status");
  clients_ready.set_value();
  bool saw_trial = false;
  while (!saw_trial) saw_trial = nlohmann::json::parse(reader.read())["type"] == "trial";
  auto end_future = ended.get_future();
  // A guard against a hang only: the session runs on simulated time, as fast as the machine allows.
  ASSERT_EQ(end_future.wait_for(std::chrono::seconds(300)), std::future_status::ready) << "the session did not finish";
  const app::SessionEnd end = end_future.get();
  EXPECT_FALSE(end.error) << end.reason;
  EXPECT_EQ(end.reason, "max_trials reached");
  ASSERT_EQ(end.trials, kTrials);
  const uint32_t trials = end.trials;
  live.wait_idle();

  const auto status = nlohmann::json::parse(http_get(server->port(), "/api/status").body);
  EXPECT_EQ(status["state"], "finished");
  EXPECT_EQ(status["session_id"], 42);
  EXPECT_EQ(status["trials"], trials);
  EXPECT_EQ(status["trial_log"].size(), trials);
  EXPECT_EQ(status["trial_log"].back()["trial_number"], trials);
  EXPECT_EQ(status["totals"]["trials"], trials);
  EXPECT_EQ(status["end"]["reason"], end.reason);
  EXPECT_EQ(status["water"]["daily_target_ul"], 1000.0);
  EXPECT_EQ(status["water"]["daily_minimum_ul"], 800.0);
  EXPECT_DOUBLE_EQ(status["water"]["owed_ul"].get<double>(), std::max(0.0, 800.0 - status["water"]["today_ul"].get<double>()));
  EXPECT_DOUBLE_EQ(status["water"]["today_ul"].get<double>(),
                   100.0 + status["water"]["session_ul"].get<double>());
  EXPECT_FALSE(status["fit"].is_null());
  EXPECT_EQ(status["fit"]["weights"].size(), 4u);
  EXPECT_FALSE(status["indices"].empty());
  // 60 trials are far too few to read the fit: the page gets the reason and gaps, not numbers.
  EXPECT_EQ(status["fit"]["estimable"], false);
  EXPECT_TRUE(status["fit"]["controllable_index"].is_null());
  EXPECT_NE(status["fit"]["reason"].get<std::string>().find("not estimable yet"), std::string::npos);
  for (const auto& point : status["indices"]) {
    EXPECT_EQ(point["estimable"], false) << point.dump();
    EXPECT_TRUE(point["controllable"].is_null()) << point.dump();
    EXPECT_TRUE(point.contains("reason")) << point.dump();
  }
  EXPECT_LE(status["wheel"]["t_ms"].size(), app::kWheelTracePoints);
  EXPECT_EQ(status["wheel"]["t_ms"].size(), status["wheel"]["position_ticks"].size());
  EXPECT_TRUE(status["link"]["counters"].contains("frames_received"));
  // config/rig.sim.yaml turns the sync output and the lick inputs on; the virtual MCU's mouse licks.
  EXPECT_EQ(status["sync"]["state"], "ok") << status["sync"].dump();
  EXPECT_GT(status["sync"]["edges"].get<int>(), 0);
  EXPECT_EQ(status["sync"]["lost"], 0);
  EXPECT_LE(status["sync"]["since_last_edge_ms"].get<double>(), status["sync"]["silent_after_ms"].get<double>());
  EXPECT_EQ(status["licks_enabled"], true);
  // The running protocol, read-only: its file's hash as the session row records it, and its effective settings.
  EXPECT_EQ(status["protocol_detail"]["name"], "distractor");
  EXPECT_EQ(status["protocol_detail"]["path"], protocol_path);
  EXPECT_EQ(status["protocol_detail"]["sha256"], store::sha256_hex(protocol_text));
  // The effective settings are those the session runs, with its trial limit in place of the file's.
  EXPECT_EQ(status["protocol_detail"]["effective_yaml"], config::effective_protocol_yaml(config.protocol));
  EXPECT_NE(status["protocol_detail"]["effective_yaml"].get<std::string>().find("max_trials: 60"), std::string::npos);
  ASSERT_FALSE(status["lick_rows"].empty());
  std::size_t licks = 0;
  int64_t previous = 0;
  for (const auto& row : status["lick_rows"]) {
    EXPECT_GT(row["trial"].get<int64_t>(), previous) << "rows in trial order, each once";
    previous = row["trial"].get<int64_t>();
    EXPECT_EQ(row["aligned_to"], row["delivered"].empty() ? "choice" : "valve") << row.dump();
    for (const char* spout : {"cherry", "grape"}) {
      for (const auto& ms : row["licks_ms"][spout]) {
        EXPECT_GE(ms.get<int>(), -1000);
        EXPECT_LE(ms.get<int>(), 3000);
        ++licks;
      }
    }
  }
  EXPECT_GT(licks, 0u);
  const int64_t last_choice = [&] {
    for (auto it = status["trial_log"].rbegin(); it != status["trial_log"].rend(); ++it) {
      if (!(*it)["choice"].is_null()) return (*it)["trial_number"].get<int64_t>();
    }
    return int64_t{0};
  }();
  EXPECT_EQ(previous, last_choice) << "the session's end hands over the rows still open";
  serving_done = true;
}

TEST(StatusBoard, KeepsTheLastLickRowsAndForgetsThemWithANewSession) {
  app::StatusBoard board;
  board.apply({{"type", "session"}, {"state", "connecting"}, {"licks_enabled", true}});
  for (std::size_t n = 1; n <= app::kStatusTrialLimit + 10; ++n) {
    board.apply({{"type", "trial"},
                 {"trial", {{"trial_number", n}}},
                 {"totals", {{"trials", n}}},
                 {"sync", {{"state", "ok"}, {"edges", n}}},
                 {"lick_rows", {{{"trial", n}, {"licks_ms", {{"cherry", {n}}, {"grape", nlohmann::json::array()}}}}}}});
  }
  auto doc = board.document();
  ASSERT_EQ(doc["lick_rows"].size(), app::kStatusTrialLimit);
  EXPECT_EQ(doc["lick_rows"].front()["trial"], 11);
  EXPECT_EQ(doc["lick_rows"].back()["trial"], app::kStatusTrialLimit + 10);
  EXPECT_EQ(doc["sync"]["edges"], app::kStatusTrialLimit + 10);
  EXPECT_EQ(doc["licks_enabled"], true);
  board.apply({{"type", "session"}, {"state", "connecting"}, {"licks_enabled", false}});
  doc = board.document();
  EXPECT_TRUE(doc["lick_rows"].empty());
  EXPECT_TRUE(doc["sync"].is_null());
  EXPECT_EQ(doc["licks_enabled"], false);
}

TEST(StatusBoard, KeepsTheLabsNewestStateAcrossSessionsAndNoneWithoutALab) {
  app::StatusBoard board;
  EXPECT_FALSE(board.document().contains("lab"));
  EXPECT_FALSE(board.apply({{"type", "lab"}, {"lab", {{"state", "unreachable"}, {"backlog_entries", 7}}}}).has_value())
      << "passed on as it is, not answered with the whole status";
  board.apply({{"type", "lab"}, {"lab", {{"state", "ok"}, {"backlog_entries", 0}}}});
  board.apply({{"type", "session"}, {"state", "connecting"}});
  const auto doc = board.document();
  EXPECT_EQ(doc["lab"]["state"], "ok");
  EXPECT_EQ(doc["lab"]["backlog_entries"], 0);
}

TEST(MonitorSession, WheelTracesAreDecimatedToTheLimit) {
  std::vector<device::WheelSamples> batches(10);
  for (int b = 0; b < 10; ++b) {
    batches[b].t0_us = 1'000'000 + b * 100'000;
    batches[b].period_us = 1000;
    for (int i = 0; i < 100; ++i) batches[b].position_ticks.push_back(b * 100 + i);
  }
  const auto trace = app::decimated_wheel(batches, 200);
  ASSERT_EQ(trace["t_ms"].size(), 200u);
  EXPECT_EQ(trace["t_ms"][0], 0.0);
  EXPECT_EQ(trace["t_ms"][1], 5.0);
  EXPECT_EQ(trace["position_ticks"][199], 995);
  EXPECT_TRUE(app::decimated_wheel({}, 200)["t_ms"].empty());
}
