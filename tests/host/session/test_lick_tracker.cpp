// TrialLickTracker: a trial's lick counts, first-lick latencies and consumption verdicts, known once the next
// trial is armed and the consumption window has passed.
#include <gtest/gtest.h>

#include "host/session/lick_tracker.hpp"

namespace rig::app {
namespace {

model::LickRecord lick(wire::Valve spout, std::int64_t device_us, std::uint32_t trial, bool onset = true) {
  return model::LickRecord{0, spout, onset, device_us, trial};
}

constexpr auto kCherry = wire::Valve::kCherry;
constexpr auto kGrape = wire::Valve::kGrape;

TEST(TrialLickTracker, CountsOnsetsPerSpoutAndJudgesEachDeliveryByItsWindow) {
  TrialLickTracker tracker(1'000'000);
  tracker.on_armed(1);
  tracker.on_lick(lick(kGrape, 500'000, 1));              // before the delivery: counted, not a consumption
  tracker.on_result(1, 2'000'000, {true, true});          // both flavours delivered at 2 s
  tracker.on_lick(lick(kCherry, 2'180'000, 1));           // first cherry lick 180 ms after the valves
  tracker.on_lick(lick(kCherry, 2'220'000, 1, false));    // offsets do not count
  tracker.on_lick(lick(kCherry, 2'320'000, 1));
  EXPECT_TRUE(tracker.take_final(5'000'000).empty()) << "trial 1 counts until trial 2 is armed";
  tracker.on_armed(2);
  tracker.on_lick(lick(kCherry, 2'900'000, 2));           // trial 2's, but still inside trial 1's cherry window
  EXPECT_TRUE(tracker.take_final(2'950'000).empty()) << "trial 1's window is open until 3 s";
  const auto done = tracker.take_final(3'000'001);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].trial_number, 1u);
  EXPECT_EQ(done[0].licks, (std::array<std::uint32_t, 2>{2, 1}));
  EXPECT_EQ(done[0].first_lick_latency_us[0], 180'000);
  EXPECT_EQ(done[0].consumed[0], true);
  EXPECT_FALSE(done[0].first_lick_latency_us[1]) << "the grape lick came before the delivery";
  EXPECT_EQ(done[0].consumed[1], false);
}

TEST(TrialLickTracker, ATrialWithoutDeliveryHasCountsAndNoVerdict) {
  TrialLickTracker tracker(1'000'000);
  tracker.on_armed(1);
  tracker.on_lick(lick(kGrape, 100, 1));
  tracker.on_result(1, std::nullopt, {false, false});
  tracker.on_armed(2);
  const auto done = tracker.take_final(200);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].licks, (std::array<std::uint32_t, 2>{0, 1}));
  EXPECT_FALSE(done[0].consumed[0]);
  EXPECT_FALSE(done[0].consumed[1]);
}

TEST(TrialLickTracker, AtTheEndEveryTrialWithAResultIsFinalInOrder) {
  TrialLickTracker tracker(1'000'000);
  tracker.on_armed(1);
  tracker.on_result(1, 1'000, {false, true});
  tracker.on_armed(2);
  tracker.on_result(2, 5'000'000, {true, false});
  tracker.on_lick(lick(kCherry, 5'400'000, 2));
  const auto done = tracker.take_final(5'500'000, true);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].trial_number, 1u);
  EXPECT_EQ(done[0].consumed[1], false);
  EXPECT_EQ(done[1].trial_number, 2u);
  EXPECT_EQ(done[1].consumed[0], true);
  EXPECT_EQ(done[1].first_lick_latency_us[0], 400'000);
  EXPECT_TRUE(tracker.take_final(9'000'000, true).empty());
}

}  // namespace
}  // namespace rig::app
