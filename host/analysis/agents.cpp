#include "host/analysis/agents.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace rig::analysis {
namespace {

void require(bool ok, const char* field, const char* range) {
  if (!ok) throw std::invalid_argument(std::string("agent parameter ") + field + " must be " + range);
}

bool is_rate(double x) { return x >= 0.0 && x <= 1.0; }

}  // namespace

AgentParams agent_preset(AgentPreset preset) {
  // The presets differ only in what the distractor is worth; the rest gives mouse-like learning curves on
  // the default task (0.8/0.2 reversals, distractor 0.5).
  const double distractor_weight = preset == AgentPreset::kNaive ? 1.0 : preset == AgentPreset::kSavvy ? 0.0 : 0.5;
  return AgentParams{.learning_rate_controllable = 0.5,
                     .learning_rate_distractor = 0.5,
                     .inverse_temperature = 5.0,
                     .forgetting_rate = 0.1,
                     .perseveration = 0.2,
                     .lapse_rate = 0.02,
                     .miss_rate = 0.01,
                     .controllable_weight = 1.0,
                     .distractor_weight = distractor_weight};
}

std::optional<AgentPreset> parse_agent_preset(std::string_view name) {
  if (const AgentPreset* preset = model::value_of(kAgentPresetNames, name)) return *preset;
  return std::nullopt;
}

AgentParams validated(const AgentParams& params) {
  require(is_rate(params.learning_rate_controllable), "learning_rate_controllable", "in [0, 1]");
  require(is_rate(params.learning_rate_distractor), "learning_rate_distractor", "in [0, 1]");
  require(std::isfinite(params.inverse_temperature) && params.inverse_temperature >= 0.0, "inverse_temperature",
          "finite and >= 0");
  require(is_rate(params.forgetting_rate), "forgetting_rate", "in [0, 1]");
  require(std::isfinite(params.perseveration), "perseveration", "finite");
  require(is_rate(params.lapse_rate), "lapse_rate", "in [0, 1]");
  require(params.miss_rate >= 0.0 && params.miss_rate < 1.0, "miss_rate", "in [0, 1)");
  require(std::isfinite(params.controllable_weight), "controllable_weight", "finite");
  require(std::isfinite(params.distractor_weight), "distractor_weight", "finite");
  return params;
}

QLearningAgent::QLearningAgent(const AgentParams& params) : params_(validated(params)) {}

double QLearningAgent::p_right_softmax() const {
  const double logit = params_.inverse_temperature * (q_[1] - q_[0]) + params_.perseveration * previous_sign_;
  return 1.0 / (1.0 + std::exp(-logit));
}

Choice QLearningAgent::choose(std::optional<Side> only_side, Rng& rng) {
  if (bernoulli(rng, params_.miss_rate)) return Choice::kMiss;
  if (only_side) return *only_side == Side::kRight ? Choice::kRight : Choice::kLeft;
  const double p_right = bernoulli(rng, params_.lapse_rate) ? 0.5 : p_right_softmax();
  return bernoulli(rng, p_right) ? Choice::kRight : Choice::kLeft;
}

void QLearningAgent::learn(Choice choice, bool controllable_delivered, bool distractor_delivered) {
  const auto sign = choice_sign(choice);
  if (!sign) return;
  const std::size_t chosen = *sign > 0 ? 1 : 0;
  const double controllable = controllable_delivered ? params_.controllable_weight : 0.0;
  const double distractor = distractor_delivered ? params_.distractor_weight : 0.0;
  q_controllable_[chosen] += params_.learning_rate_controllable * (controllable - q_controllable_[chosen]);
  q_distractor_[chosen] += params_.learning_rate_distractor * (distractor - q_distractor_[chosen]);
  q_controllable_[1 - chosen] *= 1.0 - params_.forgetting_rate;
  q_distractor_[1 - chosen] *= 1.0 - params_.forgetting_rate;
  for (std::size_t side = 0; side < 2; ++side) q_[side] = q_controllable_[side] + q_distractor_[side];
  previous_sign_ = *sign;
}

}  // namespace rig::analysis
