#include <gtest/gtest.h>

#include <stdexcept>

#include "host/task/engine_state.hpp"
#include "simulation.hpp"

namespace rig::task {
namespace {

using testing::device_result;
using testing::ScriptedMouse;
using testing::shipped_protocol;
using testing::subject;
using testing::test_rig;

// Plays `trials` trials of `engine` with `mouse` from `now_us`; returns the plans and leaves now_us at the end.
std::vector<TrialPlan> play(TaskEngine& engine, ScriptedMouse& mouse, int trials, std::int64_t& now_us) {
  std::vector<TrialPlan> plans;
  for (int i = 0; i < trials; ++i) {
    const auto plan = engine.next_trial(now_us);
    if (!plan) break;
    engine.on_result(*plan, device_result(*plan, mouse.choose(*plan)), now_us + 1'500'000);
    now_us = engine.ready_at_us();
    plans.push_back(*plan);
  }
  return plans;
}

// An engine that has played `trials` trials of `protocol` with a mouse, ready for the next one.
struct PlayedSession {
  PlayedSession(const Protocol& protocol, std::uint64_t seed, double p_choose_high, int trials)
      : engine(protocol, test_rig(), subject(), seed), mouse(p_choose_high, seed + 1) {
    play(engine, mouse, trials, now_us);
  }
  TaskEngine engine;
  ScriptedMouse mouse;
  std::int64_t now_us = 0;
};

TEST(EngineState, JsonRoundTripIsExact) {
  TaskEngine engine(shipped_protocol("controllable-only"), test_rig(), subject(), 0xDEADBEEFCAFEF00DULL, 123.25);
  ScriptedMouse mouse(0.9, 5);
  std::int64_t now_us = 1'700'000'000'000'000;  // wall-clock microseconds, as a resumable session uses
  play(engine, mouse, 700, now_us);
  const auto state = engine.state();
  EXPECT_GT(state.schedule.block_index, 0u);
  EXPECT_FALSE(state.recent_free_chose_high.empty());
  const auto text = engine_state_to_json(state);
  EXPECT_EQ(engine_state_from_json(text), state);
}

TEST(EngineState, ResumedEngineContinuesExactlyAsTheOriginal) {
  const auto protocol = shipped_protocol("distractor");
  PlayedSession original(protocol, 99, 0.9, 1000);

  TaskEngine resumed(protocol, test_rig(), subject(),
                     engine_state_from_json(engine_state_to_json(original.engine.state())));
  ScriptedMouse mouse_copy = original.mouse;
  std::int64_t resumed_now_us = original.now_us;
  const auto expected = play(original.engine, original.mouse, 2000, original.now_us);
  const auto actual = play(resumed, mouse_copy, 2000, resumed_now_us);
  ASSERT_EQ(expected.size(), actual.size());
  for (std::size_t i = 0; i < expected.size(); ++i) ASSERT_TRUE(testing::same_plan(expected[i], actual[i])) << i;
  EXPECT_EQ(resumed.state(), original.engine.state());
}

TEST(EngineState, StateWhileATrialIsOutstandingReplansThatTrial) {
  const auto protocol = shipped_protocol("distractor");
  PlayedSession original(protocol, 7, 0.5, 10);
  const auto before = original.engine.state();
  const auto planned = original.engine.next_trial(original.now_us).value();
  EXPECT_EQ(original.engine.state(), before);  // a crash now resumes before the armed trial

  TaskEngine resumed(protocol, test_rig(), subject(), original.engine.state());
  EXPECT_TRUE(testing::same_plan(resumed.next_trial(original.now_us).value(), planned));
}

TEST(EngineState, StopReasonSurvivesARestart) {
  auto protocol = shipped_protocol("distractor");
  protocol.limits.max_trials = 3;
  PlayedSession session(protocol, 7, 0.5, 10);
  ASSERT_EQ(session.engine.stop_reason(), StopReason::kMaxTrials);
  const auto restored = engine_state_from_json(engine_state_to_json(session.engine.state()));
  EXPECT_EQ(restored.stop_reason, StopReason::kMaxTrials);
  TaskEngine resumed(protocol, test_rig(), subject(), restored);
  EXPECT_FALSE(resumed.next_trial(session.now_us).has_value());
}

TEST(EngineState, MalformedJsonIsRejectedWithAReason) {
  EXPECT_THROW(engine_state_from_json("not json"), std::invalid_argument);
  EXPECT_THROW(engine_state_from_json("{\"format\": 2}"), std::invalid_argument);
  EXPECT_THROW(engine_state_from_json("{\"format\": 1, \"seed\": 1}"), std::invalid_argument);
}

TEST(EngineState, StateThatDoesNotFitTheProtocolIsRejected) {
  const auto protocol = shipped_protocol("distractor");
  TaskEngine engine(protocol, test_rig(), subject(), 7);
  auto state = engine.state();
  state.schedule.criterion_window.assign(51, true);  // the protocol's window is 50
  EXPECT_THROW(TaskEngine(protocol, test_rig(), subject(), state), std::invalid_argument);
}

}  // namespace
}  // namespace rig::task
