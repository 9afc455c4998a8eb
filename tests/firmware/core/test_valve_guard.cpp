#include <gtest/gtest.h>

#include "firmware/core/valve_guard.hpp"

using rig::core::ValveGuard;
using rig::core::SafetyLimits;

TEST(ValveGuard, ClampsToMaxOpenTime) {
  ValveGuard g;
  EXPECT_EQ(g.grant(0, 900000, 0), rig::core::kHardMaxOpenUs);
  EXPECT_EQ(g.grant(0, 1000, 0), 1000u);
}

TEST(ValveGuard, LimitsOpenTimePerSecondWindow) {
  ValveGuard g;
  SafetyLimits l;
  l.max_open_us = 100000;
  l.max_open_us_per_s = 250000;
  g.set_limits(l);
  g.record(0, 0, 100000);
  g.record(0, 200000, 100000);
  EXPECT_EQ(g.grant(0, 100000, 400000), 50000u);   // 200 ms used in the window
  EXPECT_EQ(g.grant(1, 100000, 400000), 100000u);  // the other valve is independent
  EXPECT_EQ(g.grant(0, 100000, 1000001), 100000u); // the first pulse left the window
}

TEST(ValveGuard, GrantsNothingWhenTheWindowIsFull) {
  ValveGuard g;
  SafetyLimits l;
  l.max_open_us = 500000;
  l.max_open_us_per_s = 500000;
  g.set_limits(l);
  g.record(1, 10, 500000);
  EXPECT_EQ(g.grant(1, 1, 20), 0u);
}

TEST(ValveGuard, ManyShortPulsesNeverExceedTheWindowLimit) {
  ValveGuard g;
  SafetyLimits l;
  l.max_open_us = 50000;
  l.max_open_us_per_s = 200000;
  g.set_limits(l);
  // Pulses every 10 ms, as many as the guard allows; check every 1 s window by brute force.
  std::vector<std::pair<uint32_t, uint32_t>> pulses;
  for (uint32_t t = 0; t < 5000000; t += 10000) {
    const uint32_t granted = g.grant(0, 20000, t);
    if (granted > 0) {
      g.record(0, t, granted);
      pulses.push_back({t, granted});
    }
  }
  ASSERT_GT(pulses.size(), 20u);
  for (const auto& [start, _] : pulses) {
    uint64_t sum = 0;
    for (const auto& [s, d] : pulses) {
      if (s >= start && s < start + 1000000) sum += d;
    }
    EXPECT_LE(sum, 200000u) << "window starting at " << start;
  }
}

TEST(ValveGuard, WindowWorksAcrossClockWrap) {
  ValveGuard g;
  SafetyLimits l;
  l.max_open_us_per_s = 300000;
  g.set_limits(l);
  g.record(0, 0xFFFF0000u, 200000);
  EXPECT_EQ(g.grant(0, 200000, 0x00001000u), 100000u);
}

TEST(ValveGuard, CommandedLimitsCannotExceedHardLimits) {
  SafetyLimits requested;
  requested.max_open_us = 10000000;
  requested.max_open_us_per_s = 10000000;
  requested.heartbeat_timeout_ms = 0;
  bool clamped = false;
  const SafetyLimits out = rig::core::clamp_limits(requested, &clamped);
  EXPECT_TRUE(clamped);
  EXPECT_EQ(out.max_open_us, rig::core::kHardMaxOpenUs);
  EXPECT_EQ(out.max_open_us_per_s, rig::core::kHardMaxOpenUsPerS);
  EXPECT_EQ(out.heartbeat_timeout_ms, rig::core::kMinHeartbeatTimeoutMs);
}
