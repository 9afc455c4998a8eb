// LickRaster: the dashboard's lick raster, one row per trial with a choice, lick onsets in ms from the valve
// opening (the choice when nothing was delivered), each row handed over once its window has passed.
#include <gtest/gtest.h>

#include "host/session/lick_raster.hpp"

namespace rig::app {
namespace {

constexpr auto kCherry = wire::Valve::kCherry;
constexpr auto kGrape = wire::Valve::kGrape;

model::LickRecord lick(wire::Valve spout, std::int64_t device_us, bool onset = true) {
  return model::LickRecord{0, spout, onset, device_us, 0};
}

model::TrialRecord trial(std::uint32_t number, std::optional<std::int64_t> choice_us, std::optional<std::int64_t> valve_us,
                         bool cherry, bool grape) {
  model::TrialRecord t;
  t.trial_number = number;
  t.choice_device_us = choice_us;
  t.valve_open_device_us = valve_us;
  t.delivered_cherry_open_us = cherry ? 40'000 : 0;
  t.delivered_grape_open_us = grape ? 40'000 : 0;
  return t;
}

TEST(LickRaster, ARowHoldsTheOnsetsAroundTheValveOpeningInMilliseconds) {
  LickRaster raster;
  raster.on_lick(lick(kGrape, 8'000'000));             // more than 1 s before: outside the window
  raster.on_lick(lick(kGrape, 9'500'400));             // 499.6 ms before
  raster.on_lick(lick(kGrape, 9'600'000, false));      // offsets are not drawn
  raster.on_trial(trial(7, 9'999'980, 10'000'000, true, false));
  raster.on_lick(lick(kCherry, 10'180'000));
  raster.on_lick(lick(kCherry, 10'320'600));
  EXPECT_TRUE(raster.take_complete().empty()) << "the window is open until 13 s";
  raster.on_lick(lick(kCherry, 13'000'000));           // exactly at the window's end: in it
  raster.saw_device_time(13'000'001);
  const auto rows = raster.take_complete();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].trial_number, 7u);
  EXPECT_TRUE(rows[0].valve_aligned);
  EXPECT_EQ(rows[0].delivered, (std::array<bool, 2>{true, false}));
  EXPECT_EQ(rows[0].onsets_ms[0], (std::vector<std::int32_t>{180, 321, 3000}));
  EXPECT_EQ(rows[0].onsets_ms[1], (std::vector<std::int32_t>{-500}));
  EXPECT_TRUE(raster.take_complete(true).empty()) << "each row is handed over once";
}

TEST(LickRaster, ATrialWithoutDeliveryIsAlignedToItsChoiceAndAMissHasNoRow) {
  LickRaster raster;
  raster.on_trial(trial(1, std::nullopt, std::nullopt, false, false));  // a miss
  raster.on_trial(trial(2, 5'000'000, std::nullopt, false, false));
  raster.on_lick(lick(kCherry, 5'250'000));
  const auto rows = raster.take_complete(true);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].trial_number, 2u);
  EXPECT_FALSE(rows[0].valve_aligned);
  EXPECT_EQ(rows[0].onsets_ms[0], (std::vector<std::int32_t>{250}));
}

TEST(LickRaster, ALickInTwoOverlappingWindowsIsInBothRowsInOrder) {
  LickRaster raster;
  raster.on_trial(trial(1, 1'000'000, 1'000'000, false, true));
  raster.on_lick(lick(kGrape, 2'600'000));             // came before trial 2's result, inside both windows
  raster.on_lick(lick(kGrape, 2'400'000));             // out of device order (a seeded row sorts its onsets)
  raster.on_trial(trial(2, 3'000'000, 3'000'000, false, true));
  raster.on_lick(lick(kGrape, 3'900'000));
  raster.saw_device_time(4'000'001);
  auto rows = raster.take_complete();
  ASSERT_EQ(rows.size(), 1u) << "trial 2's window is still open";
  EXPECT_EQ(rows[0].onsets_ms[1], (std::vector<std::int32_t>{1400, 1600, 2900}));
  rows = raster.take_complete(true);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].trial_number, 2u);
  EXPECT_EQ(rows[0].onsets_ms[1], (std::vector<std::int32_t>{-600, -400, 900}));
}

}  // namespace
}  // namespace rig::app
