// Runs whole sessions of the engine against a scripted mouse, for the schedule statistics tests.
#pragma once

#include <cstring>
#include <vector>

#include "task_test_support.hpp"

namespace rig::task::testing {

struct SimulatedTrial {
  TrialPlan plan;
  wire::Side choice = wire::Side::kLeft;
  TrialUpdate update;
};

// `trials` trials of `protocol` (its limits removed) on the test rig for a cherry-controllable subject;
// the clock advances exactly to each ITI's end.
inline std::vector<SimulatedTrial> simulate(Protocol protocol, double p_choose_high, std::uint64_t seed, int trials) {
  protocol.limits = SessionLimits{};
  TaskEngine engine(protocol, test_rig(), subject(), seed);
  ScriptedMouse mouse(p_choose_high, seed + 1);
  std::vector<SimulatedTrial> out;
  out.reserve(static_cast<std::size_t>(trials));
  std::int64_t now_us = 0;
  for (int i = 0; i < trials; ++i) {
    const auto plan = engine.next_trial(now_us);
    if (!plan) break;
    const auto choice = mouse.choose(*plan);
    const auto update = engine.on_result(*plan, device_result(*plan, choice), now_us + 2'000'000);
    out.push_back({*plan, choice, update});
    now_us = engine.ready_at_us();
  }
  return out;
}

// True when two plans arm the same bytes and log the same values.
inline bool same_plan(const TrialPlan& a, const TrialPlan& b) {
  return std::memcmp(&a.arm, &b.arm, sizeof a.arm) == 0 && a.trial_number == b.trial_number &&
         a.block_index == b.block_index && a.high_side == b.high_side && a.free_choice == b.free_choice &&
         a.instructed_side == b.instructed_side && a.controllable_drawn_by_side == b.controllable_drawn_by_side &&
         a.distractor_drawn == b.distractor_drawn && a.volume_ul == b.volume_ul &&
         a.p_controllable_by_side == b.p_controllable_by_side && a.p_distractor == b.p_distractor &&
         a.planned_at_us == b.planned_at_us;
}

}  // namespace rig::task::testing
