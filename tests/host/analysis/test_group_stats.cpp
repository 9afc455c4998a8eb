// Statistics across mice: known answers (checked against statsmodels' DescrStatsW.ttest_mean(0,
// alternative='larger') and an exact binomial), and the group randomization test summed over mice.
#include "host/analysis/group_stats.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace rig::analysis {
namespace {

TEST(GroupStats, OneSidedTestsAgainstZeroMatchKnownAnswers) {
  const std::vector<double> four{1, 2, 3, 4};
  const SampleTest t = one_sided_test(four);
  EXPECT_EQ(t.n, 4u);
  EXPECT_DOUBLE_EQ(t.mean, 2.5);
  EXPECT_NEAR(t.se, 0.6454972243679028, 1e-15);
  ASSERT_TRUE(t.t_test_p);
  EXPECT_NEAR(*t.t_test_p, 0.015233145831085499, 1e-12);  // statsmodels: t = 3.873, df = 3
  ASSERT_TRUE(t.sign_test_p);
  EXPECT_DOUBLE_EQ(*t.sign_test_p, 1.0 / 16.0);  // all 4 positive

  const std::vector<double> eight{0.5, -0.2, 1.3, 0.8, 0.1, 0.9, -0.4, 1.1};
  const SampleTest u = one_sided_test(eight);
  EXPECT_DOUBLE_EQ(u.mean, 0.5125);
  EXPECT_NEAR(u.se, 0.21993302551978344, 1e-15);
  EXPECT_NEAR(*u.t_test_p, 0.026297080332773826, 1e-12);  // statsmodels: t = 2.330, df = 7
  EXPECT_NEAR(*u.sign_test_p, 37.0 / 256.0, 1e-15);       // P(X >= 6), X ~ Binomial(8, 1/2)
}

TEST(GroupStats, ZerosCarryNoSignAndOneMouseHasNoTTest) {
  const std::vector<double> values{0.0, 0.0, 1.0};
  const SampleTest t = one_sided_test(values);
  EXPECT_DOUBLE_EQ(*t.sign_test_p, 0.5);  // one non-zero value, positive
  const std::vector<double> one{0.7};
  const SampleTest u = one_sided_test(one);
  EXPECT_TRUE(std::isnan(u.se));
  EXPECT_FALSE(u.t_test_p);
  const std::vector<double> none;
  EXPECT_THROW(one_sided_test(none), std::invalid_argument);
  const std::vector<double> bad{1.0, std::numeric_limits<double>::infinity()};
  EXPECT_THROW(one_sided_test(bad), std::invalid_argument);
}

CrtResult crt_of(double observed, std::vector<double> surrogates) {
  CrtResult c;
  c.surrogates = static_cast<int>(surrogates.size());
  c.controllable_observed = c.distractor_observed = c.structure_observed = observed;
  c.controllable_surrogates = c.distractor_surrogates = c.structure_surrogates = std::move(surrogates);
  return c;
}

TEST(GroupStats, TheGroupRandomizationTestSumsEachMousesSurrogates) {
  // Mouse a: observed 1, surrogates {0, 2, 0, 0}; mouse b: observed 1, surrogates {0, 0, 0, NaN}. Summed:
  // observed 2, surrogates {0, 2, 0, NaN}: two of four at least 2 (one a NaN, counted), p = 3 / 5.
  const CrtResult a = crt_of(1.0, {0, 2, 0, 0});
  const CrtResult b = crt_of(1.0, {0, 0, 0, std::numeric_limits<double>::quiet_NaN()});
  const std::vector<MouseResult> mice{{2.0, 1.0, &a}, {1.5, 0.5, &b}};
  const GroupResult g = group_statistics(mice);
  EXPECT_EQ(g.n_subjects, 2u);
  EXPECT_DOUBLE_EQ(g.ci_minus_di.mean, 1.0);
  EXPECT_DOUBLE_EQ(g.di.mean, 0.75);
  EXPECT_EQ(g.crt_surrogates, 4);
  EXPECT_DOUBLE_EQ(*g.crt_structure_p, 3.0 / 5.0);
  EXPECT_DOUBLE_EQ(*g.crt_controllable_p, 3.0 / 5.0);

  const CrtResult other_k = crt_of(1.0, {0, 0});
  const std::vector<MouseResult> mixed{{2.0, 1.0, &a}, {1.5, 0.5, &other_k}};
  EXPECT_THROW(group_statistics(mixed), std::invalid_argument);
  const std::vector<MouseResult> untested{{2.0, 1.0, &a}, {1.5, 0.5, nullptr}};
  EXPECT_FALSE(group_statistics(untested).crt_structure_p);
}

}  // namespace
}  // namespace rig::analysis
