#include "host/analysis/history_regression.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace rig::analysis {
namespace {

// Coefficient index of full column `column` in `model`, or -1 when it was left out.
Eigen::Index coefficient_index(const LogisticFit& model, int column) {
  for (std::size_t i = 0; i < model.columns.size(); ++i) {
    if (model.columns[i] == column) return static_cast<Eigen::Index>(i) + 1;
  }
  return -1;
}

Estimate estimate_at(const LogisticFit& model, Eigen::Index i) {
  return Estimate{model.coefficients[i], std::sqrt(model.covariance(i, i))};
}

}  // namespace

std::optional<Estimate> history_index(const LogisticFit& model, int lags, IndexKind kind) {
  const int type = static_cast<int>(kind == IndexKind::kControllable ? OutcomeType::kControllable
                                                                       : OutcomeType::kDistractor);
  Eigen::VectorXd contrast = Eigen::VectorXd::Zero(model.coefficients.size());
  for (int k = 0; k < lags; ++k) {
    const Eigen::Index plus = coefficient_index(model, type * lags + k);
    const Eigen::Index minus = coefficient_index(model, static_cast<int>(OutcomeType::kNone) * lags + k);
    if (plus < 0 || minus < 0) return std::nullopt;
    contrast[plus] += 1.0;
    contrast[minus] -= 1.0;
  }
  // Var(c'b) = c' Cov c.
  return Estimate{contrast.dot(model.coefficients), std::sqrt(contrast.dot(model.covariance * contrast))};
}

FitOptions validated(const FitOptions& options) {
  if (options.lags < 1 || options.lags > kMaxLags) {
    throw std::invalid_argument("lags must be between 1 and " + std::to_string(kMaxLags));
  }
  if (!(options.l2 >= 0.0)) throw std::invalid_argument("the L2 penalty must be >= 0");
  if (options.max_iterations < 1) throw std::invalid_argument("max_iterations must be >= 1");
  if (!(options.tolerance > 0.0)) throw std::invalid_argument("the tolerance must be > 0");
  return options;
}

HistoryFit fit_history(const SparseDesign& design, const FitOptions& options, const HistoryFit* warm_start) {
  validated(options);
  HistoryFit fit;
  fit.lags = design.lags();
  fit.n_trials = design.rows();
  const LogisticOptions logistic{options.l2, options.max_iterations, options.tolerance};
  fit.model = fit_logistic(design, logistic, warm_start != nullptr ? &warm_start->model : nullptr);
  fit.bias = estimate_at(fit.model, 0);
  for (int type = 0; type < kOutcomeTypeCount; ++type) {
    auto& by_lag = fit.weights[static_cast<std::size_t>(type)];
    by_lag.assign(static_cast<std::size_t>(fit.lags), std::nullopt);
    for (int k = 0; k < fit.lags; ++k) {
      const Eigen::Index i = coefficient_index(fit.model, type * fit.lags + k);
      if (i >= 0) by_lag[static_cast<std::size_t>(k)] = estimate_at(fit.model, i);
    }
  }
  fit.controllable_index = history_index(fit.model, fit.lags, IndexKind::kControllable);
  fit.distractor_index = history_index(fit.model, fit.lags, IndexKind::kDistractor);
  return fit;
}

HistoryFit fit_history(std::span<const TrialRecord> trials, const FitOptions& options) {
  return fit_history(build_design(trials, options.lags), options);
}

}  // namespace rig::analysis
