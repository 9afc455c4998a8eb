// A small stand-in for the task engine, for the analysis tests and benchmark only: the distractor task of
// DESIGN.md "The task" with its reversal rule, played by an agent. `rig simulate` uses host/task instead.
#pragma once

#include <cstdint>
#include <vector>

#include "host/analysis/agents.hpp"
#include "host/analysis/trial_record.hpp"

namespace rig::analysis::test_support {

struct SimulatedTask {
  double p_free = 0.8;            // otherwise instructed, side at random
  double p_high = 0.8;            // controllable flavour on the high side
  double p_low = 0.2;             // ... on the low side
  double p_distractor = 0.5;      // distractor flavour, whatever the choice
  int reversal_window = 50;       // free-choice "chose high" outcomes averaged
  double reversal_threshold = 0.8;
  double reversal_hazard = 0.1;   // per trial, once the window mean exceeds the threshold
};

// Plays `sessions` sessions of `trials_per_session` trials (session ids "s1", "s2", ...) with one agent
// that keeps learning across sessions. Deterministic for a given seed. Thread-safe (pure).
std::vector<TrialRecord> simulate_agent(const AgentParams& agent, int sessions, int trials_per_session,
                                        std::uint64_t seed, const SimulatedTask& task = {});

}  // namespace rig::analysis::test_support
