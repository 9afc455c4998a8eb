// The simulated mouse on its own: what it does with the wheel at a go cue, between trials, and what it tells
// its chooser. A scripted board stands in for the firmware: it reports pin changes at given times and
// records every wheel step.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <stdexcept>

#include "mouse_test_support.hpp"

using namespace rig::sim;
using rig::sim::test_support::RecordingChooser;

namespace {

class ScriptedPinsBoard final : public MouseBoard {
 public:
  struct WheelStep {
    uint64_t t_us;
    int direction;
  };

  uint64_t now_us() const override { return now_us_; }
  void run_until(uint64_t t_us) override {
    while (!script_.empty() && script_.front().t_us <= t_us) {
      changes_.push_back(script_.front());
      script_.pop_front();
    }
    now_us_ = std::max(now_us_, t_us);
  }
  void step_wheel(int direction) override {
    steps.push_back({now_us_, direction});
    position_ticks += direction;
  }
  std::vector<PinChange> take_pin_changes() override {
    std::vector<PinChange> out;
    out.swap(changes_);
    return out;
  }
  void set_lick(uint8_t spout, bool high) override { licks.push_back({now_us_, spout, high}); }

  // Pin changes must be scripted in time order.
  void script(MousePin pin, bool high, uint64_t t_us) { script_.push_back({pin, high, t_us}); }

  std::vector<WheelStep> steps;
  struct Lick {
    uint64_t t_us;
    uint8_t spout;
    bool high;
  };
  std::vector<Lick> licks;
  int64_t position_ticks = 0;

 private:
  uint64_t now_us_ = 0;
  std::deque<PinChange> script_;
  std::vector<PinChange> changes_;
};

MouseConfig still_between_trials() {
  MouseConfig c;
  c.fidget_rate_per_s = 0;
  return c;
}

// Highest velocity over any `window` consecutive steps, in ticks per second.
double peak_velocity_ticks_per_s(const std::vector<ScriptedPinsBoard::WheelStep>& steps, size_t first, size_t last,
                                 size_t window = 16) {
  double peak = 0;
  for (size_t i = first; i + window <= last; ++i) {
    const uint64_t dt_us = steps[i + window - 1].t_us - steps[i].t_us;
    peak = std::max(peak, (window - 1) * 1e6 / static_cast<double>(std::max<uint64_t>(dt_us, 1)));
  }
  return peak;
}

}  // namespace

TEST(SimMouse, TurnsTheWheelAfterAReactionTimeSmoothlyPastTheThresholdAndDriftsBack) {
  ScriptedPinsBoard board;
  board.script(MousePin::kCue, true, 1000000);
  const MouseConfig config = still_between_trials();
  SimMouse mouse(board, std::make_unique<RecordingChooser>(std::vector<Choice>{Choice::kRight}), config, 7);
  mouse.run_until(5000000);

  ASSERT_FALSE(board.steps.empty());
  const uint64_t reaction_us = board.steps.front().t_us - 1000000;
  EXPECT_GE(reaction_us, config.reaction_min_us);
  EXPECT_LE(reaction_us, config.reaction_max_us);
  // Out: one run of rightward single-tick steps, far enough to pass any plausible threshold.
  const auto out_end = std::find_if(board.steps.begin(), board.steps.end(), [](const auto& s) { return s.direction < 0; });
  const auto out_ticks = static_cast<uint32_t>(out_end - board.steps.begin());
  EXPECT_GE(out_ticks, config.amplitude_min_ticks);
  EXPECT_LE(out_ticks, config.amplitude_max_ticks);
  const double peak = peak_velocity_ticks_per_s(board.steps, 0, out_ticks);
  EXPECT_GE(peak, 0.5 * 4096);  // between half a revolution and the configured maximum per second
  EXPECT_LE(peak, config.peak_velocity_max_ticks_per_s * 1.05);
  // Back: after holding still, a slower leftward drift that never passes the starting point.
  ASSERT_NE(out_end, board.steps.end());
  EXPECT_GE(out_end->t_us - (out_end - 1)->t_us, config.hold_min_us);
  EXPECT_TRUE(std::all_of(out_end, board.steps.end(), [](const auto& s) { return s.direction < 0; }));
  EXPECT_GE(board.position_ticks, 0);
  EXPECT_LT(peak_velocity_ticks_per_s(board.steps, out_ticks, board.steps.size()), peak);
  EXPECT_EQ(mouse.stats().rights, 1u);
  EXPECT_EQ(mouse.stats().position_ticks, board.position_ticks);
}

