#include "simulate.hpp"

#include "host/task/record.hpp"

namespace rig::app {

uint64_t simulate_session(task::TaskEngine& engine, analysis::QLearningAgent& agent, analysis::Rng& rng,
                          const std::function<void(const CompletedTrial&)>& sink, bool with_state,
                          SimulatedTiming timing) {
  uint64_t trials = 0;
  int64_t now_us = 0;
  CompletedTrial trial;
  wire::TrialResult r;
  model::TrialTimes times;
  while (auto plan = engine.next_trial(now_us)) {
    std::optional<analysis::Side> only;
    if (plan->instructed_side) {
      only = *plan->instructed_side == wire::Side::kLeft ? analysis::Side::kLeft : analysis::Side::kRight;
    }
    const analysis::Choice choice = agent.choose(only, rng);

    r = wire::TrialResult{};
    r.trial_id = plan->arm.trial_id;
    r.kind = plan->arm.kind;
    r.armed_t_us = static_cast<uint32_t>(now_us);
    r.go_cue_t_us = static_cast<uint32_t>(now_us + timing.quiescence_us);
    times = model::TrialTimes{now_us, now_us + timing.quiescence_us, -1, -1};
    if (choice == analysis::Choice::kMiss) {
      r.outcome = static_cast<uint8_t>(wire::TrialOutcome::kMiss);
    } else {
      const wire::Side side = choice == analysis::Choice::kLeft ? wire::Side::kLeft : wire::Side::kRight;
      const int64_t choice_us = now_us + timing.quiescence_us + timing.reaction_us;
      r.outcome = static_cast<uint8_t>(side);
      r.choice_t_us = static_cast<uint32_t>(choice_us);
      times.choice_us = choice_us;
      for (uint8_t v = 0; v < wire::kValveCount; ++v) {
        r.delivered_open_us[v] = plan->open_us(side, static_cast<wire::Valve>(v));
      }
      if (r.delivered_open_us[0] || r.delivered_open_us[1]) {
        r.valve_open_t_us = r.choice_t_us;
        times.valve_open_us = choice_us;
      }
    }
    const int64_t result_us = now_us + timing.quiescence_us + timing.reaction_us;
    const auto update = engine.on_result(*plan, r, result_us);
    const bool controllable = r.delivered_open_us[static_cast<size_t>(plan->controllable_valve)] > 0;
    const bool distractor = r.delivered_open_us[static_cast<size_t>(plan->distractor_valve)] > 0;
    agent.learn(choice, controllable, distractor);
    trial.record = task::record_trial(*plan, r, times, update);
    if (with_state) trial.state_after = engine.state();
    sink(trial);
    ++trials;
    now_us = engine.ready_at_us();
  }
  return trials;
}

}  // namespace rig::app
