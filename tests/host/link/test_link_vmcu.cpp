// Hundreds of armed trials through the virtual MCU: every result arrives once, in order; on simulated time (the
// outcome depends only on the seeds) and over a real pty at 25x (what `rig run --device sim` does).
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "pty_endpoint.hpp"
#include "serial_port.hpp"

#include "vmcu_session.hpp"

using rig::test::BoardLine;
using rig::test::VmcuSession;

TEST(LinkVmcu, ThreeHundredTrialsArriveExactlyOnceInOrder) {
  VmcuSession s;
  for (uint32_t id = 1; id <= 300; ++id) ASSERT_TRUE(s.run_trial(id)) << "no result for trial " << id;
  s.expect_exactly_once_in_order(1, 300);
  int choices = 0;
  for (const auto& r : s.results) choices += r.outcome <= 1;
  EXPECT_GT(choices, 200);  // the mouse misses about 10 %
  const auto stats = s.rig_->link_stats();
  // No faults are injected and nothing waits on the wall clock: not one frame is damaged or sent twice.
  EXPECT_EQ(stats.dropped_total, 0u);
  EXPECT_EQ(stats.retransmitted, 0u);
  EXPECT_EQ(stats.device_resets, 0u);
  for (const auto& [id, statuses] : s.acks) EXPECT_EQ(statuses.front(), rig::wire::AckStatus::kOk) << id;
}

// The same seeds give the same session, byte for byte: the simulated line does not depend on the machine.
TEST(LinkVmcu, TheSameSeedsGiveTheSameTrialsAtTheSameSimulatedTimes) {
  std::vector<std::vector<rig::wire::TrialResult>> runs;
  std::vector<std::chrono::microseconds> elapsed;
  for (int run = 0; run < 2; ++run) {
    VmcuSession s;
    for (uint32_t id = 1; id <= 30; ++id) ASSERT_TRUE(s.run_trial(id)) << "run " << run << " trial " << id;
    runs.push_back(s.results);
    elapsed.push_back(s.elapsed());
  }
  ASSERT_EQ(runs[0].size(), runs[1].size());
  for (size_t i = 0; i < runs[0].size(); ++i) {
    EXPECT_EQ(std::memcmp(&runs[0][i], &runs[1][i], sizeof(rig::wire::TrialResult)), 0) << "trial " << i + 1;
  }
  EXPECT_EQ(elapsed[0], elapsed[1]);
}

// Over a real pty, in wall time at 25x: every result once and in order. (How many frames a loaded machine lets
// the pty drop is not asserted: that depends on the machine.)
TEST(LinkVmcu, AHundredTrialsOverARealPtyArriveExactlyOnceInOrder) {
  VmcuSession s(7, BoardLine::kPty);
  for (uint32_t id = 1; id <= 100; ++id) ASSERT_TRUE(s.run_trial(id)) << "no result for trial " << id;
  s.expect_exactly_once_in_order(1, 100);
  EXPECT_EQ(s.rig_->link_stats().device_resets, 0u);
}

TEST(LinkVmcu, HandshakeDescribesTheVirtualBoard) {
  VmcuSession s(42);
  const auto& device = s.rig_->device();
  EXPECT_EQ(device.hal_kind, rig::wire::HalKind::kSimulated);
  EXPECT_EQ(device.boot_id, 42u);
  EXPECT_EQ(device.encoder_ticks_per_rev, 4096);
  EXPECT_EQ(device.firmware_build_id.rfind("rig-sim-", 0), 0u);
}

// A host that held a pty keeps its number while the simulator behind it is gone: a new pty never gets that
// number (else the host, reconnecting by path, would open a stranger's pty and read its host's bytes: in CI
// one test's session stalled while another test's host, whose simulator it had killed, read its line), and
// opening the dead one's path fails. Released, the number is free again.
TEST(PtyHold, AHeldPtysNumberIsNotGivenToTheNextPty) {
  std::string dead_path;
  rig::link::PtyHold hold;
  {
    rig::device::PtyEndpoint simulator;
    dead_path = simulator.path();
    auto host_port = rig::link::open_port(dead_path);
    hold.hold(dead_path);
  }
  std::vector<std::unique_ptr<rig::device::PtyEndpoint>> later;
  for (int i = 0; i < 8; ++i) {
    later.push_back(std::make_unique<rig::device::PtyEndpoint>());
    EXPECT_NE(later.back()->path(), dead_path) << "pty " << i << " got the held number";
  }
  EXPECT_THROW(rig::link::open_port(dead_path), std::runtime_error);
  hold.release();
}