namespace {

// A still mouse that answers `choice` to one go cue at 0.5 s, run until `until_us`.
struct OneCue {
  ScriptedPinsBoard board;
  MouseStats stats;
};
OneCue one_cue(Choice choice, uint64_t until_us) {
  OneCue run;
  run.board.script(MousePin::kCue, true, 500000);
  SimMouse mouse(run.board, std::make_unique<RecordingChooser>(std::vector<Choice>{choice}), still_between_trials(), 3);
  mouse.run_until(until_us);
  run.stats = mouse.stats();
  return run;
}

}  // namespace

TEST(SimMouse, TurnsLeftForALeftChoice) {
  const auto [board, stats] = one_cue(Choice::kLeft, 1500000);
  ASSERT_FALSE(board.steps.empty());
  EXPECT_EQ(board.steps.front().direction, -1);
  EXPECT_LE(board.position_ticks, -static_cast<int64_t>(still_between_trials().amplitude_min_ticks));
}

TEST(SimMouse, AMissLeavesTheWheelStill) {
  const auto [board, stats] = one_cue(Choice::kMiss, 5000000);
  EXPECT_TRUE(board.steps.empty());
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.observations, 1u);  // after observe_after_miss_us, nothing was delivered
}

TEST(SimMouse, FidgetsAreSmallTwitchesThatReturnToWhereTheyStarted) {
  ScriptedPinsBoard board;
  MouseConfig config;
  config.fidget_rate_per_s = 2.0;
  SimMouse mouse(board, std::make_unique<RecordingChooser>(std::vector<Choice>{Choice::kRight}), config, 11);
  int64_t position = 0;
  int64_t farthest = 0;
  board.steps.clear();
  mouse.run_until(30000000);
  for (const auto& s : board.steps) {
    position += s.direction;
    farthest = std::max(farthest, position < 0 ? -position : position);
  }
  EXPECT_EQ(position, 0);
  EXPECT_GE(farthest, static_cast<int64_t>(config.fidget_min_ticks));
  EXPECT_LE(farthest, static_cast<int64_t>(config.fidget_max_ticks));
  // A Poisson process at 2/s over 30 s, minus the time spent twitching: about 60.
  EXPECT_GE(mouse.stats().fidgets, 30u);
  EXPECT_LE(mouse.stats().fidgets, 90u);
}

TEST(SimMouse, ObservesWhatFlowedOnceTheValvesHaveClosed) {
  ScriptedPinsBoard board;
  board.script(MousePin::kCue, true, 1000000);
  board.script(MousePin::kCue, false, 1100000);
  board.script(MousePin::kGrape, true, 1400000);
  board.script(MousePin::kGrape, false, 4000000);  // longer than observe_after_move_us after the movement
  auto chooser = std::make_unique<RecordingChooser>(std::vector<Choice>{Choice::kRight});
  RecordingChooser& recorded = *chooser;
  SimMouse mouse(board, std::move(chooser), still_between_trials(), 5);
  mouse.run_until(3999000);
  EXPECT_TRUE(recorded.observations.empty());  // the grape valve is still open
  mouse.run_until(4002000);
  ASSERT_EQ(recorded.observations.size(), 1u);
  EXPECT_EQ(recorded.observations[0].choice, Choice::kRight);
  EXPECT_FALSE(recorded.observations[0].cherry);
  EXPECT_TRUE(recorded.observations[0].grape);
}

