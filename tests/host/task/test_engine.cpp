#include <gtest/gtest.h>

#include <stdexcept>

#include "simulation.hpp"

namespace rig::task {
namespace {

using testing::device_result;
using testing::protocol_from;
using testing::shipped_protocol;
using testing::subject;
using testing::test_rig;
using wire::Side;
using wire::Valve;

// The first plan of a session satisfying `wanted`, answering every earlier one with a left choice.
template <class Predicate>
TrialPlan first_plan_where(TaskEngine& engine, Predicate wanted) {
  std::int64_t now_us = 0;
  for (int i = 0; i < 1000; ++i) {
    auto plan = engine.next_trial(now_us);
    if (!plan) break;
    if (wanted(*plan)) return *plan;
    engine.on_result(*plan, device_result(*plan, Side::kLeft), now_us);
    now_us = engine.ready_at_us();
  }
  ADD_FAILURE() << "no such plan in 1000 trials";
  return TrialPlan{};
}

TEST(Engine, ArmCarriesProtocolTimingAndThresholdTicks) {
  TaskEngine engine(shipped_protocol("distractor"), test_rig(), subject(), 1);
  const auto plan = engine.next_trial(0).value();
  const wire::ArmTrial arm = plan.arm;
  EXPECT_EQ(arm.trial_id, 1u);
  EXPECT_EQ(arm.quiescence_us, 500'000u);
  EXPECT_EQ(arm.quiescence_tolerance_ticks, 6u);  // 2 deg * 1024 / 360 = 5.7
  EXPECT_EQ(arm.response_window_us, 30'000'000u);
  EXPECT_EQ(arm.threshold_left_ticks, 85u);       // the rig's 30 deg: 85.3 ticks
  EXPECT_EQ(arm.threshold_right_ticks, 85u);
  EXPECT_EQ(arm.cue_duration_us, 100'000u);
  EXPECT_EQ(arm.cue_id, 0u);
}

TEST(Engine, ProtocolThresholdOverridesTheRigDefault) {
  TaskEngine engine(shipped_protocol("habituation"), test_rig(), subject(), 1);
  const wire::ArmTrial arm = engine.next_trial(0).value().arm;
  EXPECT_EQ(arm.threshold_left_ticks, 28u);  // 10 deg * 1024 / 360 = 28.4
}

TEST(Engine, OpenTimesComeFromEachValvesCalibration) {
  TaskEngine engine(shipped_protocol("distractor"), test_rig(), subject(Valve::kCherry), 3);
  const auto plan = first_plan_where(engine, [](const TrialPlan& p) {
    return p.free_choice && p.controllable_drawn_by_side[0] && p.distractor_drawn;
  });
  // 3 uL: cherry between (20000 us, 1.9 uL) and (40000 us, 4.0 uL); grape between (20000, 1.8) and (40000, 3.9).
  EXPECT_EQ(plan.open_us(Side::kLeft, Valve::kCherry), 30476u);
  EXPECT_EQ(plan.open_us(Side::kLeft, Valve::kGrape), 31429u);
  EXPECT_EQ(plan.volume(Side::kLeft, Valve::kCherry), 3.0);
  EXPECT_EQ(plan.controllable_valve, Valve::kCherry);
  EXPECT_EQ(plan.distractor_valve, Valve::kGrape);
}

TEST(Engine, ControllableFlavourFollowsTheSubject) {
  TaskEngine engine(shipped_protocol("habituation"), test_rig(), subject(Valve::kGrape), 3);
  const auto plan = engine.next_trial(0).value();
  EXPECT_EQ(plan.controllable_valve, Valve::kGrape);
  EXPECT_EQ(plan.distractor_valve, Valve::kCherry);
}

TEST(Engine, DistractorIsTheSameWhicheverSideIsChosen) {
  TaskEngine engine(shipped_protocol("distractor"), test_rig(), subject(), 5);
  std::int64_t now_us = 0;
  for (int i = 0; i < 300; ++i) {
    const auto plan = engine.next_trial(now_us).value();
    if (plan.free_choice) {
      ASSERT_EQ(plan.open_us(Side::kLeft, Valve::kGrape), plan.open_us(Side::kRight, Valve::kGrape));
      ASSERT_EQ(plan.open_us(Side::kLeft, Valve::kGrape) > 0, plan.distractor_drawn);
    }
    for (const auto side : {Side::kLeft, Side::kRight}) {
      const bool open = plan.open_us(side, Valve::kCherry) > 0;
      const bool allowed = !plan.instructed_side || *plan.instructed_side == side;
      ASSERT_EQ(open, allowed && plan.controllable_drawn_by_side[static_cast<std::size_t>(side)]);
    }
    engine.on_result(plan, device_result(plan, Side::kRight), now_us);
    now_us = engine.ready_at_us();
  }
}

TEST(Engine, InstructedTrialArmsOnlyTheInstructedSide) {
  TaskEngine engine(shipped_protocol("distractor"), test_rig(), subject(), 11);
  const auto plan = first_plan_where(engine, [](const TrialPlan& p) {
    return p.instructed_side == Side::kRight && p.distractor_drawn && p.controllable_drawn_by_side[0];
  });
  EXPECT_EQ(plan.arm.kind, static_cast<std::uint8_t>(wire::TrialKind::kInstructedRight));
  EXPECT_EQ(plan.open_us(Side::kLeft, Valve::kCherry), 0u);
  EXPECT_EQ(plan.open_us(Side::kLeft, Valve::kGrape), 0u);
  EXPECT_GT(plan.open_us(Side::kRight, Valve::kGrape), 0u);
  // The draw for the unavailable side is still logged.
  EXPECT_TRUE(plan.controllable_drawn_by_side[0]);
}

TEST(Engine, NextTrialWaitsForTheInterTrialInterval) {
  TaskEngine engine(shipped_protocol("distractor"), test_rig(), subject(), 1);
  EXPECT_EQ(engine.ready_at_us(), std::numeric_limits<std::int64_t>::min());
  const auto plan = engine.next_trial(5'000'000).value();
  EXPECT_THROW(engine.next_trial(5'000'000), std::logic_error);  // result still outstanding
  engine.on_result(plan, device_result(plan, Side::kLeft), 7'000'000);
  EXPECT_EQ(engine.ready_at_us(), 8'000'000);
  EXPECT_THROW(engine.next_trial(7'999'999), std::logic_error);
  EXPECT_EQ(engine.next_trial(8'000'000).value().trial_number, 2u);
}

TEST(Engine, ResultOfAnotherTrialIsRejected) {
  TaskEngine engine(shipped_protocol("distractor"), test_rig(), subject(), 1);
  const auto plan = engine.next_trial(0).value();
  auto result = device_result(plan, Side::kLeft);
  result.trial_id = 99;
  EXPECT_THROW(engine.on_result(plan, result, 0), std::invalid_argument);
  EXPECT_NO_THROW(engine.on_result(plan, device_result(plan, Side::kLeft), 0));
  EXPECT_THROW(engine.on_result(plan, device_result(plan, Side::kLeft), 0), std::logic_error);
}

TEST(Engine, MissesCountAsTrialsButDoNotAdvanceTheSchedule) {
  TaskEngine engine(shipped_protocol("distractor"), test_rig(), subject(), 1);
  std::int64_t now_us = 0;
  for (int i = 0; i < 500; ++i) {
    const auto plan = engine.next_trial(now_us).value();
    const auto update = engine.on_result(plan, device_result(plan, std::nullopt), now_us);
    EXPECT_FALSE(update.choice.has_value());
    EXPECT_EQ(update.delivered_ul_by_valve, (std::array<double, 2>{0.0, 0.0}));
    now_us = engine.ready_at_us();
  }
  const auto state = engine.state();
  EXPECT_EQ(state.trials_done, 500u);
  EXPECT_EQ(state.choice_trials, 0u);
  EXPECT_EQ(state.schedule.block_choice_trials, 0u);
  EXPECT_EQ(state.schedule_rng_draws, 1u);  // only the random start side
}

TEST(Engine, ClampedDeliveryIsAccountedThroughTheCalibration) {
  TaskEngine engine(shipped_protocol("habituation"), test_rig(), subject(), 1);
  const auto plan = engine.next_trial(0).value();
  auto result = device_result(plan, Side::kLeft);
  result.delivered_open_us[0] = 20000;  // cherry clamped to 20 ms: 1.9 uL in the table
  result.flags = wire::kResultClamped;
  const auto update = engine.on_result(plan, result, 0);
  EXPECT_DOUBLE_EQ(update.delivered_ul_by_valve[0], 1.9);
  EXPECT_DOUBLE_EQ(update.delivered_ul_by_valve[1], 3.0);
  EXPECT_DOUBLE_EQ(engine.water_today_ul(), 4.9);
}

// Runs `engine` with left choices until it stops; returns the number of trials.
int run_to_stop(TaskEngine& engine, std::int64_t trial_duration_us = 0) {
  std::int64_t now_us = 0;
  int trials = 0;
  while (auto plan = engine.next_trial(now_us)) {
    engine.on_result(*plan, device_result(*plan, Side::kLeft), now_us + trial_duration_us);
    now_us = engine.ready_at_us();
    ++trials;
    if (trials > 100000) break;
  }
  return trials;
}

TEST(Engine, MaxTrialsEndsTheSession) {
  TaskEngine engine(protocol_from("name: m\nlimits:\n  max_trials: 25\n"), test_rig(), subject(), 1);
  EXPECT_EQ(run_to_stop(engine), 25);
  EXPECT_EQ(engine.stop_reason(), StopReason::kMaxTrials);
  EXPECT_FALSE(engine.next_trial(engine.ready_at_us()).has_value());
}

TEST(Engine, MaxMinutesEndsTheSessionCountedFromTheFirstTrial) {
  TaskEngine engine(protocol_from("name: m\nlimits:\n  max_minutes: 1\n"), test_rig(), subject(), 1);
  // Each trial takes 2 s plus the 1 s ITI: trials start at 0, 3, ..., 57 s; the one at 60 s does not.
  EXPECT_EQ(run_to_stop(engine, 2'000'000), 20);
  EXPECT_EQ(engine.stop_reason(), StopReason::kMaxMinutes);
}

TEST(Engine, SpoutVolumeLimitIsNeverPassed) {
  // Habituation delivers 3 uL of each flavour on every choice; its limit is 600 uL per spout.
  TaskEngine engine(shipped_protocol("habituation"), test_rig(), subject(), 1);
  EXPECT_EQ(run_to_stop(engine), 200);
  EXPECT_EQ(engine.stop_reason(), StopReason::kSpoutVolume);
  EXPECT_NEAR(engine.summary().delivered_ul_by_valve[0], 600.0, 1e-9);
  EXPECT_NEAR(engine.summary().delivered_ul_by_valve[1], 600.0, 1e-9);
}

TEST(Engine, DailyWaterMaximumCountsWhatTheSubjectAlreadyDrank) {
  auto s = subject();
  s.daily_water_max_ml = 1.0;
  auto protocol = shipped_protocol("habituation");
  protocol.limits = SessionLimits{};
  TaskEngine engine(protocol, test_rig(), s, 1, 700.0);
  // 300 uL left today at 6 uL per trial.
  EXPECT_EQ(run_to_stop(engine), 50);
  EXPECT_EQ(engine.stop_reason(), StopReason::kDailyWater);
  EXPECT_NEAR(engine.water_today_ul(), 1000.0, 1e-9);
}

TEST(Engine, ProtocolThatCannotRunOnTheRigIsRefused) {
  const auto protocol = protocol_from("name: big\nrewards:\n  controllable_volume_ul: 12\n");
  try {
    TaskEngine engine(protocol, test_rig(), subject(), 1);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.diagnostics().size(), 2u);  // outside both valves' tables
    EXPECT_NE(std::string(e.what()).find("inline.yaml:3:27: rewards.controllable_volume_ul: 12 uL is outside valve "
                                         "cherry's calibrated range [0.8, 8.2] uL"),
              std::string::npos)
        << e.what();
  }
}

TEST(Engine, TrialDrawsDependOnlyOnSeedAndTrialNumber) {
  // Whatever the mouse does, trial n's five uniform draws are the same: the plans' draws match.
  const auto expert = testing::simulate(shipped_protocol("distractor"), 1.0, 77, 300);
  const auto naive = testing::simulate(shipped_protocol("distractor"), 0.0, 77, 300);
  for (std::size_t i = 0; i < expert.size(); ++i) {
    ASSERT_EQ(expert[i].plan.free_choice, naive[i].plan.free_choice);
    ASSERT_EQ(expert[i].plan.distractor_drawn, naive[i].plan.distractor_drawn);
  }
}

}  // namespace
}  // namespace rig::task
