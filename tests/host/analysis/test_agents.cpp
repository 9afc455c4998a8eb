#include "host/analysis/agents.hpp"

#include <gtest/gtest.h>

#include "host/analysis/history_regression.hpp"
#include "support/simulated_task.hpp"

namespace rig::analysis {
namespace {

using test_support::simulate_agent;

// Weight of `type` at lag 1, and summed over the lags.
double lag1(const HistoryFit& fit, OutcomeType type) { return fit.weights[static_cast<int>(type)][0]->value; }
// The lag-1 weight is more than two standard errors above (sign +1) or below (sign -1) zero.
bool significant(const HistoryFit& fit, OutcomeType type, int sign) {
  const Estimate& w = *fit.weights[static_cast<int>(type)][0];
  return sign * w.value - 2 * w.se > 0;
}
double summed(const HistoryFit& fit, OutcomeType type) {
  double sum = 0;
  for (const auto& w : fit.weights[static_cast<int>(type)]) sum += w->value;
  return sum;
}

HistoryFit fit_agent(AgentPreset preset, std::uint64_t seed) {
  const HistoryFit fit = fit_history(simulate_agent(agent_preset(preset), 4, 1000, seed), FitOptions{});
  EXPECT_TRUE(fit.model.converged);
  return fit;
}

TEST(Agents, StructureNaiveAgentGivesPositiveWeightsToEveryRewardAndNegativeToNone) {
  const HistoryFit fit = fit_agent(AgentPreset::kNaive, 101);
  for (const OutcomeType type : {OutcomeType::kControllable, OutcomeType::kDistractor, OutcomeType::kBoth}) {
    EXPECT_TRUE(significant(fit, type, +1)) << outcome_name(type) << " " << lag1(fit, type);
    EXPECT_GT(summed(fit, type), 0.5) << outcome_name(type);
  }
  EXPECT_TRUE(significant(fit, OutcomeType::kNone, -1)) << lag1(fit, OutcomeType::kNone);
  EXPECT_LT(summed(fit, OutcomeType::kNone), -0.5);
  EXPECT_GT(fit.distractor_index->value, 1.0);
}

TEST(Agents, StructureSavvyAgentGivesPositiveWeightsToControllableAndBothNegativeToDistractorAndNone) {
  const HistoryFit fit = fit_agent(AgentPreset::kSavvy, 102);
  EXPECT_TRUE(significant(fit, OutcomeType::kControllable, +1)) << lag1(fit, OutcomeType::kControllable);
  EXPECT_TRUE(significant(fit, OutcomeType::kBoth, +1)) << lag1(fit, OutcomeType::kBoth);
  EXPECT_TRUE(significant(fit, OutcomeType::kDistractor, -1)) << lag1(fit, OutcomeType::kDistractor);
  EXPECT_TRUE(significant(fit, OutcomeType::kNone, -1)) << lag1(fit, OutcomeType::kNone);
  // The distractor teaches the savvy agent nothing: its index is zero within a few standard errors.
  EXPECT_LT(std::abs(fit.distractor_index->value), 4 * fit.distractor_index->se);
}

TEST(Agents, MixedAgentCreditsTheControllableRewardMoreThanTheDistractorLikeTheMice) {
  const HistoryFit fit = fit_agent(AgentPreset::kMixed, 103);
  EXPECT_GT(fit.controllable_index->value, fit.distractor_index->value);
  EXPECT_GT(fit.distractor_index->value, 0.0);
}

TEST(Agents, LearningMovesTheChosenValueTowardTheRewardAndForgetsTheOther) {
  AgentParams params;
  params.learning_rate_controllable = params.learning_rate_distractor = 0.5;
  params.forgetting_rate = 0.25;
  params.controllable_weight = 1.0;
  params.distractor_weight = 0.5;
  QLearningAgent agent(params);
  agent.learn(Choice::kRight, true, true);  // reward 1.5
  EXPECT_DOUBLE_EQ(agent.values()[1], 0.75);
  agent.learn(Choice::kLeft, false, true);  // reward 0.5
  EXPECT_DOUBLE_EQ(agent.values()[0], 0.25);
  EXPECT_DOUBLE_EQ(agent.values()[1], 0.75 * 0.75);
  agent.learn(Choice::kMiss, true, true);
  EXPECT_DOUBLE_EQ(agent.values()[0], 0.25);
}

TEST(Agents, EachFlavourLearnsAtItsOwnRate) {
  AgentParams params;
  params.learning_rate_controllable = 0.5;
  params.learning_rate_distractor = 0.0;  // credits nothing to the distractor
  params.forgetting_rate = 0.0;
  QLearningAgent agent(params);
  agent.learn(Choice::kRight, false, true);
  EXPECT_DOUBLE_EQ(agent.values()[1], 0.0);
  agent.learn(Choice::kRight, true, true);
  EXPECT_DOUBLE_EQ(agent.values()[1], 0.5);
  params.learning_rate_distractor = 0.25;
  QLearningAgent both(params);
  both.learn(Choice::kLeft, true, true);  // 0.5 * 1 + 0.25 * 1
  EXPECT_DOUBLE_EQ(both.values()[0], 0.75);
}

TEST(Agents, ChoiceProbabilityIsSoftmaxOfValuesPlusPerseveration) {
  AgentParams params;
  params.learning_rate_controllable = params.learning_rate_distractor = 1.0;
  params.inverse_temperature = 2.0;
  params.perseveration = 0.5;
  QLearningAgent agent(params);
  EXPECT_DOUBLE_EQ(agent.p_right_softmax(), 0.5);
  agent.learn(Choice::kLeft, true, false);  // Q = (1, 0), previous choice left
  EXPECT_NEAR(agent.p_right_softmax(), 1 / (1 + std::exp(2.0 + 0.5)), 1e-15);
}

TEST(Agents, InstructedTrialsTakeTheOfferedSideUnlessTheAgentMisses) {
  QLearningAgent agent(agent_preset(AgentPreset::kNaive));
  Rng rng(1);
  int misses = 0;
  for (int i = 0; i < 1000; ++i) {
    const Choice c = agent.choose(Side::kLeft, rng);
    EXPECT_NE(c, Choice::kRight);
    misses += c == Choice::kMiss ? 1 : 0;
  }
  EXPECT_GT(misses, 0);   // miss_rate 0.01: about 10
  EXPECT_LT(misses, 40);
}

TEST(Agents, AFullLapseChoosesAtRandom) {
  AgentParams params;
  params.lapse_rate = 1.0;
  params.inverse_temperature = 50.0;
  QLearningAgent agent(params);
  agent.learn(Choice::kRight, true, false);
  Rng rng(2);
  int rights = 0;
  for (int i = 0; i < 4000; ++i) rights += agent.choose(std::nullopt, rng) == Choice::kRight ? 1 : 0;
  EXPECT_NEAR(rights / 4000.0, 0.5, 0.05);
}

TEST(Agents, TheSameSeedGivesTheSameChoices) {
  const auto a = simulate_agent(agent_preset(AgentPreset::kMixed), 1, 200, 5);
  const auto b = simulate_agent(agent_preset(AgentPreset::kMixed), 1, 200, 5);
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].choice, b[i].choice);
}

