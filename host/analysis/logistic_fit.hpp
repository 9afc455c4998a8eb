// Maximum-likelihood logistic regression on a SparseDesign by Newton's method (= IRLS).
#pragma once

#include <Eigen/Dense>

#include <vector>

#include "host/analysis/design_matrix.hpp"

namespace rig::analysis {

struct LogisticOptions {
  double l2 = 0.0;             // ridge penalty 0.5 * l2 * |w|^2 on every weight but the intercept (0: plain ML)
  int max_iterations = 100;    // Newton steps at the most
  double tolerance = 1e-10;    // converged once max |step| <= tolerance * (1 + max |coefficient|)
};

struct LogisticFit {
  // Full-design columns that were fitted (those with at least one non-zero), ascending. Coefficient 0 is
  // the intercept; coefficient i + 1 belongs to columns[i].
  std::vector<int> columns;
  Eigen::VectorXd coefficients;
  // Inverse of the (penalised) negative Hessian at the solution; standard errors are sqrt of its diagonal.
  // NaN when the Hessian is singular.
  Eigen::MatrixXd covariance;
  double loglik = 0.0;         // log-likelihood of the data at the solution (natural log, penalty excluded)
  int iterations = 0;          // Newton steps taken
  bool converged = false;
  // Some fitted probabilities are numerically 0 or 1 (|logit| > kSeparationLogit): the data are (quasi-)
  // separated and the unpenalised estimates diverge; coefficients and SEs are not meaningful.
  bool separation = false;
  bool singular = false;       // the Hessian could not be inverted (collinear columns)
};

inline constexpr double kSeparationLogit = 30.0;

// Fits P(right) = logistic(intercept + sum_j w_j x_j) to `design`, leaving out all-zero columns. With
// a converged `warm_start`, starts from its coefficients for the columns it shares (0 elsewhere), which
// takes 1-3 steps when the data changed little. Step-halving keeps every step an ascent. Cost per step: O(rows * (L + 1)^2).
// Thread-safe (pure). Throws std::invalid_argument for a negative l2 or max_iterations < 1; an empty design
// gives a fit with no columns, loglik 0 and converged = false.
LogisticFit fit_logistic(const SparseDesign& design, const LogisticOptions& options,
                         const LogisticFit* warm_start = nullptr);

}  // namespace rig::analysis
