#include "host/analysis/logistic_fit.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace rig::analysis {
namespace {

struct Evaluation {
  bool has_loglik = false;       // a pass for derivatives alone leaves loglik and objective unset
  double loglik = 0.0;           // unpenalised
  double objective = 0.0;        // loglik - penalty
  double max_abs_logit = 0.0;
  Eigen::VectorXd gradient;      // of the objective
  Eigen::MatrixXd information;   // negative Hessian of the objective
};

enum class Parts { kValue, kDerivatives, kAll };

class Problem {
 public:
  Problem(const SparseDesign& design, const LogisticOptions& options) : design_(design), options_(options) {
    position_.assign(static_cast<std::size_t>(design.full_columns()), -1);
    const std::vector<std::size_t> nonzeros = design.nonzeros();
    for (int c = 0; c < design.full_columns(); ++c) {
      if (nonzeros[static_cast<std::size_t>(c)] > 0) {
        position_[static_cast<std::size_t>(c)] = 1 + static_cast<int>(columns_.size());
        columns_.push_back(c);
      }
    }
  }

  const std::vector<int>& columns() const { return columns_; }
  Eigen::Index size() const { return 1 + static_cast<Eigen::Index>(columns_.size()); }

  // One pass over the distinct rows. The row-sparse layout makes the information matrix an accumulation of at
  // most (L + 1)(L + 2) / 2 products per pattern instead of a dense X'WX.
  Evaluation evaluate(const Eigen::VectorXd& beta, Parts parts) const {
    const bool value = parts != Parts::kDerivatives, derivatives = parts != Parts::kValue;
    const Eigen::Index p = size();
    const auto stride = static_cast<std::size_t>(p);
    Evaluation e;
    std::vector<double> info(derivatives ? stride * stride : 0, 0.0);
    std::vector<double> grad(stride, 0.0);
    // Patterns often share a logit (all of them at the intercept-only start): the transcendentals are kept.
    double last_eta = std::numeric_limits<double>::quiet_NaN(), tail = 0.0, likelier = 0.0, log_likelier = 0.0;
    const int lags = design_.lags();
    int index[kMaxLags];
    double sign[kMaxLags];
    for (std::size_t u = 0; u < design_.patterns(); ++u) {
      // The pattern's non-zeros but the intercept; the design keeps them in ascending column order, padding
      // last, so coefficient indices ascend too.
      int n = 0;
      double eta = beta[0];
      for (; n < lags; ++n) {
        const int c = design_.pattern_column(u, n);
        if (c < 0) break;
        index[n] = position_[static_cast<std::size_t>(c)];
        sign[n] = design_.pattern_value(u, n);
        eta += sign[n] * beta[index[n]];
      }
      const double rights = design_.pattern_rights(u);
      const double count = rights + design_.pattern_lefts(u);
      if (eta != last_eta) {
        // With q = 1 / (1 + exp(-|eta|)), the likelier side's probability (in [0.5, 1], where log is exact to
        // an ulp), softplus(eta) = max(eta, 0) - log(q).
        last_eta = eta;
        tail = std::exp(-std::abs(eta));
        likelier = 1.0 / (1.0 + tail);
        if (value) log_likelier = std::log(likelier);
      }
      if (value) e.loglik += rights * eta - count * (std::max(eta, 0.0) - log_likelier);
      e.max_abs_logit = std::max(e.max_abs_logit, std::abs(eta));
      if (!derivatives) continue;
      const double prob = eta >= 0 ? likelier : tail * likelier;
      const double residual = rights - count * prob;
      const double weight = count * prob * (1.0 - prob);
      // Only the upper triangle (row <= column) is filled; the intercept's row alongside the others.
      grad[0] += residual;
      info[0] += weight;
      for (int a = 0; a < n; ++a) {
        const auto ia = static_cast<std::size_t>(index[a]);
        grad[ia] += residual * sign[a];
        const double wa = weight * sign[a];
        info[ia] += wa;
        double* row = info.data() + ia * stride;
        for (int b = a; b < n; ++b) row[index[b]] += wa * sign[b];
      }
    }
    e.has_loglik = value;
    e.objective = e.loglik - 0.5 * options_.l2 * beta.tail(p - 1).squaredNorm();
    if (!derivatives) return e;
    e.gradient = Eigen::Map<const Eigen::VectorXd>(grad.data(), p);
    e.gradient.tail(p - 1) -= options_.l2 * beta.tail(p - 1);
    // The pass filled (row <= column) of a row-major buffer, which is the lower triangle read column-major.
    e.information = Eigen::Map<const Eigen::MatrixXd>(info.data(), p, p).selfadjointView<Eigen::Lower>();
    e.information.diagonal().tail(p - 1).array() += options_.l2;
    return e;
  }

 private:
  const SparseDesign& design_;
  const LogisticOptions& options_;
  std::vector<int> columns_;
  std::vector<int> position_;  // full column -> coefficient index, -1 when left out
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

  Evaluation current = problem.evaluate(fit.coefficients, Parts::kAll);
  // The objective may drop by this much and a step still counts as not making it worse.
  const double drop_tolerance = 1e-12 * std::abs(current.objective);
  Eigen::LLT<Eigen::MatrixXd> llt;
  for (fit.iterations = 0; fit.iterations < options.max_iterations;) {
    if (!factor(current.information, llt, fit.iterations == 0)) {
      fit.singular = true;
      break;
    }
    const Eigen::VectorXd step = llt.solve(current.gradient);
    // Near the optimum Newton's error squares at each step: a full step this small lands within the
    // tolerance, so it is taken without another pass. As statsmodels' Newton, which returns the parameters
    // after its last step.
    if (step.cwiseAbs().maxCoeff() <= options.tolerance * (1.0 + fit.coefficients.cwiseAbs().maxCoeff()) &&
        current.max_abs_logit <= kSeparationLogit) {
      fit.coefficients += step;
      ++fit.iterations;
      fit.converged = true;
      // A loglik already computed is the point before's: the step changes it by about step' H step, far
      // below any digit it is printed with.
      break;
    }
    double scale = 1.0;
    // A step below the tolerance's square root leaves an error near its square, below the tolerance: the
    // next pass is likely the last, so it computes the loglik too, saving a pass for it at the end.
    const bool likely_last =
        step.cwiseAbs().maxCoeff() <= std::sqrt(options.tolerance) * (1.0 + fit.coefficients.cwiseAbs().maxCoeff());
    Evaluation candidate =
        problem.evaluate(fit.coefficients + step, likely_last ? Parts::kAll : Parts::kDerivatives);
    // The objective is concave along the step, so its slope at the candidate bounds the change from below:
    // objective(candidate) - objective(current) >= gradient(candidate) . step. A slope that is not negative
    // proves the full step did not make things worse without computing the objective (no log per pattern).
    if (!(candidate.gradient.dot(step) >= -drop_tolerance)) {
      // Newton's step can overshoot far from the optimum; halve it until the objective does not drop.
      if (!current.has_loglik) {
        const Evaluation value = problem.evaluate(fit.coefficients, Parts::kValue);
        current.loglik = value.loglik;
        current.objective = value.objective;
        current.has_loglik = true;
      }
      candidate = problem.evaluate(fit.coefficients + step, Parts::kAll);
      for (int halvings = 0; halvings < 40 && !(candidate.objective >= current.objective - drop_tolerance);
           ++halvings) {
        scale *= 0.5;
        candidate = problem.evaluate(fit.coefficients + scale * step, Parts::kAll);
      }
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

  if (!current.has_loglik) current.loglik = problem.evaluate(fit.coefficients, Parts::kValue).loglik;
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
