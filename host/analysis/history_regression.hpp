// The trial-history regression of DESIGN.md "The analysis": weights by outcome type and lag, and the
// controllable and distractor indices with their standard errors.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <span>
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

// Index value only, without standard errors (for surrogate fits). nullopt when a weight involved is missing.
enum class IndexKind { kControllable, kDistractor };
std::optional<Estimate> history_index(const LogisticFit& model, int lags, IndexKind kind);

}  // namespace rig::analysis
