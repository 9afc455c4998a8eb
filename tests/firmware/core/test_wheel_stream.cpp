#include <gtest/gtest.h>

#include "firmware/core/wheel_stream.hpp"

using rig::core::WheelStream;

TEST(WheelStream, BatchesSamplesAtTheConfiguredPeriod) {
  WheelStream s;
  ASSERT_TRUE(s.configure(1000, 5, 100));
  rig::wire::WheelBatch b{};
  int batches = 0;
  for (uint32_t t = 100; t <= 10100; t += 100) {
    if (s.poll(t, static_cast<int32_t>(t / 100), &b)) {
      ++batches;
      EXPECT_EQ(b.count, 5);
      EXPECT_EQ(b.period_us, 1000);
      EXPECT_EQ(b.t0_us, 100u + (batches - 1) * 5000u);
      EXPECT_EQ(b.position0_ticks, static_cast<int32_t>(b.t0_us / 100));
      for (int i = 0; i < 4; ++i) EXPECT_EQ(b.delta_ticks[i], 10);
      EXPECT_EQ(b.batch_seq, batches - 1);
    }
  }
  EXPECT_EQ(batches, 2);
}

TEST(WheelStream, RejectsOutOfRangeSettingsAndKeepsTheOldOnes) {
  WheelStream s;
  ASSERT_TRUE(s.configure(1000, 20, 0));
  EXPECT_FALSE(s.configure(10, 20, 0));
  EXPECT_FALSE(s.configure(1000, 0, 0));
  EXPECT_FALSE(s.configure(1000, 21, 0));
  EXPECT_EQ(s.period_us(), 1000);
  EXPECT_TRUE(s.configure(0, 0, 0));  // off
  rig::wire::WheelBatch b{};
  EXPECT_FALSE(s.poll(100000, 0, &b));
}

TEST(WheelStream, SkipsAndCountsSamplesWhenFarBehind) {
  WheelStream s;
  ASSERT_TRUE(s.configure(1000, 4, 0));
  rig::wire::WheelBatch b{};
  EXPECT_FALSE(s.poll(0, 0, &b));
  EXPECT_TRUE(s.poll(50000, 7, &b));  // 50 periods late: the partial batch goes out
  EXPECT_EQ(b.count, 1);
  EXPECT_GE(s.skipped_samples(), 40u);
}
