#include "host/task/schedule.hpp"

#include <algorithm>
#include <stdexcept>

namespace rig::task {

ReversalSchedule::ReversalSchedule(const ReversalSettings& settings, StartSide start_side, RandomStream& rng)
    : settings_(settings) {
  switch (start_side) {
    case StartSide::kLeft:
      state_.high_side = wire::Side::kLeft;
      break;
    case StartSide::kRight:
      state_.high_side = wire::Side::kRight;
      break;
    case StartSide::kRandom:
      state_.high_side = rng.bernoulli(0.5) ? wire::Side::kRight : wire::Side::kLeft;
      break;
  }
  start_block(rng);
}

ReversalSchedule::ReversalSchedule(const ReversalSettings& settings, ScheduleState state)
    : settings_(settings), state_(std::move(state)) {
  if (state_.criterion_window.size() > static_cast<std::size_t>(settings_.window_free_trials)) {
    throw std::invalid_argument("saved schedule state has a criterion window of " +
                                std::to_string(state_.criterion_window.size()) + " trials; the protocol's is " +
                                std::to_string(settings_.window_free_trials));
  }
}

void ReversalSchedule::start_block(RandomStream& rng) {
  state_.block_choice_trials = 0;
  state_.criterion_window.clear();
  state_.criterion_met = false;
  state_.block_length_trials = 0;
  if (settings_.rule == ReversalRule::kBlockLength) {
    state_.block_length_trials = static_cast<std::uint32_t>(rng.uniform_int(
        static_cast<std::uint64_t>(settings_.block_min_trials), static_cast<std::uint64_t>(settings_.block_max_trials)));
  }
}

bool ReversalSchedule::should_flip(RandomStream& rng) {
  switch (settings_.rule) {
    case ReversalRule::kCriterionThenHazard:
      return state_.criterion_met && rng.bernoulli(settings_.hazard_per_trial);
    case ReversalRule::kFixedHazard:
      return rng.bernoulli(settings_.hazard_per_trial);
    case ReversalRule::kBlockLength:
      return state_.block_choice_trials >= state_.block_length_trials;
    case ReversalRule::kNone:
      break;
  }
  return false;
}

bool ReversalSchedule::on_choice(bool free_choice, wire::Side chosen, RandomStream& rng) {
  ++state_.block_choice_trials;
  if (settings_.rule == ReversalRule::kCriterionThenHazard && free_choice) {
    auto& window = state_.criterion_window;
    window.push_back(chosen == state_.high_side);
    if (window.size() > static_cast<std::size_t>(settings_.window_free_trials)) window.pop_front();
    const auto high_count = std::count(window.begin(), window.end(), true);
    // The criterion is latched: once met, flips stay possible until the reversal, as the task defines it.
    if (window.size() == static_cast<std::size_t>(settings_.window_free_trials) &&
        static_cast<double>(high_count) / static_cast<double>(window.size()) > settings_.criterion_high_fraction) {
      state_.criterion_met = true;
    }
  }
  if (!should_flip(rng)) return false;
  state_.high_side = opposite(state_.high_side);
  ++state_.block_index;
  start_block(rng);
  return true;
}

}  // namespace rig::task
