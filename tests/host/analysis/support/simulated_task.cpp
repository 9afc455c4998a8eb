#include "support/simulated_task.hpp"

#include <deque>
#include <numeric>
#include <string>

#include "host/analysis/random.hpp"

namespace rig::analysis::test_support {

std::vector<TrialRecord> simulate_agent(const AgentParams& params, int sessions, int trials_per_session,
                                        std::uint64_t seed, const SimulatedTask& task) {
  Rng rng(seed);
  QLearningAgent agent(params);
  std::vector<TrialRecord> trials;
  trials.reserve(static_cast<std::size_t>(sessions) * static_cast<std::size_t>(trials_per_session));
  for (int s = 1; s <= sessions; ++s) {
    // Appending rather than "s" + to_string(s): GCC 12 at -O3 warns falsely (-Wrestrict) on the latter.
    std::string session_id = "s";
    session_id += std::to_string(s);
    Side high = bernoulli(rng, 0.5) ? Side::kRight : Side::kLeft;
    std::deque<int> window;
    bool flips_armed = false;
    for (int t = 0; t < trials_per_session; ++t) {
      TrialRecord trial;
      trial.session_id = session_id;
      trial.free_choice = bernoulli(rng, task.p_free);
      std::optional<Side> only_side;
      if (!trial.free_choice) only_side = bernoulli(rng, 0.5) ? Side::kRight : Side::kLeft;
      trial.p_controllable_left = high == Side::kLeft ? task.p_high : task.p_low;
      trial.p_controllable_right = high == Side::kRight ? task.p_high : task.p_low;
      trial.p_distractor = task.p_distractor;
      // Both possible controllable outcomes are drawn before the choice, as the rig pre-draws them.
      const bool pays_left = bernoulli(rng, trial.p_controllable_left);
      const bool pays_right = bernoulli(rng, trial.p_controllable_right);
      const bool distractor = bernoulli(rng, trial.p_distractor);
      trial.choice = agent.choose(only_side, rng);
      if (trial.choice != Choice::kMiss) {
        trial.controllable_delivered = trial.choice == Choice::kLeft ? pays_left : pays_right;
        trial.distractor_delivered = distractor;
      }
      agent.learn(trial.choice, trial.controllable_delivered, trial.distractor_delivered);
      if (trial.free_choice && trial.choice != Choice::kMiss) {
        window.push_back((trial.choice == Choice::kRight) == (high == Side::kRight) ? 1 : 0);
        if (static_cast<int>(window.size()) > task.reversal_window) window.pop_front();
        if (static_cast<int>(window.size()) == task.reversal_window &&
            std::accumulate(window.begin(), window.end(), 0) > task.reversal_threshold * task.reversal_window) {
          flips_armed = true;
        }
      }
      trials.push_back(std::move(trial));
      if (flips_armed && bernoulli(rng, task.reversal_hazard)) {
        high = high == Side::kRight ? Side::kLeft : Side::kRight;
        window.clear();
        flips_armed = false;
      }
    }
  }
  return trials;
}

}  // namespace rig::analysis::test_support
