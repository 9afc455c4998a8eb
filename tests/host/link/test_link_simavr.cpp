// The host link against the real firmware in simavr, over a real pseudo-terminal.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "child_process.hpp"
#include "serial_rig.hpp"

using namespace rig;
using namespace std::chrono_literals;

namespace {

template <typename Done>
bool run_until(boost::asio::io_context& io, Done done, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < end) io.run_for(10ms);
  return done();
}

class LinkSimavr : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::temp_dir("simavr");
    pty_file_ = (dir_ / "pty").string();
    ::setenv("LSAN_OPTIONS", "suppressions=" RIG_LSAN_SUPPRESSIONS, 1);  // simavr's own leaks at exit
    child_ = std::make_unique<test::ChildProcess>(std::vector<std::string>{
        RIG_SIMAVR, "--elf", RIG_SIMAVR_ELF, "serve", "--pty-file", pty_file_, "--speed", "1"});
    test::wait_for_path_file(pty_file_);
  }
  void TearDown() override {
    child_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::string pty_file_;
  std::unique_ptr<test::ChildProcess> child_;
};

}  // namespace

TEST_F(LinkSimavr, HandshakeRecordsTheFirmwareAndItsPins) {
  boost::asio::io_context io;
  link::LinkOptions options;
  options.port_path_file = pty_file_;
  device::SerialRig rig(io, options);
  std::optional<device::DeviceInfo> info;
  device::RigEvents events;
  events.on_device = [&](const device::DeviceInfo& d, bool) { info = d; };
  rig.start(events);
  ASSERT_TRUE(run_until(io, [&] { return info.has_value(); }, 10s));
  EXPECT_EQ(info->hal_kind, wire::HalKind::kSimavr);
  EXPECT_EQ(info->firmware_build_id.rfind("rig-", 0), 0u);
  EXPECT_EQ(info->encoder_ticks_per_rev, 4096);
  EXPECT_EQ(info->pin_valve_cherry, 11);
  EXPECT_EQ(info->heartbeat_timeout_ms, 250);
  rig.stop();
}

TEST_F(LinkSimavr, ArmedTrialsReportEachResultOnceInOrder) {
  boost::asio::io_context io;
  link::LinkOptions options;
  options.port_path_file = pty_file_;
  device::SerialRig rig(io, options);
  std::vector<uint32_t> results;
  int acked = 0;
  device::RigEvents events;
  events.on_trial_result = [&](const wire::TrialResult& r, const device::TrialTimes& times) {
    results.push_back(r.trial_id);
    EXPECT_EQ(r.outcome, static_cast<uint8_t>(wire::TrialOutcome::kMiss));
    EXPECT_GT(times.go_cue_us, times.armed_us);
  };
  rig.start(events);
  ASSERT_TRUE(run_until(io, [&] { return rig.connected(); }, 10s));
  for (uint32_t id = 1; id <= 5; ++id) {
    wire::ArmTrial t{};
    t.trial_id = id;
    t.quiescence_us = 10000;
    t.quiescence_tolerance_ticks = 4;
    t.response_window_us = 50000;
    t.threshold_left_ticks = t.threshold_right_ticks = 100;
    t.cue_duration_us = 10000;
    rig.arm_trial(t, [&](const device::CommandResult& r) { acked += r.acknowledged && r.status == wire::AckStatus::kOk; });
    ASSERT_TRUE(run_until(io, [&] { return results.size() == id; }, 5s)) << "trial " << id;
  }
  EXPECT_EQ(acked, 5);
  EXPECT_EQ(results, (std::vector<uint32_t>{1, 2, 3, 4, 5}));
  const auto stats = rig.link_stats();
  EXPECT_EQ(stats.dropped_total, 0u);
  rig.stop();
}
