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

Estimability estimability(const HistoryFit& fit) {
  const std::size_t parameters = 1 + static_cast<std::size_t>(kOutcomeTypeCount * fit.lags);
  const std::size_t needed = kMinChoicesPerParameter * parameters;
  if (fit.n_trials < needed) {
    return {false, "not estimable yet: " + std::to_string(fit.n_trials) + " choices for " + std::to_string(parameters) +
                       " parameters (needs " + std::to_string(needed) + ")"};
  }
  if (fit.model.separation) return {false, "separated: some choices are predicted with certainty (weights diverge)"};
  if (fit.model.singular) return {false, "singular: the history regressors are collinear"};
  return {true, ""};
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

double design_loglik(const LogisticFit& model, const SparseDesign& design) {
  std::vector<double> coefficient(static_cast<std::size_t>(design.full_columns()), 0.0);
  for (std::size_t i = 0; i < model.columns.size(); ++i) {
    const int column = model.columns[i];
    if (column < design.full_columns()) {
      coefficient[static_cast<std::size_t>(column)] = model.coefficients[static_cast<Eigen::Index>(i) + 1];
    }
  }
  double loglik = 0.0;
  for (std::size_t row = 0; row < design.rows(); ++row) {
    double eta = model.coefficients[0];
    for (int lag = 0; lag < design.lags(); ++lag) {
      const int column = design.column(row, lag);
      if (column >= 0) eta += coefficient[static_cast<std::size_t>(column)] * design.value(row, lag);
    }
    // log sigmoid(+-eta), computed without overflow.
    const double signed_eta = design.chose_right(row) ? eta : -eta;
    loglik -= signed_eta > 0 ? std::log1p(std::exp(-signed_eta)) : -signed_eta + std::log1p(std::exp(signed_eta));
  }
  return loglik;
}

LagChoice choose_lags(std::span<const TrialRecord> trials, int max_lags, const FitOptions& options) {
  validated(FitOptions{.lags = max_lags, .l2 = options.l2});
  std::vector<std::pair<std::size_t, std::size_t>> sessions;  // [begin, end)
  for (std::size_t i = 0; i < trials.size(); ++i) {
    if (i == 0 || trials[i].session_id != trials[i - 1].session_id) sessions.push_back({i, i});
    sessions.back().second = i + 1;
  }
  if (sessions.size() < 2) throw std::invalid_argument("choosing the lags by cross-validation needs two sessions or more");
  LagChoice choice;
  for (int lags = 1; lags <= max_lags; ++lags) {
    FitOptions fit_options = options;
    fit_options.lags = lags;
    double held_out = 0.0;
    for (const auto& [begin, end] : sessions) {
      std::vector<TrialRecord> rest(trials.begin(), trials.begin() + static_cast<std::ptrdiff_t>(begin));
      rest.insert(rest.end(), trials.begin() + static_cast<std::ptrdiff_t>(end), trials.end());
      const HistoryFit fit = fit_history(rest, fit_options);
      held_out += design_loglik(fit.model, build_design(trials.subspan(begin, end - begin), lags));
    }
    choice.held_out_loglik.push_back({lags, held_out});
    if (choice.best_lags == 0 || held_out > choice.held_out_loglik[static_cast<std::size_t>(choice.best_lags - 1)].second) {
      choice.best_lags = lags;
    }
  }
  return choice;
}

}  // namespace rig::analysis
