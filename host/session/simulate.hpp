// `rig simulate`: the task engine and a simulated agent, with no device and no clock, as fast as the machine
// allows. The device's rule is applied directly: the chosen side's planned valves deliver, a miss delivers
// nothing; on instructed trials the agent sees the single available side, as a mouse sees a single spout.
#pragma once

#include <functional>

#include "host/analysis/agents.hpp"
#include "host/task/engine.hpp"
#include "session_runner.hpp"

namespace rig::app {

// Plausible fixed timings of a simulated trial, in microseconds (device time of the result).
struct SimulatedTiming {
  int64_t quiescence_us = 500000;
  int64_t reaction_us = 300000;
};

// Runs `engine` to its end, `agent` choosing with `rng`; each trial goes to `sink` (state_after is filled only
// when `with_state`, since copying the engine state per trial is most of the cost). Returns the number of
// trials. Throws what the engine throws. Not thread-safe; one session per call.
uint64_t simulate_session(task::TaskEngine& engine, analysis::QLearningAgent& agent, analysis::Rng& rng,
                          const std::function<void(const CompletedTrial&)>& sink, bool with_state = false,
                          SimulatedTiming timing = {});

}  // namespace rig::app