TEST(Agents, PresetsAreNamedAndDifferInWhatCountsAsReward) {
  EXPECT_EQ(parse_agent_preset("naive"), AgentPreset::kNaive);
  EXPECT_EQ(parse_agent_preset("savvy"), AgentPreset::kSavvy);
  EXPECT_EQ(parse_agent_preset("mixed"), AgentPreset::kMixed);
  EXPECT_FALSE(parse_agent_preset("clever"));
  EXPECT_EQ(agent_preset(AgentPreset::kNaive).distractor_weight, agent_preset(AgentPreset::kNaive).controllable_weight);
  EXPECT_EQ(agent_preset(AgentPreset::kSavvy).distractor_weight, 0.0);
  EXPECT_GT(agent_preset(AgentPreset::kMixed).distractor_weight, 0.0);
  EXPECT_LT(agent_preset(AgentPreset::kMixed).distractor_weight, agent_preset(AgentPreset::kMixed).controllable_weight);
}

TEST(Agents, RejectParametersOutOfRange) {
  AgentParams params;
  params.learning_rate_controllable = 1.5;
  EXPECT_THROW(QLearningAgent{params}, std::invalid_argument);
  params = AgentParams{};
  params.miss_rate = 1.0;
  EXPECT_THROW(QLearningAgent{params}, std::invalid_argument);
}

}  // namespace
}  // namespace rig::analysis
