#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "host/task/random_stream.hpp"

namespace rig::task {
namespace {

TEST(RandomStream, KnownSplitMix64OutputForSeedZero) {
  // Reference values of SplitMix64 from seed 0 (Vigna's splitmix64.c).
  RandomStream stream(0);
  EXPECT_EQ(stream.next_u64(), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(stream.next_u64(), 0x6E789E6AA1B965F4ULL);
  EXPECT_EQ(stream.next_u64(), 0x06C45D188009454FULL);
  EXPECT_EQ(stream.draws(), 3u);
}

TEST(RandomStream, RestoredStreamContinuesExactly) {
  RandomStream original(12345);
  for (int i = 0; i < 17; ++i) original.next_u64();
  RandomStream resumed = RandomStream::restore(original.state(), original.draws());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(resumed.next_u64(), original.next_u64());
  EXPECT_EQ(resumed.draws(), original.draws());
}

TEST(RandomStream, UniformIsInUnitIntervalWithMeanHalf) {
  RandomStream stream(7);
  double sum = 0.0;
  constexpr int kDraws = 100000;
  for (int i = 0; i < kDraws; ++i) {
    const double u = stream.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  // Standard error of the mean is 0.29 / sqrt(1e5) = 0.0009; allow about 6 of them.
  EXPECT_NEAR(sum / kDraws, 0.5, 0.005);
}

TEST(RandomStream, BernoulliExtremesAreCertain) {
  RandomStream stream(9);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_TRUE(stream.bernoulli(1.0));
    EXPECT_FALSE(stream.bernoulli(0.0));
  }
}

TEST(RandomStream, UniformIntCoversRangeEvenly) {
  RandomStream stream(11);
  std::vector<int> counts(5, 0);
  constexpr int kDraws = 50000;
  for (int i = 0; i < kDraws; ++i) {
    const auto value = stream.uniform_int(10, 14);
    ASSERT_GE(value, 10u);
    ASSERT_LE(value, 14u);
    ++counts[value - 10];
  }
  // Each count is binomial(50000, 0.2): sd 89; 6 sd = 535.
  for (const int count : counts) EXPECT_NEAR(count, kDraws / 5, 535);
}

}  // namespace
}  // namespace rig::task
