// A whole session through the runner: engine -> Rig -> virtual MCU -> simulated mouse -> results -> recorder,
// in order, before the next trial; on simulated time (device::SimLoop), so the session depends only on its
// seeds.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "host/config/subjects_file.hpp"
#include "host/config/rig_config_file.hpp"
#include "host/config/protocol_file.hpp"
#include "host/task/protocol.hpp"
#include "host/task/rig_config.hpp"
#include "host/task/subject.hpp"
#include "serial_rig.hpp"
#include "session_runner.hpp"
#include "vmcu/sim_loop.hpp"
#include "vmcu/virtual_mcu.hpp"

using namespace rig;

namespace {

// Records in memory, completing on the io thread like the store's worker would.
class MemoryRecorder : public app::SessionRecorder {
 public:
  explicit MemoryRecorder(boost::asio::io_context& io) : io_(io) {}
  void begin(const app::SessionStartInfo& info, std::function<void(std::optional<std::string>)> done) override {
    started = info;
    boost::asio::post(io_, [done] { done(std::nullopt); });
  }
  void commit(const app::CompletedTrial& trial, std::function<void(std::optional<std::string>)> done) override {
    trials.push_back(trial);
    boost::asio::post(io_, [done] { done(std::nullopt); });
  }
  void event(const std::string& kind, int64_t, const std::string&) override { events.push_back(kind); }
  void end(const app::SessionEnd& e, std::function<void()> done) override {
    ended = e;
    boost::asio::post(io_, done);
  }

  std::optional<app::SessionStartInfo> started;
  std::vector<app::CompletedTrial> trials;
  std::vector<std::string> events;
  std::optional<app::SessionEnd> ended;

 private:
  boost::asio::io_context& io_;
};

struct Loaded {
  task::Protocol protocol;
  task::RigConfig rig;
  task::Subject subject;
};

Loaded load(const std::string& protocol_file) {
  Loaded out;
  auto p = config::load_protocol_file(std::string(RIG_SOURCE_DIR) + "/protocols/" + protocol_file);
  auto r = config::load_rig_config_file(std::string(RIG_SOURCE_DIR) + "/config/rig.sim.yaml");
  auto s = config::load_subjects_file(std::string(RIG_SOURCE_DIR) + "/config/subjects.yaml");
  EXPECT_TRUE(p.ok() && r.ok() && s.ok());
  out.protocol = *p.value;
  out.rig = *r.value;
  out.subject = *s.value->find("SIM001");
  return out;
}

}  // namespace

TEST(SessionRunner, RunsTrialsToTheLimitAndRecordsEachBeforeTheNext) {
  boost::asio::io_context io;
  device::SimLoop loop(io);
  Loaded l = load("distractor.yaml");
  l.protocol.limits.max_trials = 40;
  device::VirtualMcuOptions board_options;
  board_options.line = device::VmcuLine::kInProcess;
  board_options.seed = 3;
  device::VirtualMcu board(board_options, std::make_unique<sim::RandomChooser>(3, 0.5, 0.05));
  loop.attach(&board);
  link::LinkOptions link_options;
  link_options.open_line = loop.line_opener();
  link_options.host_nonce = 3;
  device::SerialRig rig(io, link_options);
  MemoryRecorder recorder(io);
  app::SessionConfig config;
  config.protocol = l.protocol;
  config.rig_config = l.rig;
  config.subject = l.subject;
  config.seed = 11;
  auto runner = app::SessionRunner::create(io, rig, config, recorder);
  std::optional<app::SessionEnd> end;
  runner->start([&](const app::SessionEnd& e) { end = e; });
  ASSERT_TRUE(loop.run_until([&] { return end.has_value(); }, std::chrono::minutes(10))) << "the session did not finish";
  EXPECT_FALSE(end->error) << end->reason;
  EXPECT_EQ(end->reason, "max_trials reached");
  ASSERT_EQ(recorder.trials.size(), 40u);
  for (size_t i = 0; i < recorder.trials.size(); ++i) {
    const auto& t = recorder.trials[i];
    EXPECT_EQ(t.record.trial_number, i + 1);
    EXPECT_EQ(t.state_after.trials_done, i + 1);
    if (t.record.choice) {
      const auto side = *t.record.choice;
      EXPECT_EQ(t.record.delivered_cherry_open_us, model::planned_open_us(t.record, side, wire::Valve::kCherry));
      EXPECT_EQ(t.record.delivered_grape_open_us, model::planned_open_us(t.record, side, wire::Valve::kGrape));
      EXPECT_FALSE(t.wheel.empty()) << "trial " << t.record.trial_number << " has no wheel trace";
    }
  }
  EXPECT_EQ(end->trials, 40u);
  EXPECT_GT(end->choices, 30u);
  ASSERT_TRUE(recorder.ended.has_value());
}
