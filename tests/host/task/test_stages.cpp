#include <gtest/gtest.h>

#include "host/task/stages.hpp"
#include "task_test_support.hpp"

namespace rig::task {
namespace {

using testing::shipped_protocol;

SessionSummary session_with(std::uint32_t choice_trials, int free_high, int free_low) {
  SessionSummary s;
  s.choice_trials = choice_trials;
  s.trials_done = choice_trials;
  for (int i = 0; i < free_low; ++i) s.recent_free_chose_high.push_back(false);
  for (int i = 0; i < free_high; ++i) s.recent_free_chose_high.push_back(true);
  return s;
}

TEST(Stages, ProtocolWithoutAdvanceCriterionStays) {
  const auto decision = decide_advance(shipped_protocol("distractor"), session_with(1000, 100, 0));
  EXPECT_FALSE(decision.advance);
  EXPECT_EQ(decision.reason, "stay: protocol distractor states no advance criterion");
}

// controllable-only advances after 300 choice trials with >= 0.7 high-side choices over the last 100 free ones.
struct StayCase {
  std::uint32_t choice_trials;
  int free_high;
  int free_low;
  const char* reason;
};

class StagesStay : public ::testing::TestWithParam<StayCase> {};

TEST_P(StagesStay, UnmetConditionStaysAndSaysWhich) {
  const auto& c = GetParam();
  const auto decision = decide_advance(shipped_protocol("controllable-only"), session_with(c.choice_trials, c.free_high, c.free_low));
  EXPECT_FALSE(decision.advance);
  EXPECT_EQ(decision.reason, c.reason);
}

INSTANTIATE_TEST_SUITE_P(
    ControllableOnly, StagesStay,
    ::testing::Values(StayCase{299, 100, 0, "stay: 299 trials with a choice, fewer than the 300 required"},
                      StayCase{400, 99, 0, "stay: 99 free choices, fewer than the window of 100 the criterion needs"},
                      StayCase{400, 69, 31, "stay: high side chosen on 0.69 of the last 100 free choices, below 0.70"}));

TEST(Stages, MeetingEveryConditionAdvancesToTheResolvedProtocol) {
  const auto protocol = shipped_protocol("controllable-only");
  const auto decision = decide_advance(protocol, session_with(400, 70, 30));
  EXPECT_TRUE(decision.advance);
  EXPECT_EQ(decision.to, testing::source_path("protocols/distractor.yaml"));
  EXPECT_EQ(decision.reason,
            "advance to distractor.yaml: 400 trials with a choice (at least 300) and the high side on 0.70 of the "
            "last 100 free choices (at least 0.70)");
}

TEST(Stages, OnlyTheLastWindowOfFreeChoicesCounts) {
  // 100 early misses of the high side are outside the window of the last 100.
  const auto decision = decide_advance(shipped_protocol("controllable-only"), session_with(400, 100, 100));
  EXPECT_TRUE(decision.advance);
}

TEST(Stages, HabituationAdvancesOnTrialCountAlone) {
  const auto decision = decide_advance(shipped_protocol("habituation"), session_with(200, 0, 0));
  EXPECT_TRUE(decision.advance);
  EXPECT_EQ(decision.reason, "advance to controllable-only.yaml: 200 trials with a choice (at least 200)");
}

TEST(Stages, EngineSummaryFeedsTheDecision) {
  // A session of the controllable-only stage played by a mouse that always follows the high side.
  auto protocol = shipped_protocol("controllable-only");
  protocol.limits = SessionLimits{};
  TaskEngine engine(protocol, testing::test_rig(), testing::subject(), 4);
  testing::ScriptedMouse mouse(1.0, 4);
  std::int64_t now_us = 0;
  for (int i = 0; i < 400; ++i) {
    const auto plan = engine.next_trial(now_us).value();
    engine.on_result(plan, testing::device_result(plan, mouse.choose(plan)), now_us);
    now_us = engine.ready_at_us();
  }
  const auto summary = engine.summary();
  EXPECT_EQ(summary.choice_trials, 400u);
  EXPECT_EQ(summary.recent_free_chose_high.size(), 100u);
  EXPECT_TRUE(decide_advance(protocol, summary).advance);
}

}  // namespace
}  // namespace rig::task
