#include "host/analysis/history_regression.hpp"

#include <gtest/gtest.h>

#include "support/simulated_task.hpp"

namespace rig::analysis {
namespace {

using test_support::simulate_agent;

TEST(HistoryRegression, AnOutcomeThatNeverOccursHasNullWeightsAndNoIndex) {
  auto trials = simulate_agent(agent_preset(AgentPreset::kSavvy), 2, 400, 7);
  for (auto& t : trials) t.distractor_delivered = false;
  const HistoryFit fit = fit_history(trials, FitOptions{});
  ASSERT_TRUE(fit.model.converged);
  for (int k = 0; k < fit.lags; ++k) {
    EXPECT_FALSE(fit.weights[static_cast<int>(OutcomeType::kDistractor)][k].has_value());
    EXPECT_FALSE(fit.weights[static_cast<int>(OutcomeType::kBoth)][k].has_value());
    EXPECT_TRUE(fit.weights[static_cast<int>(OutcomeType::kNone)][k].has_value());
    EXPECT_TRUE(fit.weights[static_cast<int>(OutcomeType::kControllable)][k].has_value());
  }
  EXPECT_FALSE(fit.distractor_index.has_value());
  EXPECT_TRUE(fit.controllable_index.has_value());
  EXPECT_EQ(fit.model.columns.size(), 2u * fit.lags);
}

TEST(HistoryRegression, IndicesAreSumsOfWeightDifferencesWithContrastStandardErrors) {
  const auto trials = simulate_agent(agent_preset(AgentPreset::kMixed), 2, 800, 11);
  const HistoryFit fit = fit_history(trials, FitOptions{.lags = 3});
  ASSERT_TRUE(fit.model.converged);
  ASSERT_TRUE(fit.controllable_index && fit.distractor_index);
  double value = 0;
  for (int k = 0; k < 3; ++k) {
    value += fit.weights[1][k]->value - fit.weights[0][k]->value;
  }
  EXPECT_NEAR(fit.controllable_index->value, value, 1e-12);
  // Columns are laid out type-major, so none_k sits at coefficient 1 + k and controllable_k at 4 + k.
  Eigen::VectorXd c = Eigen::VectorXd::Zero(fit.model.coefficients.size());
  for (int k = 0; k < 3; ++k) {
    c[1 + k] = -1;
    c[4 + k] = +1;
  }
  EXPECT_NEAR(fit.controllable_index->se, std::sqrt(c.dot(fit.model.covariance * c)), 1e-12);
  EXPECT_GT(fit.controllable_index->se, 0);
}

TEST(HistoryRegression, CountsOnlyFreeChoiceNonMissTrialsAsTargets) {
  const auto trials = simulate_agent(agent_preset(AgentPreset::kNaive), 1, 500, 3);
  std::size_t targets = 0;
  for (const auto& t : trials) targets += (t.free_choice && t.choice != Choice::kMiss) ? 1 : 0;
  EXPECT_EQ(fit_history(trials, FitOptions{}).n_trials, targets);
}

TEST(HistoryRegression, RejectsBadOptions) {
  const std::vector<TrialRecord> none;
  EXPECT_THROW(fit_history(none, FitOptions{.lags = 0}), std::invalid_argument);
  EXPECT_THROW(fit_history(none, FitOptions{.l2 = -0.5}), std::invalid_argument);
  EXPECT_THROW(fit_history(none, FitOptions{.max_iterations = 0}), std::invalid_argument);
}

}  // namespace
}  // namespace rig::analysis

namespace rig::analysis {
namespace {

TEST(HistoryRegression, ADesignsLikelihoodUnderItsOwnFitIsTheFitsLikelihood) {
  const auto trials = simulate_agent(agent_preset(AgentPreset::kMixed), 2, 600, 31);
  const HistoryFit fit = fit_history(trials, FitOptions{.lags = 3});
  EXPECT_NEAR(design_loglik(fit.model, build_design(trials, 3)), fit.model.loglik, 1e-8);
}

TEST(HistoryRegression, TheLagsAreChosenOnHeldOutSessions) {
  const auto trials = simulate_agent(agent_preset(AgentPreset::kMixed), 4, 500, 32);
  const LagChoice choice = choose_lags(trials, 6, FitOptions{});
  ASSERT_EQ(choice.held_out_loglik.size(), 6u);
  for (std::size_t i = 0; i < choice.held_out_loglik.size(); ++i) {
    EXPECT_EQ(choice.held_out_loglik[i].first, static_cast<int>(i) + 1);
    EXPECT_LT(choice.held_out_loglik[i].second, 0.0);
  }
  ASSERT_GE(choice.best_lags, 1);
  const double best = choice.held_out_loglik[static_cast<std::size_t>(choice.best_lags - 1)].second;
  for (const auto& [lags, loglik] : choice.held_out_loglik) EXPECT_LE(loglik, best) << "L = " << lags;
  // The agent forgets (forgetting_rate 0.1): a few lags carry what history predicts; the most are not best.
  EXPECT_LT(choice.best_lags, 6);
  const auto one_session = simulate_agent(agent_preset(AgentPreset::kMixed), 1, 500, 33);
  EXPECT_THROW(choose_lags(one_session, 3, FitOptions{}), std::invalid_argument);
}

}  // namespace
}  // namespace rig::analysis
