// The trial-history regression of DESIGN.md "The analysis": weights by outcome type and lag, and the
// controllable and distractor indices with their standard errors.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "host/analysis/design_matrix.hpp"
#include "host/analysis/logistic_fit.hpp"
#include "host/analysis/trial_record.hpp"

namespace rig::analysis {

struct FitOptions {
  int lags = kDefaultLags;
  double l2 = 0.0;  // 0 for the reference fit; a small penalty keeps the online fit finite early in training
  int max_iterations = 100;
  double tolerance = 1e-10;
};

// A value with its standard error (same units as the value: log-odds of choosing right).
struct Estimate {
  double value = 0.0;
  double se = 0.0;
};

struct HistoryFit {
  int lags = kDefaultLags;
  std::size_t n_trials = 0;  // regression targets: free-choice, non-miss trials
  LogisticFit model;
  Estimate bias;             // the intercept: log-odds of a right choice with no history
  // weights[type][k - 1]; nullopt where the column never had a non-zero (the outcome never occurred there).
  std::array<std::vector<std::optional<Estimate>>, kOutcomeTypeCount> weights;
  // sum_k (w_controllable,k - w_none,k) and sum_k (w_distractor,k - w_none,k); nullopt when a weight involved
  // is missing.
  std::optional<Estimate> controllable_index;
  std::optional<Estimate> distractor_index;
};

// Returns `options` after checking them. Thread-safe. Throws std::invalid_argument for lags outside
// [1, kMaxLags], a negative or NaN l2, max_iterations < 1 or a tolerance <= 0.
FitOptions validated(const FitOptions& options);

// Fits one subject's trials (its sessions in order; see DesignBuilder for misses, instructed trials and
// session boundaries). Thread-safe (pure). Throws std::invalid_argument on bad options.
HistoryFit fit_history(std::span<const TrialRecord> trials, const FitOptions& options);

// The same on a built design, optionally warm-started from a previous fit of the same subject.
HistoryFit fit_history(const SparseDesign& design, const FitOptions& options,
                       const HistoryFit* warm_start = nullptr);

// A fit's weights and indices are read only with this many choices (regression targets) per parameter of the
// model (1 + 4 lags); with fewer they are printed as numbers that mean nothing (e.g. +91 +- 2148 at 50 trials).
inline constexpr std::size_t kMinChoicesPerParameter = 10;

// Whether a fit can be read, and if not why, in words for the operator.
struct Estimability {
  bool estimable = false;
  std::string reason;  // empty when estimable
};

// "not estimable yet: 39 choices for 21 parameters (needs 210)", "separated: some choices are predicted with
// certainty (weights diverge)", "singular: ..." or estimable. Pure; thread-safe.
Estimability estimability(const HistoryFit& fit);

// The log-likelihood (natural log) of `design`'s choices under `model` (a fit of another design with the same
// lags, e.g. of the other sessions). Pure; thread-safe.
double design_loglik(const LogisticFit& model, const SparseDesign& design);

// The number of lags by cross-validation: for L = 1..max_lags, each session held out in turn, the regression
// fitted to the others (with `options`' penalty) and the held-out session's choices scored; the L with the
// highest summed held-out log-likelihood. Pure; thread-safe. Throws std::invalid_argument with fewer than two
// sessions or max_lags outside [1, kMaxLags].
struct LagChoice {
  int best_lags = 0;
  std::vector<std::pair<int, double>> held_out_loglik;  // (L, summed held-out log-likelihood), L = 1..max_lags
};
LagChoice choose_lags(std::span<const TrialRecord> trials, int max_lags, const FitOptions& options);

// Index value only, without standard errors (for surrogate fits). nullopt when a weight involved is missing.
enum class IndexKind { kControllable, kDistractor };
std::optional<Estimate> history_index(const LogisticFit& model, int lags, IndexKind kind);

}  // namespace rig::analysis
