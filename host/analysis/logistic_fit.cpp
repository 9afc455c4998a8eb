#include "host/analysis/logistic_fit.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace rig::analysis {
namespace {

struct Evaluation {
  double loglik = 0.0;           // unpenalised
  double objective = 0.0;        // loglik - penalty
  double max_abs_logit = 0.0;
  Eigen::VectorXd gradient;      // of the objective
  Eigen::MatrixXd information;   // negative Hessian of the objective
};

class Problem {
 public:
  Problem(const SparseDesign& design, const LogisticOptions& options) : design_(design), options_(options) {
    position_.assign(static_cast<std::size_t>(design.full_columns()), -1);
    for (int c = 0; c < design.full_columns(); ++c) {
      if (design.nonzeros(c) > 0) {
        position_[static_cast<std::size_t>(c)] = 1 + static_cast<int>(columns_.size());
        columns_.push_back(c);
      }
    }
    // Each pattern's non-zeros as (coefficient index, value), intercept first, so a pass touches no padding.
    offset_.reserve(design.patterns() + 1);
    offset_.push_back(0);
    for (std::size_t u = 0; u < design.patterns(); ++u) {
      index_.push_back(0);
      value_.push_back(1.0);
      for (int k = 0; k < design.lags(); ++k) {
        const int c = design.pattern_column(u, k);
        if (c < 0) continue;
        index_.push_back(position_[static_cast<std::size_t>(c)]);
        value_.push_back(design.pattern_value(u, k));
      }
      offset_.push_back(index_.size());
    }
  }

  const std::vector<int>& columns() const { return columns_; }
  Eigen::Index size() const { return 1 + static_cast<Eigen::Index>(columns_.size()); }

  // One pass over the distinct rows. The row-sparse layout makes the information matrix an accumulation of at
  // most (L + 1)^2 products per pattern instead of a dense X'WX.
  Evaluation evaluate(const Eigen::VectorXd& beta, bool with_derivatives) const {
    const Eigen::Index p = size();
    const auto stride = static_cast<std::size_t>(p);
    Evaluation e;
    std::vector<double> info(with_derivatives ? stride * stride : 0, 0.0);
    std::vector<double> grad(stride, 0.0);
    for (std::size_t u = 0; u + 1 < offset_.size(); ++u) {
      const std::size_t begin = offset_[u], end = offset_[u + 1];
      double eta = 0.0;
      for (std::size_t a = begin; a < end; ++a) eta += value_[a] * beta[index_[a]];
      const double rights = design_.pattern_rights(u);
      const double count = rights + design_.pattern_lefts(u);
      // One exp and one log1p per pattern: softplus(eta) = max(eta, 0) + log1p(exp(-|eta|)).
      const double tail = std::exp(-std::abs(eta));
      e.loglik += rights * eta - count * (std::max(eta, 0.0) + std::log1p(tail));
      e.max_abs_logit = std::max(e.max_abs_logit, std::abs(eta));
      if (!with_derivatives) continue;
      const double prob = eta >= 0 ? 1.0 / (1.0 + tail) : tail / (1.0 + tail);
      const double residual = rights - count * prob;
      const double weight = count * prob * (1.0 - prob);
      for (std::size_t a = begin; a < end; ++a) {
        const auto ia = static_cast<std::size_t>(index_[a]);
        grad[ia] += residual * value_[a];
        double* row = info.data() + ia * stride;
        const double wa = weight * value_[a];
        for (std::size_t b = begin; b < end; ++b) row[index_[b]] += wa * value_[b];
      }
    }
    const double penalty = 0.5 * options_.l2 * beta.tail(p - 1).squaredNorm();
    e.objective = e.loglik - penalty;
    if (!with_derivatives) return e;
    e.gradient = Eigen::Map<const Eigen::VectorXd>(grad.data(), p);
    e.gradient.tail(p - 1) -= options_.l2 * beta.tail(p - 1);
    e.information = Eigen::Map<const Eigen::MatrixXd>(info.data(), p, p);
    e.information.diagonal().tail(p - 1).array() += options_.l2;
    return e;
  }

