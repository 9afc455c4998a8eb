// Simulated mice: Q-learning agents for the distractor task (the paper's structure-naive and -savvy agents).
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "host/analysis/random.hpp"
#include "host/analysis/trial_record.hpp"
#include "host/model/names.hpp"

namespace rig::analysis {

// All rates are per trial, in [0, 1]; weights and temperatures are unitless (reward units of one delivery).
struct AgentParams {
  // alpha of each flavour's value: Qc(chosen) += alpha_c * (controllable reward - Qc(chosen)), the same for the
  // distractor's Qd; the agent acts on Q = Qc + Qd. Equal rates are the one-value model Q += alpha (reward - Q).
  double learning_rate_controllable = 0.5;
  double learning_rate_distractor = 0.5;
  double inverse_temperature = 5.0;   // beta: logit P(right) = beta * (Q(right) - Q(left)) + ...
  double forgetting_rate = 0.0;       // Q(unchosen) *= (1 - forgetting_rate)
  double perseveration = 0.0;         // + perseveration * s(previous choice), s = +1 right, -1 left
  double lapse_rate = 0.0;            // with this probability the choice is a coin flip
  double miss_rate = 0.0;             // with this probability the agent does not respond at all
  double controllable_weight = 1.0;   // what one controllable delivery is worth as reward
  double distractor_weight = 1.0;     // what one distractor delivery is worth as reward
};

// naive: learns from any reward; savvy: from the controllable flavour only; mixed: from both, the
// distractor at half weight.
enum class AgentPreset { kNaive, kSavvy, kMixed };
// The presets as files and options name them.
inline constexpr model::Named<AgentPreset> kAgentPresetNames[] = {
    {"naive", AgentPreset::kNaive}, {"savvy", AgentPreset::kSavvy}, {"mixed", AgentPreset::kMixed}};

// The parameters of a preset. Thread-safe.
AgentParams agent_preset(AgentPreset preset);
// "naive", "savvy" or "mixed" -> preset; nullopt otherwise. Thread-safe.
std::optional<AgentPreset> parse_agent_preset(std::string_view name);
// Returns `params` after checking ranges. Throws std::invalid_argument naming the offending field.
AgentParams validated(const AgentParams& params);

// A Q-learning agent with two action values (left, right), starting at 0. Not thread-safe; every random
// draw comes from the caller's engine, so a seeded engine makes a run reproducible.
class QLearningAgent {
 public:
  // Throws std::invalid_argument on parameters out of range (see validated()).
  explicit QLearningAgent(const AgentParams& params);

  // The agent's response: with `only_side` set (an instructed trial) it takes that side, otherwise it
  // chooses by softmax with perseveration and lapse; either way it may miss (miss_rate).
  Choice choose(std::optional<Side> only_side, Rng& rng);
  // Learns from a trial's result. A miss teaches nothing and is not remembered for perseveration.
  void learn(Choice choice, bool controllable_delivered, bool distractor_delivered);

  // P(right) on a free trial, lapse and miss aside (for tests and plots).
  double p_right_softmax() const;
  const std::array<double, 2>& values() const { return q_; }  // Qc + Qd, [left, right]
  const AgentParams& params() const { return params_; }

 private:
  AgentParams params_;
  std::array<double, 2> q_controllable_{0.0, 0.0};
  std::array<double, 2> q_distractor_{0.0, 0.0};
  std::array<double, 2> q_{0.0, 0.0};
  int previous_sign_ = 0;
};

}  // namespace rig::analysis
