// The schedule pinned over 100,000 simulated trials. Tolerances are at least four standard errors wide and
// seeds are fixed, so these tests never flake.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "host/task/schedule.hpp"
#include "simulation.hpp"

namespace rig::task {
namespace {

using testing::shipped_protocol;
using testing::simulate;
using testing::SimulatedTrial;

constexpr int kTrials = 100000;
constexpr std::uint64_t kSeed = 20250106;

// A mouse choosing at random: both sides are chosen about equally often, so every rate has ~50,000 samples.
const std::vector<SimulatedTrial>& random_mouse_session() {
  static const auto trials = simulate(shipped_protocol("distractor"), 0.5, kSeed, kTrials);
  return trials;
}

// A mouse that follows the high side 90% of the time: it meets the criterion and sees many reversals.
const std::vector<SimulatedTrial>& expert_mouse_session() {
  static const auto trials = simulate(shipped_protocol("distractor"), 0.9, kSeed + 7, kTrials);
  return trials;
}

bool delivered(const SimulatedTrial& t, wire::Valve valve) {
  return t.update.delivered_ul_by_valve[static_cast<std::size_t>(valve)] > 0.0;
}

struct Rate {
  int hits = 0;
  int total = 0;
  void add(bool hit) {
    hits += hit ? 1 : 0;
    ++total;
  }
  double value() const { return static_cast<double>(hits) / total; }
};

TEST(Schedule, SimulationRunsTheFullHundredThousandTrials) {
  EXPECT_EQ(random_mouse_session().size(), static_cast<std::size_t>(kTrials));
  EXPECT_EQ(expert_mouse_session().size(), static_cast<std::size_t>(kTrials));
}

TEST(Schedule, FreeTrialsAreEightyPercent) {
  Rate free;
  for (const auto& t : random_mouse_session()) free.add(t.plan.free_choice);
  EXPECT_NEAR(free.value(), 0.8, 0.008);  // SE 0.0013
}

TEST(Schedule, InstructedTrialsSplitEvenlyBetweenSides) {
  Rate left;
  for (const auto& t : random_mouse_session()) {
    if (t.plan.instructed_side) left.add(*t.plan.instructed_side == wire::Side::kLeft);
  }
  EXPECT_NEAR(left.value(), 0.5, 0.02);  // ~20,000 trials: SE 0.0035
}

TEST(Schedule, DistractorRateIsHalfOnBothChoices) {
  std::map<wire::Side, Rate> by_choice;
  for (const auto& t : random_mouse_session()) by_choice[t.choice].add(delivered(t, wire::Valve::kGrape));
  for (const auto side : {wire::Side::kLeft, wire::Side::kRight}) {
    EXPECT_GT(by_choice[side].total, 40000);
    EXPECT_NEAR(by_choice[side].value(), 0.5, 0.015) << "side " << static_cast<int>(side);  // SE 0.0022
  }
}

TEST(Schedule, DistractorRateIsHalfOnHighAndLowSideChoices) {
  std::map<bool, Rate> by_high;
  for (const auto& t : random_mouse_session()) {
    by_high[t.choice == t.plan.high_side].add(delivered(t, wire::Valve::kGrape));
  }
  EXPECT_NEAR(by_high[true].value(), 0.5, 0.015);
  EXPECT_NEAR(by_high[false].value(), 0.5, 0.015);
}

TEST(Schedule, ControllableRateIsEightyPercentOnTheHighSideAndTwentyOnTheLow) {
  std::map<bool, Rate> by_high;
  for (const auto& t : random_mouse_session()) {
    by_high[t.choice == t.plan.high_side].add(delivered(t, wire::Valve::kCherry));
  }
  EXPECT_NEAR(by_high[true].value(), 0.8, 0.01);   // SE 0.0018
  EXPECT_NEAR(by_high[false].value(), 0.2, 0.01);
}

TEST(Schedule, ControllableDrawsForBothSidesFollowTheirLoggedProbabilities) {
  Rate high;
  Rate low;
  for (const auto& t : random_mouse_session()) {
    const auto h = static_cast<std::size_t>(t.plan.high_side);
    const auto l = static_cast<std::size_t>(opposite(t.plan.high_side));
    ASSERT_EQ(t.plan.p_controllable_by_side[h], 0.8);
    ASSERT_EQ(t.plan.p_controllable_by_side[l], 0.2);
    high.add(t.plan.controllable_drawn_by_side[h]);
    low.add(t.plan.controllable_drawn_by_side[l]);
  }
  EXPECT_NEAR(high.value(), 0.8, 0.008);
  EXPECT_NEAR(low.value(), 0.2, 0.008);
}

TEST(Schedule, BothFlavoursOccurAtTheProductRate) {
  Rate controllable;
  Rate distractor;
  Rate both;
  std::map<bool, Rate> both_by_high;
  for (const auto& t : random_mouse_session()) {
    const bool c = delivered(t, wire::Valve::kCherry);
    const bool d = delivered(t, wire::Valve::kGrape);
    controllable.add(c);
    distractor.add(d);
    both.add(c && d);
    both_by_high[t.choice == t.plan.high_side].add(c && d);
  }
  EXPECT_NEAR(both.value(), controllable.value() * distractor.value(), 0.008);  // SE 0.0014
  EXPECT_NEAR(both_by_high[true].value(), 0.8 * 0.5, 0.012);
  EXPECT_NEAR(both_by_high[false].value(), 0.2 * 0.5, 0.008);
}

TEST(Schedule, NoReversalHappensBeforeTheCriterionIsMet) {
  // Recompute the criterion independently from the logged trials: in each block, the mean of the last 50
  // free-choice "chose high" outcomes must have exceeded 0.8 at or before the reversing trial.
  std::deque<bool> window;
  bool met = false;
  int reversals = 0;
  for (const auto& t : expert_mouse_session()) {
    if (t.plan.free_choice) {
      window.push_back(t.choice == t.plan.high_side);
      if (window.size() > 50) window.pop_front();
      const auto high = std::count(window.begin(), window.end(), true);
      if (window.size() == 50 && high * 10 > 8 * 50) met = true;
    }
    if (t.update.reversed) {
      ASSERT_TRUE(met) << "reversal at trial " << t.plan.trial_number << " before the criterion";
      ++reversals;
      window.clear();
      met = false;
    }
  }
  EXPECT_GT(reversals, 500);
}

TEST(Schedule, AfterTheCriterionBlocksFlipAtTheHazardRate) {
  // From the trial that meets the criterion, the number of choice trials up to and including the reversal is
  // geometric with p = 0.1: mean 10, sd 9.5.
  std::deque<bool> window;
  int since_met = -1;
  std::vector<int> waits;
  for (const auto& t : expert_mouse_session()) {
    if (t.plan.free_choice) {
      window.push_back(t.choice == t.plan.high_side);
      if (window.size() > 50) window.pop_front();
      const auto high = std::count(window.begin(), window.end(), true);
      if (since_met < 0 && window.size() == 50 && high * 10 > 8 * 50) since_met = 0;
    }
    if (since_met >= 0) ++since_met;
    if (t.update.reversed) {
      waits.push_back(since_met);
      window.clear();
      since_met = -1;
    }
  }
  ASSERT_GT(waits.size(), 500u);
  double sum = 0;
  for (const int w : waits) sum += w;
  EXPECT_NEAR(sum / static_cast<double>(waits.size()), 10.0, 1.5);  // SE < 0.43
}

TEST(Schedule, BlockIndexCountsReversalsAndHighSideAlternates) {
  std::uint32_t block = 0;
  wire::Side high = expert_mouse_session().front().plan.high_side;
  for (const auto& t : expert_mouse_session()) {
    ASSERT_EQ(t.plan.block_index, block);
    ASSERT_EQ(t.plan.high_side, high);
    if (t.update.reversed) {
      ++block;
      high = opposite(high);
    }
    ASSERT_EQ(t.update.block_index, block);
  }
}

TEST(Schedule, MouseThatNeverFollowsTheHighSideNeverSeesAReversal) {
  const auto trials = simulate(shipped_protocol("distractor"), 0.0, kSeed, 20000);
  for (const auto& t : trials) ASSERT_FALSE(t.update.reversed);
  EXPECT_EQ(trials.back().update.block_index, 0u);
}

TEST(Schedule, SameSeedGivesTheSameTrials) {
  const auto a = simulate(shipped_protocol("distractor"), 0.9, 42, 5000);
  const auto b = simulate(shipped_protocol("distractor"), 0.9, 42, 5000);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_TRUE(testing::same_plan(a[i].plan, b[i].plan)) << i;
}

TEST(Schedule, DifferentSeedsGiveDifferentTrials) {
  const auto a = simulate(shipped_protocol("distractor"), 0.9, 42, 200);
  const auto b = simulate(shipped_protocol("distractor"), 0.9, 43, 200);
  int differing = 0;
  for (std::size_t i = 0; i < a.size(); ++i) differing += testing::same_plan(a[i].plan, b[i].plan) ? 0 : 1;
  EXPECT_GT(differing, 100);
}

TEST(Schedule, RandomStartSideIsLeftOrRightEvenly) {
  ReversalSettings settings;
  int right = 0;
  constexpr int kSeeds = 4000;
  for (int seed = 0; seed < kSeeds; ++seed) {
    RandomStream rng(mix64(static_cast<std::uint64_t>(seed)));
    right += ReversalSchedule(settings, StartSide::kRandom, rng).high_side() == wire::Side::kRight ? 1 : 0;
  }
  EXPECT_NEAR(static_cast<double>(right) / kSeeds, 0.5, 0.04);  // SE 0.008
}

// The default rule with a 5-trial window and certain flips once the criterion is met.
ReversalSettings short_window_certain_flip() {
  ReversalSettings settings;
  settings.window_free_trials = 5;
  settings.hazard_per_trial = 1.0;
  return settings;
}

TEST(Schedule, CriterionWindowRestartsAtEachReversal) {
  RandomStream rng(1);
  ReversalSchedule schedule(short_window_certain_flip(), StartSide::kLeft, rng);
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(schedule.on_choice(true, wire::Side::kLeft, rng));
  EXPECT_TRUE(schedule.on_choice(true, wire::Side::kLeft, rng));  // 5/5 > 0.8, hazard 1
  EXPECT_EQ(schedule.high_side(), wire::Side::kRight);
  EXPECT_TRUE(schedule.state().criterion_window.empty());
  EXPECT_FALSE(schedule.state().criterion_met);
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(schedule.on_choice(true, wire::Side::kRight, rng));
  EXPECT_TRUE(schedule.on_choice(true, wire::Side::kRight, rng));
  EXPECT_EQ(schedule.state().block_index, 2u);
}

TEST(Schedule, CriterionMustBeExceededNotMerelyReached) {
  RandomStream rng(1);
  ReversalSchedule schedule(short_window_certain_flip(), StartSide::kLeft, rng);
  // 4 of 5 is exactly 0.8: not more than 0.8.
  EXPECT_FALSE(schedule.on_choice(true, wire::Side::kRight, rng));
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(schedule.on_choice(true, wire::Side::kLeft, rng));
  EXPECT_FALSE(schedule.state().criterion_met);
}

TEST(Schedule, InstructedChoicesDoNotEnterTheCriterionWindow) {
  ReversalSettings settings;
  RandomStream rng(1);
  ReversalSchedule schedule(settings, StartSide::kLeft, rng);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(schedule.on_choice(false, wire::Side::kLeft, rng));
  EXPECT_TRUE(schedule.state().criterion_window.empty());
  EXPECT_EQ(schedule.state().block_choice_trials, 100u);
}

TEST(Schedule, BlockLengthRuleDrawsLengthsBetweenMinAndMax) {
  ReversalSettings settings;
  settings.rule = ReversalRule::kBlockLength;
  settings.block_min_trials = 3;
  settings.block_max_trials = 6;
  RandomStream rng(5);
  ReversalSchedule schedule(settings, StartSide::kLeft, rng);
  std::set<int> lengths;
  int length = 0;
  for (int i = 0; i < 2000; ++i) {
    ++length;
    if (schedule.on_choice(i % 2 == 0, wire::Side::kLeft, rng)) {
      EXPECT_GE(length, 3);
      EXPECT_LE(length, 6);
      lengths.insert(length);
      length = 0;
    }
  }
  EXPECT_EQ(lengths, (std::set<int>{3, 4, 5, 6}));
}

TEST(Schedule, FixedHazardFlipsAtItsRateWithoutACriterion) {
  ReversalSettings settings;
  settings.rule = ReversalRule::kFixedHazard;
  settings.hazard_per_trial = 0.2;
  RandomStream rng(8);
  ReversalSchedule schedule(settings, StartSide::kLeft, rng);
  Rate flips;
  // A mouse that never chooses the high side would never meet a criterion; fixed hazard flips anyway.
  for (int i = 0; i < 50000; ++i) flips.add(schedule.on_choice(true, opposite(schedule.high_side()), rng));
  EXPECT_NEAR(flips.value(), 0.2, 0.01);  // SE 0.0018
}

TEST(Schedule, RuleNoneNeverFlips) {
  ReversalSettings settings;
  settings.rule = ReversalRule::kNone;
  RandomStream rng(3);
  ReversalSchedule schedule(settings, StartSide::kRight, rng);
  for (int i = 0; i < 10000; ++i) ASSERT_FALSE(schedule.on_choice(true, wire::Side::kRight, rng));
  EXPECT_EQ(schedule.high_side(), wire::Side::kRight);
}

}  // namespace
}  // namespace rig::task