 private:
  const SparseDesign& design_;
  const LogisticOptions& options_;
  std::vector<int> columns_;
  std::vector<int> position_;  // full column -> coefficient index, -1 when left out
  std::vector<std::size_t> offset_;  // pattern u's entries are [offset_[u], offset_[u + 1])
  std::vector<int> index_;
  std::vector<double> value_;
};

// Factors the information matrix; false when it is singular. Cholesky can "succeed" on a singular matrix by
// rounding, so with `check_collinear` a column is also taken as collinear when L_ii^2 / H_ii (its share not
// explained by the columns before it, 1 - R^2) is negligible. That check is only meaningful where the weights
// are not extreme (the first step): under separation the weights vanish and the share shrinks legitimately.
bool factor(const Eigen::MatrixXd& information, Eigen::LLT<Eigen::MatrixXd>& llt, bool check_collinear) {
  constexpr double kCollinearShare = 1e-10;
  llt.compute(information);
  if (llt.info() != Eigen::Success) return false;
  if (!check_collinear) return true;
  const Eigen::ArrayXd share = llt.matrixLLT().diagonal().array().square() / information.diagonal().array();
  return share.minCoeff() > kCollinearShare;
}

}  // namespace

LogisticFit fit_logistic(const SparseDesign& design, const LogisticOptions& options,
                         const LogisticFit* warm_start) {
  if (!(options.l2 >= 0.0)) throw std::invalid_argument("the L2 penalty must be >= 0");
  if (options.max_iterations < 1) throw std::invalid_argument("max_iterations must be >= 1");

  Problem problem(design, options);
  LogisticFit fit;
  fit.columns = problem.columns();
  const Eigen::Index p = problem.size();
  fit.coefficients = Eigen::VectorXd::Zero(p);
  fit.covariance = Eigen::MatrixXd::Constant(p, p, std::numeric_limits<double>::quiet_NaN());
  if (design.rows() == 0) return fit;

  std::size_t rights = 0;
  for (std::size_t u = 0; u < design.patterns(); ++u) rights += design.pattern_rights(u);
  if (rights > 0 && rights < design.rows()) {
    // The intercept-only solution is a better start than 0 and saves a Newton step.
    fit.coefficients[0] = std::log(static_cast<double>(rights) / static_cast<double>(design.rows() - rights));
  }
  if (warm_start != nullptr && warm_start->converged) {
    fit.coefficients[0] = warm_start->coefficients[0];
    for (std::size_t i = 0, j = 0; i < fit.columns.size(); ++i) {
      while (j < warm_start->columns.size() && warm_start->columns[j] < fit.columns[i]) ++j;
      if (j < warm_start->columns.size() && warm_start->columns[j] == fit.columns[i]) {
        fit.coefficients[static_cast<Eigen::Index>(i) + 1] = warm_start->coefficients[static_cast<Eigen::Index>(j) + 1];
      }
    }
    if (!fit.coefficients.allFinite()) fit.coefficients.setZero();
  }

  Evaluation current = problem.evaluate(fit.coefficients, true);
  Eigen::LLT<Eigen::MatrixXd> llt;
  for (fit.iterations = 0; fit.iterations < options.max_iterations;) {
    if (!factor(current.information, llt, fit.iterations == 0)) {
      fit.singular = true;
      break;
    }
    const Eigen::VectorXd step = llt.solve(current.gradient);
    double scale = 1.0;
    Evaluation candidate = problem.evaluate(fit.coefficients + step, true);
    // Newton's step can overshoot far from the optimum; halve it until the objective does not drop.
    for (int halvings = 0; halvings < 40 && !(candidate.objective >= current.objective - 1e-12 * std::abs(current.objective));
         ++halvings) {
      scale *= 0.5;
      candidate = problem.evaluate(fit.coefficients + scale * step, true);
    }
    fit.coefficients += scale * step;
    current = std::move(candidate);
    ++fit.iterations;
    const double step_size = scale * step.cwiseAbs().maxCoeff();
    if (step_size <= options.tolerance * (1.0 + fit.coefficients.cwiseAbs().maxCoeff())) {
      fit.converged = true;
      break;
    }
    // Diverging coefficients under separation only push fitted probabilities further to 0/1; stop early.
    if (current.max_abs_logit > 2 * kSeparationLogit) break;
  }

  fit.loglik = current.loglik;
  fit.separation = current.max_abs_logit > kSeparationLogit;
  if (fit.separation) {
    fit.converged = false;
    fit.singular = false;
  }
  if (!fit.singular) {
    if (factor(current.information, llt, false)) {
      fit.covariance = llt.solve(Eigen::MatrixXd::Identity(p, p));
    } else {
      fit.singular = !fit.separation;
    }
  }
  if (fit.singular) fit.converged = false;
  return fit;
}

}  // namespace rig::analysis
