// The link under faults: corruption, garbage, delayed acknowledgements, a reopened port, a restarted MCU, a
// silent device. Nothing lost, nothing duplicated, no valve the trial did not call for, the fault reported.
#include <gtest/gtest.h>

#include "vmcu_session.hpp"

using rig::device::LineDirection;
using rig::test::VmcuSession;
using namespace std::chrono_literals;

namespace {

// Runs `trials` trials with every byte in both directions given a flipped bit with `probability`: every
// result arrives exactly once and in order, every trial is armed once, deliveries are what the trials
// planned; the corruption happened and the CRC caught it.
void expect_lossless_under_corruption(double probability, uint32_t trials) {
  VmcuSession s;
  s.vmcu_->inject_corruption(LineDirection::kToHost, probability);
  s.vmcu_->inject_corruption(LineDirection::kToDevice, probability);
  for (uint32_t id = 1; id <= trials; ++id) ASSERT_TRUE(s.run_trial(id)) << "trial " << id;
  s.expect_exactly_once_in_order(1, trials);
  EXPECT_GT(s.vmcu_->counters().bytes_corrupted, 0u);
  EXPECT_GT(s.rig_->link_stats().dropped_total, 0u);
}

}  // namespace

TEST(LinkFaults, ByteCorruptionAtOnePerTenThousandLosesNothing) { expect_lossless_under_corruption(1e-4, 100); }

TEST(LinkFaults, ByteCorruptionAtOnePerThousandLosesNothing) { expect_lossless_under_corruption(1e-3, 120); }

// One frame in three or so is damaged: commands, acknowledgements and events are all repeated many times.
TEST(LinkFaults, ByteCorruptionAtOnePerHundredLosesNothing) { expect_lossless_under_corruption(1e-2, 80); }

TEST(LinkFaults, GarbageBurstsAreDroppedAndTheSessionGoesOn) {
  VmcuSession s;
  for (uint32_t id = 1; id <= 40; ++id) {
    if (id % 8 == 0) {
      s.vmcu_->inject_garbage(LineDirection::kToHost, 300);
      s.vmcu_->inject_garbage(LineDirection::kToDevice, 300);
    }
    ASSERT_TRUE(s.run_trial(id)) << "trial " << id;
  }
  s.expect_exactly_once_in_order(1, 40);
  EXPECT_GT(s.rig_->link_stats().dropped_total, 0u);
}

TEST(LinkFaults, DelayedAcknowledgementsAreRetransmittedButExecutedOnce) {
  VmcuSession s;
  s.vmcu_->delay_device_output(250000);  // longer than the host's retransmission timeout
  for (uint32_t id = 1; id <= 20; ++id) ASSERT_TRUE(s.run_trial(id)) << "trial " << id;
  s.expect_exactly_once_in_order(1, 20);
  EXPECT_GT(s.rig_->link_stats().retransmitted, 0u);
}

TEST(LinkFaults, PortClosedAndReopenedMidTrialReplaysEvents) {
  VmcuSession s;
  for (uint32_t id = 1; id <= 30; ++id) {
    s.rig_->arm_trial(rig::test::session_trial(id));
    // Drop the connection while the trial runs (at several phases of it: 75 to 475 ms after arming).
    s.run_until([] { return false; }, std::chrono::milliseconds(25 * (3 + id % 17)));
    s.rig_->drop_connection("test: port closed");
    ASSERT_TRUE(s.run_until([&] { return s.has_result(id); }, 20s)) << "trial " << id;
  }
  s.expect_exactly_once_in_order(1, 30);
  const auto stats = s.rig_->link_stats();
  // A drop that lands while the link is still reconnecting from the previous one adds no reconnect.
  EXPECT_GE(stats.reconnects, 20u);
  EXPECT_EQ(stats.device_resets, 0u);
}

TEST(LinkFaults, RestartedMcuIsReportedAsAResetAndTheLinkRecovers) {
  VmcuSession s(1);
  ASSERT_TRUE(s.run_trial(1));
  s.rig_->arm_trial(rig::test::session_trial(2));
  s.run_until([] { return false; }, 125ms);
  s.kill_device();  // mid-trial
  ASSERT_TRUE(s.run_until([&] { return !s.rig_->connected(); }, 5s)) << "the loss was not noticed";
  s.start_device(2);  // a new boot id on the same line
  ASSERT_TRUE(s.run_until([&] { return s.rig_->connected() && s.resets == 1; }, 10s));
  EXPECT_EQ(s.rig_->link_stats().device_resets, 1u);
  EXPECT_FALSE(s.has_result(2)) << "a trial of the dead MCU cannot have a result";
  for (uint32_t id = 3; id <= 10; ++id) ASSERT_TRUE(s.run_trial(id)) << "trial " << id;
  std::vector<uint32_t> ids;
  for (const auto& r : s.results) ids.push_back(r.trial_id);
  EXPECT_EQ(ids, (std::vector<uint32_t>{1, 3, 4, 5, 6, 7, 8, 9, 10}));
}

TEST(LinkFaults, SilentDeviceIsReportedWithinAHeartbeatPeriod) {
  VmcuSession s;
  ASSERT_TRUE(s.run_trial(1));
  const size_t before = s.statuses.size();
  s.vmcu_->stop();  // the line stays open, but nothing comes from it any more
  const auto t0 = s.elapsed();
  ASSERT_TRUE(s.run_until([&] { return !s.rig_->connected(); }, 5s));
  // 150 ms of silence (counted from the last frame, at most one 100 ms status period before the stop), noticed
  // at a 50 ms heartbeat tick: within 200 ms of simulated time of the stop.
  const auto noticed_after = s.elapsed() - t0;
  EXPECT_LE(noticed_after, 200ms + 250us) << noticed_after.count() << " us";
  ASSERT_GT(s.statuses.size(), before);
  EXPECT_NE(s.statuses.back().reason.find("silent"), std::string::npos) << s.statuses.back().reason;
}
