// A whole session through the runner: engine -> Rig -> virtual MCU -> simulated mouse -> results -> recorder,
// in order, before the next trial; on simulated time (device::SimLoop), so the session depends only on its
// seeds.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

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
  void event(const std::string& kind, int64_t, const std::string& detail_json) override {
    events.push_back(kind);
    event_details.push_back(detail_json);
  }
  void end(const app::SessionEnd& e, std::function<void()> done) override {
    ended = e;
    boost::asio::post(io_, done);
  }

  std::optional<app::SessionStartInfo> started;
  std::vector<app::CompletedTrial> trials;
  std::vector<std::string> events;
  std::vector<std::string> event_details;
  std::optional<app::SessionEnd> ended;

 private:
  boost::asio::io_context& io_;
};

// A rig whose results can go missing between the link and the session: every call goes to the real rig, but
// the result of the trial the test names is dropped after the link has taken (and acknowledged) it. The
// fault stands for any loss the link cannot see, so that the runner's own check is what is tested.
class ResultLosingRig : public device::Rig {
 public:
  ResultLosingRig(device::Rig& inner, uint32_t lose_nth_result) : inner_(inner), lose_nth_(lose_nth_result) {}
  void start(device::RigEvents events) override {
    auto on_result = std::move(events.on_trial_result);
    events.on_trial_result = [this, on_result](const wire::TrialResult& r, const device::TrialTimes& t) {
      if (++seen_ == lose_nth_) return;
      on_result(r, t);
    };
    inner_.start(std::move(events));
  }
  void stop() override { inner_.stop(); }
  void arm_trial(const wire::ArmTrial& t, device::CommandDone d) override { inner_.arm_trial(t, std::move(d)); }
  void abort_trial(uint32_t id, device::CommandDone d) override { inner_.abort_trial(id, std::move(d)); }
  void pulse_valve(const wire::PulseValve& p, device::CommandDone d) override { inner_.pulse_valve(p, std::move(d)); }
  void set_wheel_stream(uint16_t period_us, uint8_t per_batch, device::CommandDone d) override {
    inner_.set_wheel_stream(period_us, per_batch, std::move(d));
  }
  void set_safety(const wire::SetSafety& l, device::CommandDone d) override { inner_.set_safety(l, std::move(d)); }
  void clear_faults(uint16_t mask, device::CommandDone d) override { inner_.clear_faults(mask, std::move(d)); }
  void set_sync(const wire::SetSync& s, device::CommandDone d) override { inner_.set_sync(s, std::move(d)); }
  void set_camera(const wire::SetCamera& c, device::CommandDone d) override { inner_.set_camera(c, std::move(d)); }
  void set_licks(const wire::SetLicks& l, device::CommandDone d) override { inner_.set_licks(l, std::move(d)); }
  bool connected() const override { return inner_.connected(); }
  const device::DeviceInfo& device() const override { return inner_.device(); }
  device::LinkStats link_stats() const override { return inner_.link_stats(); }

 private:
  device::Rig& inner_;
  uint32_t lose_nth_;
  uint32_t seen_ = 0;
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

// A session on the distractor protocol with a random mouse on a virtual MCU (seeded by `seed`), through a
// SerialRig, on simulated time.
struct SimulatedSession {
  SimulatedSession(uint32_t seed, uint32_t max_trials) : loop(io), board(board_options(seed), mouse(seed)) {
    loop.attach(&board);
    link::LinkOptions link_options;
    link_options.open_line = loop.line_opener();
    link_options.host_nonce = seed;
    serial = std::make_unique<device::SerialRig>(io, link_options);
    Loaded l = load("distractor.yaml");
    l.protocol.limits.max_trials = max_trials;
    config.protocol = l.protocol;
    config.rig_config = l.rig;
    config.subject = l.subject;
  }
  static device::VirtualMcuOptions board_options(uint32_t seed) {
    device::VirtualMcuOptions options;
    options.line = device::VmcuLine::kInProcess;
    options.seed = seed;
    return options;
  }
  static std::unique_ptr<sim::Chooser> mouse(uint32_t seed) { return std::make_unique<sim::RandomChooser>(seed, 0.5, 0.05); }

  // Runs the session through `rig` (the serial rig when null) to its end, for at most 10 simulated minutes.
  std::optional<app::SessionEnd> run(device::Rig* rig = nullptr) {
    auto runner = app::SessionRunner::create(io, rig ? *rig : *serial, config, recorder);
    std::optional<app::SessionEnd> end;
    runner->start([&](const app::SessionEnd& e) { end = e; });
    loop.run_until([&] { return end.has_value(); }, std::chrono::minutes(10));
    return end;
  }

  boost::asio::io_context io;
  device::SimLoop loop;
  device::VirtualMcu board;
  std::unique_ptr<device::SerialRig> serial;
  MemoryRecorder recorder{io};
  app::SessionConfig config;
};

}  // namespace

TEST(SessionRunner, RunsTrialsToTheLimitAndRecordsEachBeforeTheNext) {
  SimulatedSession session(3, 40);
  session.config.seed = 11;
  const auto end = session.run();
  ASSERT_TRUE(end.has_value()) << "the session did not finish";
  const MemoryRecorder& recorder = session.recorder;
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

// A result lost where nothing else notices (the device sent it, the link took it): the device's next status
// shows it idle with nothing queued, so the runner records the trial as aborted by the host, says why in a
// trial_lost event, and goes on; before, it waited for that result forever (seen in CI: a session that
// stopped after 4 trials with its link alive).
TEST(SessionRunner, AnArmedTrialTheDeviceNoLongerRunsIsRecordedLostAndTheSessionGoesOn) {
  SimulatedSession session(5, 12);
  session.config.seed = 5;
  ResultLosingRig rig(*session.serial, 5);
  const auto end = session.run(&rig);
  ASSERT_TRUE(end.has_value()) << "the session waited for the lost result";
  const MemoryRecorder& recorder = session.recorder;
  EXPECT_FALSE(end->error) << end->reason;
  ASSERT_EQ(recorder.trials.size(), 12u);
  for (size_t i = 0; i < recorder.trials.size(); ++i) {
    EXPECT_EQ(recorder.trials[i].record.trial_number, i + 1);
    EXPECT_EQ(recorder.trials[i].synthesized, i == 4) << "trial " << i + 1;
  }
  EXPECT_EQ(recorder.trials[4].record.outcome, wire::TrialOutcome::kAborted);
  const auto lost = std::find(recorder.events.begin(), recorder.events.end(), "trial_lost");
  ASSERT_NE(lost, recorder.events.end());
  EXPECT_EQ(std::count(recorder.events.begin(), recorder.events.end(), "trial_lost"), 1);
  const auto detail = nlohmann::json::parse(recorder.event_details[static_cast<size_t>(lost - recorder.events.begin())]);
  EXPECT_EQ(detail["trial"], 5);
  EXPECT_EQ(detail["cause"], "device_idle");
  EXPECT_EQ(detail["device_armed_trial_id"], 0);
}
