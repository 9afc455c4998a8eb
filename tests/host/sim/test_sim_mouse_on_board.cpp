// The simulated mouse on a whole simulated board (the firmware core on the simulated HAL), driven by the
// scripted host: armed trials, go cues, choices, deliveries, quiescence restarts, as the firmware reports them.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "mouse_test_support.hpp"

using namespace rig;
using namespace rig::sim;
using rig::sim::test_support::choice_of;
using rig::sim::test_support::RecordingChooser;

namespace {

// A coarser main loop than the AVR's keeps a long session fast; choices are still exact (the fast path sees
// every wheel step at its time).
constexpr uint32_t kLoopPeriodUs = 100;
using MousedSimBoard = test_support::BoardWithMouse<SimBoard, SimBoardMouseAdapter>;

struct Session {
  std::vector<wire::TrialResult> results;  // one per armed trial, in order
  std::vector<Choice> choices;
  std::vector<test_support::Observation> observations;
  MouseStats stats;
};

Session run_session(int trials, const MouseConfig& config, double p_right, double p_miss, uint64_t seed) {
  auto chooser = std::make_unique<RecordingChooser>(std::make_unique<RandomChooser>(seed, p_right, p_miss));
  RecordingChooser& recorded = *chooser;
  MousedSimBoard board(std::move(chooser), config, seed + 1, 1u, kLoopPeriodUs);
  Session session;
  session.results = test_support::run_trials(board, trials, seed + 2);
  session.choices = recorded.choices;
  session.observations = recorded.observations;
  session.stats = board.mouse().stats();
  return session;
}

class SimMouseOnBoard : public ::testing::Test {
 protected:
  static constexpr int kTrials = 200;
  static constexpr double kPRight = 0.7;
  static constexpr double kPMiss = 0.15;

  static void SetUpTestSuite() { session_ = new Session(run_session(kTrials, MouseConfig{}, kPRight, kPMiss, 2024)); }
  static void TearDownTestSuite() {
    delete session_;
    session_ = nullptr;
  }
  static const Session& session() { return *session_; }

 private:
  static inline Session* session_ = nullptr;
};

}  // namespace

TEST_F(SimMouseOnBoard, EveryArmedTrialEndsWithTheChoiceTheChooserMadeAtItsGoCue) {
  ASSERT_EQ(session().results.size(), static_cast<size_t>(kTrials));
  ASSERT_EQ(session().choices.size(), static_cast<size_t>(kTrials));  // one go cue per trial
  for (int i = 0; i < kTrials; ++i) {
    EXPECT_EQ(choice_of(session().results[i]), session().choices[i]) << "trial " << i + 1;
    EXPECT_NE(session().results[i].go_cue_t_us, 0u);
  }
}

TEST_F(SimMouseOnBoard, ChoicesAndMissesFollowTheChoosersProbabilities) {
  int rights = 0, lefts = 0, misses = 0;
  for (const auto& r : session().results) {
    const Choice c = choice_of(r);
    rights += c == Choice::kRight;
    lefts += c == Choice::kLeft;
    misses += c == Choice::kMiss;
  }
  EXPECT_NEAR(misses / double(kTrials), kPMiss, 0.08);
  EXPECT_NEAR(rights / double(rights + lefts), kPRight, 0.12);
}

TEST_F(SimMouseOnBoard, ReactionTimesFromGoCueToChoiceArePlausible) {
  const MouseConfig config;
  std::vector<uint32_t> reaction_us;
  for (const auto& r : session().results) {
    if (choice_of(r) == Choice::kMiss) continue;
    reaction_us.push_back(r.choice_t_us - r.go_cue_t_us);
  }
  ASSERT_GT(reaction_us.size(), 100u);
  std::sort(reaction_us.begin(), reaction_us.end());
  // The threshold (100 ticks) is crossed early in a movement of 520-1000 ticks.
  EXPECT_GE(reaction_us.front(), config.reaction_min_us);
  EXPECT_LE(reaction_us.back(), config.reaction_max_us + 150000);
  const uint32_t median_us = reaction_us[reaction_us.size() / 2];
  EXPECT_GE(median_us, 200000u);
  EXPECT_LE(median_us, 400000u);
}

TEST_F(SimMouseOnBoard, TheChooserObservesExactlyWhatTheFirmwareDelivered) {
  ASSERT_EQ(session().observations.size(), static_cast<size_t>(kTrials));
  int deliveries = 0;
  for (int i = 0; i < kTrials; ++i) {
    const auto& r = session().results[i];
    const auto& o = session().observations[i];
    EXPECT_EQ(o.choice, choice_of(r)) << "trial " << i + 1;
    EXPECT_EQ(o.cherry, r.delivered_open_us[0] > 0) << "trial " << i + 1;
    EXPECT_EQ(o.grape, r.delivered_open_us[1] > 0) << "trial " << i + 1;
    deliveries += o.cherry + o.grape;
  }
  EXPECT_GT(deliveries, 50);
}

// A chooser that takes whatever side the rig offers, and goes left on a free trial.
class TakesTheOffer final : public Chooser {
 public:
  Choice choose(std::optional<Choice> offered) override { return offered.value_or(Choice::kLeft); }
  void observe(Choice, bool, bool) override {}
};

TEST(SimMouseInstructed, TheBoardShowsTheOfferedSideAndAMouseThatTakesItCompletesTheTrial) {
  auto chooser = std::make_unique<RecordingChooser>(std::make_unique<TakesTheOffer>());
  RecordingChooser& recorded = *chooser;
  MousedSimBoard board(std::move(chooser), MouseConfig{}, 7, 1u, kLoopPeriodUs);
  const auto results = test_support::run_trials(board, 6, 8, 500000, wire::TrialKind::kInstructedRight);
  ASSERT_EQ(results.size(), 6u);
  ASSERT_EQ(recorded.offered.size(), 6u);
  for (std::size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(recorded.offered[i], Choice::kRight) << "trial " << i + 1;
    EXPECT_EQ(choice_of(results[i]), Choice::kRight) << "trial " << i + 1;
  }
  // Between trials nothing is offered.
  EXPECT_EQ(board.adapter().offered_side(), std::nullopt);
}

TEST(SimMouseFidgets, PreCueFidgetsRestartTheQuiescenceWaitAndAStillMouseNeverDoes) {
  MouseConfig config;
  config.return_fraction_min = config.return_fraction_max = 0;  // no drift back: only fidgets move the wheel
  config.fidget_rate_per_s = 2.0;
  const Session fidgety = run_session(40, config, 0.5, 0.0, 77);
  config.fidget_rate_per_s = 0;
  const Session still = run_session(40, config, 0.5, 0.0, 77);

  auto restarts = [](const Session& s) {
    return std::accumulate(s.results.begin(), s.results.end(), 0,
                           [](int sum, const wire::TrialResult& r) { return sum + r.quiescence_restarts; });
  };
  ASSERT_EQ(fidgety.results.size(), 40u);
  ASSERT_EQ(still.results.size(), 40u);
  EXPECT_GT(fidgety.stats.fidgets, 10u);
  EXPECT_GT(restarts(fidgety), 5);
  EXPECT_EQ(restarts(still), 0);
  // Fidgets stay below the threshold: every trial still ends with the chooser's choice.
  for (size_t i = 0; i < fidgety.results.size(); ++i) EXPECT_EQ(choice_of(fidgety.results[i]), fidgety.choices[i]);
}
