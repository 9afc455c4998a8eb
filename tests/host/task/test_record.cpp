// task::record_trial: the record of a trial from the engine's plan, the device's result and times, and the
// engine's update (every field's source is its line in host/model/trial.def).
#include <gtest/gtest.h>

#include "host/task/record.hpp"

namespace rig::task {
namespace {

struct Inputs {
  TrialPlan plan;
  wire::TrialResult result{};
  model::TrialTimes times;
  TrialUpdate update;
};

// A left choice on a free trial, the controllable grape paid from the left spout, the distractor not.
Inputs left_choice() {
  Inputs in;
  in.plan.trial_number = 12;
  in.plan.block_index = 2;
  in.plan.high_side = wire::Side::kRight;
  in.plan.p_controllable_by_side = {0.2, 0.8};
  in.plan.p_distractor = 0.4;
  in.plan.controllable_drawn_by_side = {true, false};
  in.plan.controllable_valve = wire::Valve::kGrape;
  in.plan.distractor_valve = wire::Valve::kCherry;
  in.plan.volume_ul = {0.0, 3.0, 0.0, 0.0};
  in.plan.arm.open_us[wire::open_index(wire::Side::kLeft, wire::Valve::kGrape)] = 31000;
  in.plan.planned_at_us = 5'000'000;
  in.result.outcome = static_cast<std::uint8_t>(wire::TrialOutcome::kLeft);
  in.result.delivered_open_us[static_cast<int>(wire::Valve::kGrape)] = 31000;
  in.result.position_at_choice_ticks = -85;
  in.result.quiescence_restarts = 3;
  in.times = {1'000'000, 1'600'000, 1'950'000, 1'950'010};
  in.update.choice = wire::Side::kLeft;
  in.update.delivered_ul_by_valve = {0.0, 3.0};
  return in;
}

TEST(RecordTrial, CarriesThePlanTheResultAndTheUpdate) {
  const auto in = left_choice();
  const auto r = record_trial(in.plan, in.result, in.times, in.update);
  EXPECT_EQ(r.trial_number, 12u);
  EXPECT_EQ(r.block_index, 2u);
  EXPECT_EQ(r.high_side, wire::Side::kRight);
  EXPECT_EQ(r.p_controllable_left, 0.2);
  EXPECT_EQ(r.p_controllable_right, 0.8);
  EXPECT_TRUE(r.controllable_drawn_left);
  EXPECT_FALSE(r.controllable_drawn_right);
  EXPECT_EQ(r.controllable_flavour, wire::Valve::kGrape);
  EXPECT_EQ(r.planned_left_grape_ul, 3.0);
  EXPECT_EQ(model::planned_open_us(r, wire::Side::kLeft, wire::Valve::kGrape), 31000u);
  EXPECT_EQ(r.outcome, wire::TrialOutcome::kLeft);
  EXPECT_EQ(r.choice, wire::Side::kLeft);
  EXPECT_EQ(r.delivered_grape_open_us, 31000u);
  EXPECT_EQ(r.delivered_grape_ul, 3.0);
  EXPECT_TRUE(r.controllable_delivered);
  EXPECT_FALSE(r.distractor_delivered);
  EXPECT_EQ(r.reaction_time_us, 350'000);
  EXPECT_EQ(r.valve_open_device_us, 1'950'010);
  EXPECT_EQ(r.position_at_choice_ticks, -85);
  EXPECT_EQ(r.quiescence_restarts, 3u);
  // Left for the store.
  EXPECT_EQ(r.session_id, 0);
  EXPECT_EQ(r.subject_id, "");
  EXPECT_EQ(r.committed_at_unix_us, 0);
}

TEST(RecordTrial, DeviceTimesThatDidNotHappenAreNullAndSoIsTheReactionTime) {
  auto in = left_choice();
  in.times.choice_us = -1;
  in.times.valve_open_us = -1;
  in.update.choice.reset();
  const auto r = record_trial(in.plan, in.result, in.times, in.update);
  EXPECT_EQ(r.armed_device_us, 1'000'000);
  EXPECT_FALSE(r.choice_device_us);
  EXPECT_FALSE(r.valve_open_device_us);
  EXPECT_FALSE(r.reaction_time_us);
  EXPECT_FALSE(r.choice);
}

}  // namespace
}  // namespace rig::task
