// The controllable flavour's reversal schedule: which side is high, and when it flips.
#pragma once

#include <cstdint>
#include <deque>

#include "firmware/wire/messages.hpp"
#include "host/task/protocol.hpp"
#include "host/task/random_stream.hpp"

namespace rig::task {

// Everything the schedule remembers; saved with the engine state to resume a session exactly.
struct ScheduleState {
  wire::Side high_side = wire::Side::kLeft;
  std::uint32_t block_index = 0;           // 0-based, +1 per reversal
  std::uint32_t block_choice_trials = 0;   // trials with a choice since the block began
  std::deque<bool> criterion_window;       // last free-choice "chose high" outcomes of this block, oldest first
  bool criterion_met = false;              // criterion_then_hazard: flips possible from now until the next reversal
  std::uint32_t block_length_trials = 0;   // block_length: this block's drawn length in choice trials

  bool operator==(const ScheduleState&) const = default;
};

// The other side. Pure; thread-safe.
constexpr wire::Side opposite(wire::Side side) {
  return side == wire::Side::kLeft ? wire::Side::kRight : wire::Side::kLeft;
}

// Advances the block structure trial by trial. Rules (ReversalRule):
// - criterion_then_hazard: every free-choice trial with a choice pushes "chose high" into a window of the
//   last window_free_trials; once the window is full and its mean exceeds criterion_high_fraction, flips are
//   possible, and from that trial on every choice trial (free or instructed) flips with hazard_per_trial.
//   A reversal clears the window and the criterion.
// - fixed_hazard: every choice trial flips with hazard_per_trial.
// - block_length: each block lasts a length drawn uniformly in [block_min_trials, block_max_trials] choice trials.
// - none: the high side never changes.
// Trials without a choice (miss, abort) do not advance the schedule. Randomness comes only from the stream
// passed in. Not thread-safe.
class ReversalSchedule {
 public:
  // A fresh schedule: the start side as the protocol says (random: one draw) and, for block_length, the first
  // block's length (one or more draws).
  ReversalSchedule(const ReversalSettings& settings, StartSide start_side, RandomStream& rng);
  // A schedule resumed from a saved state. Throws std::invalid_argument if the state cannot belong to these
  // settings (criterion window longer than the setting).
  ReversalSchedule(const ReversalSettings& settings, ScheduleState state);

  // Records one trial with a choice and returns true if the block flipped after it.
  bool on_choice(bool free_choice, wire::Side chosen, RandomStream& rng);

  const ScheduleState& state() const { return state_; }
  wire::Side high_side() const { return state_.high_side; }

 private:
  void start_block(RandomStream& rng);
  bool should_flip(RandomStream& rng);

  ReversalSettings settings_;
  ScheduleState state_;
};

}  // namespace rig::task
