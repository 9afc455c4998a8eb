#include "host/analysis/crt.hpp"

#include <gtest/gtest.h>

#include "support/simulated_task.hpp"

namespace rig::analysis {
namespace {

using test_support::simulate_agent;

TEST(ConditionalRandomizationTest, PIsSmallForARealEffect) {
  // The naive agent learns from both flavours: both indices are real effects.
  const auto trials = simulate_agent(agent_preset(AgentPreset::kNaive), 2, 500, 21);
  const CrtResult result = conditional_randomization_test(trials, CrtOptions{.surrogates = 49, .seed = 5});
  ASSERT_TRUE(result.controllable_p && result.distractor_p);
  EXPECT_DOUBLE_EQ(*result.controllable_p, 0.02);  // no surrogate reached the observed index
  EXPECT_DOUBLE_EQ(*result.distractor_p, 0.02);
  EXPECT_EQ(result.controllable_surrogates.size(), 49u);
}

TEST(ConditionalRandomizationTest, PIsOnTheGridOneOverOnePlusK) {
  const auto trials = simulate_agent(agent_preset(AgentPreset::kSavvy), 1, 400, 2);
  const CrtResult result =
      conditional_randomization_test(trials, CrtOptions{.surrogates = 9, .seed = 1, .test_controllable = false});
  ASSERT_TRUE(result.distractor_p);
  EXPECT_FALSE(result.controllable_p);
  int at_least = 0;
  for (const double s : result.distractor_surrogates) at_least += s >= *result.distractor_observed ? 1 : 0;
  EXPECT_DOUBLE_EQ(*result.distractor_p, (1.0 + at_least) / 10.0);
}

TEST(ConditionalRandomizationTest, FalsePositiveRateIsNearNominalWhenThereIsNoEffect) {
  // The savvy agent ignores the distractor, so its distractor index has no real effect. With K = 19 the
  // smallest p is 0.05 and P(p <= 0.05) = 1/20 under the null; over 200 seeds the rejections are
  // Binomial(200, 0.05) (mean 10, sd 3.1) and the mean p is 0.525 (sd 0.02). The bounds are > 5 sd wide.
  // Two lags and short sessions keep the 4200 fits cheap in the sanitizer build.
  constexpr int kSeeds = 200;
  int rejections = 0;
  double p_sum = 0;
  for (int seed = 1; seed <= kSeeds; ++seed) {
    const auto trials = simulate_agent(agent_preset(AgentPreset::kSavvy), 1, 200, 1000 + seed);
    const CrtResult result = conditional_randomization_test(
        trials, CrtOptions{.surrogates = 19, .seed = static_cast<std::uint64_t>(seed), .threads = 2,
                           .fit = FitOptions{.lags = 2}, .test_controllable = false, .test_structure = false});
    ASSERT_TRUE(result.distractor_p);
    rejections += *result.distractor_p <= 0.05 + 1e-12 ? 1 : 0;
    p_sum += *result.distractor_p;
  }
  RecordProperty("rejections", rejections);
  RecordProperty("mean_p", std::to_string(p_sum / kSeeds));
  EXPECT_GE(rejections, 1);
  EXPECT_LE(rejections, 28);
  EXPECT_NEAR(p_sum / kSeeds, 0.525, 0.12);
}

TEST(FlavourLabelTest, IsCalibratedForAStructureNaiveAgentWhoseIndicesStillDiffer) {
  // The naive agent values both flavours alike, yet its ci - di is positive (a controllable reward also tells
  // where the high side is, which a few lags of history cannot absorb): a naive comparison of the indices would
  // find structure. The flavour-label test redraws which flavour a single reward was from its logged
  // probabilities, so its surrogates carry the same bias. With K = 19 over 150 seeds the rejections at
  // p <= 0.05 are Binomial(150, 0.05) (mean 7.5, sd 2.7) and the mean p is 0.525 (sd 0.024): bounds > 5 sd.
  constexpr int kSeeds = 150;
  int rejections = 0;
  int positive_differences = 0;
  double p_sum = 0;
  for (int seed = 1; seed <= kSeeds; ++seed) {
    const auto trials = simulate_agent(agent_preset(AgentPreset::kNaive), 1, 300, 3000 + seed);
    const CrtResult result = conditional_randomization_test(
        trials, CrtOptions{.surrogates = 19, .seed = static_cast<std::uint64_t>(seed), .threads = 2,
                           .fit = FitOptions{.lags = 2}, .test_controllable = false, .test_distractor = false});
    ASSERT_TRUE(result.structure_p);
    rejections += *result.structure_p <= 0.05 + 1e-12 ? 1 : 0;
    positive_differences += *result.structure_observed > 0 ? 1 : 0;
    p_sum += *result.structure_p;
  }
  RecordProperty("rejections", rejections);
  RecordProperty("positive_differences", positive_differences);
  RecordProperty("mean_p", std::to_string(p_sum / kSeeds));
  EXPECT_GT(positive_differences, kSeeds / 2) << "the naive agent's ci - di should lean positive";
  EXPECT_LE(rejections, 22);
  EXPECT_NEAR(p_sum / kSeeds, 0.525, 0.12);
}

TEST(FlavourLabelTest, FindsTheStructureOfAMixedAgent) {
  // The mixed agent values the distractor at half the controllable flavour.
  const auto trials = simulate_agent(agent_preset(AgentPreset::kMixed), 2, 1500, 77);
  const CrtResult result = conditional_randomization_test(
      trials, CrtOptions{.surrogates = 49, .seed = 3, .threads = 2, .test_controllable = false, .test_distractor = false});
  ASSERT_TRUE(result.structure_p);
  EXPECT_GT(*result.structure_observed, 0.0);
  EXPECT_DOUBLE_EQ(*result.structure_p, 1.0 / 50.0) << "no surrogate reaches the observed ci - di";
  EXPECT_EQ(result.structure_surrogates.size(), 49u);
}

TEST(FlavourLabelTest, KeepsTheChoicesAndTheNumberOfRewards) {
  // A trial that paid exactly one flavour with pc = 1, pd = 0 can only have been the controllable one, and
  // one with pc = 0, pd = 1 only the distractor: their labels never change, so every surrogate is the observed
  // fit.
  auto trials = simulate_agent(agent_preset(AgentPreset::kMixed), 1, 400, 12);
  for (auto& t : trials) {
    if (t.controllable_delivered == t.distractor_delivered) continue;
    t.p_controllable_left = t.p_controllable_right = t.controllable_delivered ? 1.0 : 0.0;
    t.p_distractor = t.distractor_delivered ? 1.0 : 0.0;
  }
  const CrtResult result = conditional_randomization_test(
      trials, CrtOptions{.surrogates = 5, .seed = 1, .test_controllable = false, .test_distractor = false});
  ASSERT_TRUE(result.structure_observed);
  for (const double s : result.structure_surrogates) EXPECT_NEAR(s, *result.structure_observed, 1e-9);
}

TEST(CrtPValue, PrintsTheFloorAsBelowOneOverK) {
  EXPECT_EQ(format_p_value(1.0 / 1001.0, 1000), "p < 0.001");
  EXPECT_EQ(format_p_value(1.0 / 100.0, 99), "p < 0.0101");
  EXPECT_EQ(format_p_value(0.06, 1000), "p = 0.060");
  EXPECT_EQ(format_p_value(1.0, 19), "p = 1.000");
}

TEST(ConditionalRandomizationTest, TheSameSeedGivesTheSameSurrogatesWhateverTheThreadCount) {
  const auto trials = simulate_agent(agent_preset(AgentPreset::kMixed), 1, 300, 4);
  const CrtResult one = conditional_randomization_test(trials, CrtOptions{.surrogates = 12, .seed = 9, .threads = 1});
  const CrtResult three = conditional_randomization_test(trials, CrtOptions{.surrogates = 12, .seed = 9, .threads = 3});
  EXPECT_EQ(one.controllable_surrogates, three.controllable_surrogates);
  EXPECT_EQ(one.distractor_surrogates, three.distractor_surrogates);
  EXPECT_EQ(one.distractor_p, three.distractor_p);
  const CrtResult other = conditional_randomization_test(trials, CrtOptions{.surrogates = 12, .seed = 10, .threads = 1});
  EXPECT_NE(one.distractor_surrogates, other.distractor_surrogates);
}

TEST(ConditionalRandomizationTest, WithoutAnyDistractorOnlyTheControllableTestRuns) {
  auto trials = simulate_agent(agent_preset(AgentPreset::kSavvy), 1, 300, 8);
  for (auto& t : trials) {
    t.distractor_delivered = false;
    t.p_distractor = kNotLogged;
  }
  const CrtResult result = conditional_randomization_test(trials, CrtOptions{.surrogates = 5});
  EXPECT_TRUE(result.controllable_p);
  EXPECT_FALSE(result.distractor_p);
  EXPECT_TRUE(result.distractor_surrogates.empty());
}

TEST(ConditionalRandomizationTest, NeedsTheLoggedProbabilities) {
  auto trials = simulate_agent(agent_preset(AgentPreset::kNaive), 1, 200, 8);
  trials[10].choice = Choice::kRight;
  trials[10].p_controllable_right = kNotLogged;
  EXPECT_THROW(conditional_randomization_test(trials, CrtOptions{.surrogates = 3}), std::invalid_argument);
  EXPECT_THROW(conditional_randomization_test(trials, CrtOptions{.surrogates = 0}), std::invalid_argument);
}

}  // namespace
}  // namespace rig::analysis
