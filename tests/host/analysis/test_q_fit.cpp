// The Q-learning models fitted by maximum likelihood: the likelihood is the agents' own choice rule, its
// gradient is exact, and simulated agents' parameters are recovered (including a distractor that teaches
// nothing and one that teaches as much as the controllable flavour).
#include "host/analysis/q_fit.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "support/simulated_task.hpp"

namespace rig::analysis {
namespace {

using test_support::simulate_agent;

AgentParams agent(double alpha_c, double alpha_d, double beta, double distractor_weight) {
  AgentParams a;
  a.learning_rate_controllable = alpha_c;
  a.learning_rate_distractor = alpha_d;
  a.inverse_temperature = beta;
  a.forgetting_rate = 0.1;
  a.perseveration = 0.2;
  a.lapse_rate = 0.02;
  a.miss_rate = 0.01;
  a.controllable_weight = 1.0;
  a.distractor_weight = distractor_weight;
  return a;
}

QParams params_of(const AgentParams& a) {
  return {a.learning_rate_controllable,
          a.learning_rate_distractor,
          a.inverse_temperature,
          a.forgetting_rate,
          a.perseveration,
          a.lapse_rate,
          a.distractor_weight};
}

TEST(QModel, TheLikelihoodIsTheAgentsOwnChoiceRule) {
  const AgentParams truth = agent(0.4, 0.2, 4.0, 0.6);
  const auto trials = simulate_agent(truth, 1, 600, 5);
  // Replay the trials through an agent: its P(choice) on every free choice.
  QLearningAgent replay(truth);
  double expected = 0.0;
  for (const auto& t : trials) {
    if (t.choice == Choice::kMiss) continue;
    if (t.free_choice) {
      const double p_right = 0.5 * truth.lapse_rate + (1.0 - truth.lapse_rate) * replay.p_right_softmax();
      expected += std::log(t.choice == Choice::kRight ? p_right : 1.0 - p_right);
    }
    replay.learn(t.choice, t.controllable_delivered, t.distractor_delivered);
  }
  EXPECT_NEAR(q_loglik(trials, params_of(truth)), expected, 1e-9);
}

TEST(QModel, TheGradientIsTheLikelihoodsDerivative) {
  const auto trials = simulate_agent(agent(0.4, 0.2, 4.0, 0.6), 2, 300, 6);
  const QParams at{0.35, 0.25, 3.5, 0.15, 0.3, 0.05, 0.7};
  QParams gradient{};
  q_loglik(trials, at, &gradient);
  for (std::size_t p = 0; p < kQParamCount; ++p) {
    const double h = 1e-6;
    QParams up = at, down = at;
    up[p] += h;
    down[p] -= h;
    const double numeric = (q_loglik(trials, up) - q_loglik(trials, down)) / (2 * h);
    EXPECT_NEAR(gradient[p], numeric, 1e-4 * (1.0 + std::abs(numeric))) << kQParamNames[p];
  }
  QParams outside = at;
  outside[kLapseRate] = 0.7;
  EXPECT_THROW(q_loglik(trials, outside), std::invalid_argument);
}

// Parameter recovery on 5,000 trials (one session: the model's values start at 0 at each session, as the
// simulated agent's do at its start).
void expect_recovered(const AgentParams& truth, std::uint64_t seed, double alpha_tolerance) {
  const auto trials = simulate_agent(truth, 1, 5000, seed);
  const QFit fit =
      fit_q_model(trials, QModelKind::kMixed, QFitOptions{.starts = 4, .seed = 1, .cross_validate = false});
  EXPECT_TRUE(fit.converged);
  EXPECT_NEAR(fit.params[kLearningRateControllable], truth.learning_rate_controllable, alpha_tolerance);
  EXPECT_NEAR(fit.params[kLearningRateDistractor], truth.learning_rate_distractor, alpha_tolerance);
  EXPECT_NEAR(fit.params[kInverseTemperature], truth.inverse_temperature, 0.3 * truth.inverse_temperature);
  EXPECT_NEAR(fit.params[kPerseveration], truth.perseveration, 0.25);
  EXPECT_GE(fit.loglik, q_loglik(trials, params_of(truth)) - 1e-6) << "the fit is at least as likely as the truth";
  ::testing::Test::RecordProperty("alpha_c", std::to_string(fit.params[kLearningRateControllable]));
  ::testing::Test::RecordProperty("alpha_d", std::to_string(fit.params[kLearningRateDistractor]));
  ::testing::Test::RecordProperty("beta", std::to_string(fit.params[kInverseTemperature]));
}

TEST(QModelFit, RecoversAMixedAgent) { expect_recovered(agent(0.5, 0.25, 5.0, 0.5), 11, 0.1); }

TEST(QModelFit, RecoversADistractorThatTeachesNothing) {
  // alpha_distractor = 0: the distractor's weight cannot be told, its rate can.
  const AgentParams truth = agent(0.5, 0.0, 5.0, 1.0);
  const auto trials = simulate_agent(truth, 1, 5000, 12);
  const QFit mixed = fit_q_model(trials, QModelKind::kMixed, QFitOptions{.starts = 4, .cross_validate = false});
  EXPECT_NEAR(mixed.params[kLearningRateControllable], 0.5, 0.1);
  const double credit = mixed.params[kLearningRateDistractor] * std::abs(mixed.params[kDistractorWeight]);
  EXPECT_LT(credit, 0.05) << "alpha_d " << mixed.params[kLearningRateDistractor] << " weight "
                          << mixed.params[kDistractorWeight];
  const QFit savvy = fit_q_model(trials, QModelKind::kSavvy, QFitOptions{.starts = 4, .cross_validate = false});
  const QFit naive = fit_q_model(trials, QModelKind::kNaive, QFitOptions{.starts = 4, .cross_validate = false});
  EXPECT_LT(savvy.bic, naive.bic) << "BIC prefers the savvy model for a savvy agent";
  EXPECT_FALSE(savvy.free[kLearningRateDistractor]);
  EXPECT_EQ(savvy.params[kLearningRateDistractor], 0.0);
}

TEST(QModelFit, RecoversADistractorThatTeachesAsMuchAsTheControllableFlavour) {
  const AgentParams truth = agent(0.4, 0.4, 5.0, 1.0);
  expect_recovered(truth, 13, 0.1);
  const auto trials = simulate_agent(truth, 1, 5000, 13);
  const QFit naive = fit_q_model(trials, QModelKind::kNaive, QFitOptions{.starts = 4, .cross_validate = false});
  EXPECT_EQ(naive.params[kLearningRateControllable], naive.params[kLearningRateDistractor]);
  EXPECT_NEAR(naive.params[kLearningRateControllable], 0.4, 0.1);
  ASSERT_TRUE(naive.se[kInverseTemperature]);
  EXPECT_GT(*naive.se[kInverseTemperature], 0.0);
}

TEST(QModelFit, CrossValidatesOverHeldOutSessionsAndCountsTheChoices) {
  const auto trials = simulate_agent(agent(0.5, 0.25, 5.0, 0.5), 3, 400, 14);
  const QFit fit = fit_q_model(trials, QModelKind::kNaive, QFitOptions{.starts = 2});
  ASSERT_TRUE(fit.cv_loglik);
  EXPECT_LT(*fit.cv_loglik, 0.0);
  EXPECT_LE(*fit.cv_loglik, fit.loglik + 1e-9) << "held-out sessions fit no better than the sessions fitted";
  std::size_t free_choices = 0;
  for (const auto& t : trials) free_choices += t.free_choice && t.choice != Choice::kMiss;
  EXPECT_EQ(fit.n_choices, free_choices);
  EXPECT_NEAR(fit.bic, 5 * std::log(static_cast<double>(free_choices)) - 2 * fit.loglik, 1e-9);
  const std::vector<TrialRecord> none;
  EXPECT_THROW(fit_q_model(none, QModelKind::kMixed), std::invalid_argument);
}

}  // namespace
}  // namespace rig::analysis
