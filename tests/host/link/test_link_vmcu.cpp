// Hundreds of armed trials through the virtual MCU over a real pty: every result arrives once, in order.
#include <gtest/gtest.h>

#include "vmcu_session.hpp"

using rig::test::VmcuSession;

TEST(LinkVmcu, ThreeHundredTrialsArriveExactlyOnceInOrder) {
  VmcuSession s;
  for (uint32_t id = 1; id <= 300; ++id) ASSERT_TRUE(s.run_trial(id)) << "no result for trial " << id;
  s.expect_exactly_once_in_order(1, 300);
  int choices = 0;
  for (const auto& r : s.results) choices += r.outcome <= 1;
  EXPECT_GT(choices, 200);  // the mouse misses about 10 %
  const auto stats = s.rig_->link_stats();
  // No faults are injected, but a test machine that stalls the host for tens of ms lets the pty buffer fill
  // at 25x and the virtual board drops what does not fit (as a USB-serial adapter would): a few damaged frames
  // are allowed; what matters is that every result arrived exactly once.
  EXPECT_LE(stats.dropped_total, 20u);
  EXPECT_EQ(stats.device_resets, 0u);
  for (const auto& [id, statuses] : s.acks) EXPECT_EQ(statuses.front(), rig::wire::AckStatus::kOk) << id;
}

TEST(LinkVmcu, HandshakeDescribesTheVirtualBoard) {
  VmcuSession s(42);
  const auto& device = s.rig_->device();
  EXPECT_EQ(device.hal_kind, rig::wire::HalKind::kSimulated);
  EXPECT_EQ(device.boot_id, 42u);
  EXPECT_EQ(device.encoder_ticks_per_rev, 4096);
  EXPECT_EQ(device.firmware_build_id.rfind("rig-sim-", 0), 0u);
}