TEST(SimMouse, LicksTheSpoutThatDeliveredInABoutAndRarelyOtherwise) {
  ScriptedPinsBoard board;
  board.script(MousePin::kCue, true, 1000000);
  board.script(MousePin::kCue, false, 1100000);
  board.script(MousePin::kCherry, true, 1400000);
  board.script(MousePin::kCherry, false, 1430000);
  MouseConfig config = still_between_trials();
  config.consume_probability = 1.0;
  config.spontaneous_lick_rate_per_s = 0.0;
  SimMouse mouse(board, std::make_unique<RecordingChooser>(std::vector<Choice>{Choice::kLeft}), config, 8);
  mouse.run_until(6000000);
  std::vector<uint64_t> onsets;
  for (size_t i = 0; i < board.licks.size(); ++i) {
    const auto& lick = board.licks[i];
    EXPECT_EQ(lick.spout, 0) << "licked the grape spout, which delivered nothing";
    if (!lick.high) continue;
    onsets.push_back(lick.t_us);
    ASSERT_LT(i + 1, board.licks.size());
    EXPECT_FALSE(board.licks[i + 1].high);
    EXPECT_EQ(board.licks[i + 1].t_us - lick.t_us, config.lick_contact_us);
  }
  ASSERT_GE(onsets.size(), 5u);  // a bout of 0.8-2 s at 7 Hz
  EXPECT_GE(onsets.front(), 1400000u + 60000u);
  EXPECT_LE(onsets.front(), 1400000u + 800000u);
  for (size_t i = 1; i < onsets.size(); ++i) {
    EXPECT_GE(onsets[i] - onsets[i - 1], 1e6 / config.lick_rate_hz * 0.85 - 1);
    EXPECT_LE(onsets[i] - onsets[i - 1], 1e6 / config.lick_rate_hz * 1.15 + 1);
  }
  EXPECT_EQ(mouse.stats().licks, onsets.size());

  // Without deliveries, only the occasional spontaneous lick.
  ScriptedPinsBoard idle;
  MouseConfig spontaneous = still_between_trials();
  SimMouse idle_mouse(idle, std::make_unique<RecordingChooser>(std::vector<Choice>{}), spontaneous, 9);
  idle_mouse.run_until(600'000'000);
  EXPECT_GT(idle_mouse.stats().licks, 30u);  // 0.1/s over 600 s: about 60
  EXPECT_LT(idle_mouse.stats().licks, 100u);
}

TEST(SimMouse, ObservesAMissAtTheNextCueAtTheLatest) {
  ScriptedPinsBoard board;
  board.script(MousePin::kCue, true, 1000000);
  board.script(MousePin::kCue, false, 1100000);
  board.script(MousePin::kCue, true, 1500000);  // sooner than observe_after_miss_us
  auto chooser = std::make_unique<RecordingChooser>(std::vector<Choice>{Choice::kMiss, Choice::kLeft});
  RecordingChooser& recorded = *chooser;
  SimMouse mouse(board, std::move(chooser), still_between_trials(), 5);
  mouse.run_until(1600000);
  ASSERT_EQ(recorded.observations.size(), 1u);
  EXPECT_EQ(recorded.observations[0].choice, Choice::kMiss);
  EXPECT_EQ(recorded.choices.size(), 2u);
}

TEST(SimMouse, IsDeterministicForAGivenSeed) {
  auto run = [](uint64_t seed) {
    ScriptedPinsBoard board;
    for (uint64_t t = 1000000; t < 20000000; t += 3000000) board.script(MousePin::kCue, true, t);
    SimMouse mouse(board, std::make_unique<RandomChooser>(seed, 0.5, 0.1), MouseConfig{}, seed);
    mouse.run_until(20000000);
    std::vector<uint64_t> times;
    for (const auto& s : board.steps) times.push_back(s.t_us * 2 + (s.direction > 0));
    return times;
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
}

TEST(SimMouse, RejectsAnInvertedRange) {
  ScriptedPinsBoard board;
  MouseConfig config;
  config.amplitude_min_ticks = 900;
  config.amplitude_max_ticks = 500;
  EXPECT_THROW(SimMouse(board, std::make_unique<RandomChooser>(1, 0.5, 0.0), config, 1), std::invalid_argument);
  EXPECT_THROW(SimMouse(board, nullptr, MouseConfig{}, 1), std::invalid_argument);
}

TEST(RandomChooser, ChoosesRightAndMissesAtItsProbabilities) {
  RandomChooser chooser(99, 0.7, 0.2);
  int rights = 0, lefts = 0, misses = 0;
  for (int i = 0; i < 10000; ++i) {
    switch (chooser.choose(std::nullopt)) {
      case Choice::kRight: ++rights; break;
      case Choice::kLeft: ++lefts; break;
      case Choice::kMiss: ++misses; break;
    }
  }
  EXPECT_NEAR(misses / 10000.0, 0.2, 0.03);
  EXPECT_NEAR(rights / double(rights + lefts), 0.7, 0.03);
}

TEST(RandomChooser, RejectsProbabilitiesOutsideZeroToOne) {
  EXPECT_THROW(RandomChooser(1, 1.5, 0.0), std::invalid_argument);
  EXPECT_THROW(RandomChooser(1, 0.5, -0.1), std::invalid_argument);
}
