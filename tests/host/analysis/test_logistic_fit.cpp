#include "host/analysis/logistic_fit.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace rig::analysis {
namespace {

double logit(double p) { return std::log(p / (1 - p)); }

// A design with only the intercept: `rights` right choices and `lefts` left ones, no history.
SparseDesign intercept_only(int rights, int lefts) {
  SparseDesign design(1);
  const std::vector<int> padding{-1}, zero{0};
  for (int i = 0; i < rights + lefts; ++i) design.add_row(i < rights, padding, zero);
  return design;
}

// One regressor x = +-1 (column none_1): `table[x>0][y]` rows of each kind.
SparseDesign one_regressor(int plus_right, int plus_left, int minus_right, int minus_left) {
  SparseDesign design(1);
  const std::vector<int> column{0}, plus{+1}, minus{-1};
  for (int i = 0; i < plus_right; ++i) design.add_row(true, column, plus);
  for (int i = 0; i < plus_left; ++i) design.add_row(false, column, plus);
  for (int i = 0; i < minus_right; ++i) design.add_row(true, column, minus);
  for (int i = 0; i < minus_left; ++i) design.add_row(false, column, minus);
  return design;
}

TEST(LogisticFit, InterceptOnlyIsTheLogOddsOfTheRightChoices) {
  const LogisticFit fit = fit_logistic(intercept_only(30, 10), {});
  ASSERT_TRUE(fit.converged);
  EXPECT_TRUE(fit.columns.empty());
  const double p = 0.75, n = 40;
  EXPECT_NEAR(fit.coefficients[0], logit(p), 1e-12);
  EXPECT_NEAR(std::sqrt(fit.covariance(0, 0)), std::sqrt(1 / (n * p * (1 - p))), 1e-12);
  EXPECT_NEAR(fit.loglik, n * (p * std::log(p) + (1 - p) * std::log(1 - p)), 1e-10);
}

TEST(LogisticFit, OneBinaryRegressorHasTheClosedFormAnswer) {
  // P(right | x=+1) = 24/32, P(right | x=-1) = 6/24: b0 +- b1 are the two log-odds.
  const LogisticFit fit = fit_logistic(one_regressor(24, 8, 6, 18), {});
  ASSERT_TRUE(fit.converged);
  ASSERT_EQ(fit.columns, std::vector<int>{0});
  const double plus = logit(24.0 / 32), minus = logit(6.0 / 24);
  EXPECT_NEAR(fit.coefficients[0], (plus + minus) / 2, 1e-12);
  EXPECT_NEAR(fit.coefficients[1], (plus - minus) / 2, 1e-12);
  // Var(b0 +- b1) = 1 / (n p (1-p)) in each cell, and the two cells are independent.
  const double var_plus = 1 / (32 * 0.75 * 0.25), var_minus = 1 / (24 * 0.25 * 0.75);
  EXPECT_NEAR(fit.covariance(1, 1), (var_plus + var_minus) / 4, 1e-12);
  EXPECT_NEAR(fit.covariance(0, 1), (var_plus - var_minus) / 4, 1e-12);
  EXPECT_LE(fit.iterations, 10);
}

TEST(LogisticFit, ColumnsWithoutNonZerosAreLeftOut) {
  SparseDesign design(2);
  design.add_row(true, std::vector<int>{-1, 5}, std::vector<int>{0, 1});
  design.add_row(false, std::vector<int>{-1, 5}, std::vector<int>{0, -1});
  design.add_row(true, std::vector<int>{-1, 5}, std::vector<int>{0, -1});
  design.add_row(false, std::vector<int>{-1, 5}, std::vector<int>{0, 1});
  const LogisticFit fit = fit_logistic(design, {});
  EXPECT_EQ(fit.columns, std::vector<int>{5});
  EXPECT_EQ(fit.coefficients.size(), 2);
  EXPECT_TRUE(fit.converged);
}

TEST(LogisticFit, PerfectSeparationIsDetectedAndReported) {
  // x = +1 always goes right, x = -1 always left.
  const LogisticFit fit = fit_logistic(one_regressor(10, 0, 0, 10), {});
  EXPECT_TRUE(fit.separation);
  EXPECT_FALSE(fit.converged);
}

TEST(LogisticFit, QuasiSeparationIsDetectedAndReported) {
  // x = +1 always goes right; x = -1 goes either way.
  const LogisticFit fit = fit_logistic(one_regressor(10, 0, 5, 5), {});
  EXPECT_TRUE(fit.separation);
  EXPECT_FALSE(fit.converged);
}

TEST(LogisticFit, AnL2PenaltyKeepsASeparatedFitFinite) {
  const LogisticFit fit = fit_logistic(one_regressor(10, 0, 0, 10), LogisticOptions{.l2 = 1.0});
  EXPECT_TRUE(fit.converged);
  EXPECT_FALSE(fit.separation);
  EXPECT_TRUE(fit.coefficients.allFinite());
}

TEST(LogisticFit, L2ShrinksTheWeightsButNotTheIntercept) {
  const SparseDesign design = one_regressor(24, 8, 6, 18);
  const LogisticFit plain = fit_logistic(design, {});
  const LogisticFit ridge = fit_logistic(design, LogisticOptions{.l2 = 5.0});
  EXPECT_LT(std::abs(ridge.coefficients[1]), std::abs(plain.coefficients[1]));
  // At the penalised optimum the gradient of the objective vanishes: X'(y - p) = l2 * w for the weight and
  // the intercept's score is zero (it is not penalised).
  double score_intercept = 0, score_weight = 0;
  for (std::size_t r = 0; r < design.rows(); ++r) {
    const double x = design.value(r, 0);
    const double p = 1 / (1 + std::exp(-(ridge.coefficients[0] + x * ridge.coefficients[1])));
    score_intercept += (design.chose_right(r) ? 1 : 0) - p;
    score_weight += ((design.chose_right(r) ? 1 : 0) - p) * x;
  }
  EXPECT_NEAR(score_intercept, 0, 1e-9);
  EXPECT_NEAR(score_weight, 5.0 * ridge.coefficients[1], 1e-9);
}

TEST(LogisticFit, ACollinearDesignIsReportedSingular) {
  // x = +1 on every row duplicates the intercept.
  const LogisticFit fit = fit_logistic(one_regressor(6, 4, 0, 0), {});
  EXPECT_TRUE(fit.singular);
  EXPECT_FALSE(fit.converged);
}

TEST(LogisticFit, AWarmStartFromTheSolutionConvergesInOneStep) {
  const SparseDesign design = one_regressor(24, 8, 6, 18);
  const LogisticFit cold = fit_logistic(design, {});
  const LogisticFit warm = fit_logistic(design, {}, &cold);
  EXPECT_TRUE(warm.converged);
  EXPECT_EQ(warm.iterations, 1);
  EXPECT_NEAR(warm.coefficients[1], cold.coefficients[1], 1e-12);
}

TEST(LogisticFit, AnEmptyDesignIsNotConverged) {
  const LogisticFit fit = fit_logistic(SparseDesign(3), {});
  EXPECT_FALSE(fit.converged);
  EXPECT_EQ(fit.loglik, 0.0);
}

TEST(LogisticFit, RejectsANegativePenalty) {
  EXPECT_THROW(fit_logistic(intercept_only(2, 2), LogisticOptions{.l2 = -1}), std::invalid_argument);
}

}  // namespace
}  // namespace rig::analysis
