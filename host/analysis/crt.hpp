// The conditional randomization test (Harris 2020) of the controllable and distractor indices.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "host/analysis/history_regression.hpp"
#include "host/analysis/trial_record.hpp"

namespace rig::analysis {

inline constexpr int kDefaultSurrogates = 1000;

struct CrtOptions {
  int surrogates = kDefaultSurrogates;  // K
  std::uint64_t seed = 0;
  unsigned threads = 0;                 // 0: std::thread::hardware_concurrency()
  FitOptions fit{};                     // the same fit as the observed one
  bool test_controllable = true;        // run the controllable-index test
  bool test_distractor = true;          // run the distractor-index test
};

struct CrtResult {
  int surrogates = 0;
  // The observed indices, and one-sided p = (1 + #{surrogate >= observed}) / (1 + K); nullopt when the
  // observed index does not exist (e.g. no distractor was ever delivered).
  std::optional<double> controllable_observed;
  std::optional<double> distractor_observed;
  std::optional<double> controllable_p;
  std::optional<double> distractor_p;
  // Surrogate indices by surrogate number; NaN where a surrogate's index does not exist (counted as >= the
  // observed one, which keeps p conservative). Empty for a test that did not run.
  std::vector<double> controllable_surrogates;
  std::vector<double> distractor_surrogates;
};

// Runs both tests on one subject's trials. Distractor index: every trial's distractor delivery is redrawn
// from its logged p_distractor; controllable index: the controllable delivery is redrawn from the logged
// probability of the chosen side; everything else is kept and the regression refitted, K times each.
// Surrogate i of test j draws from an engine derived from (seed, j, i): the result is the same for any thread
// count. Runs on `threads` std::threads and returns when all are done. Thread-safe (pure).
// Throws std::invalid_argument when K < 1 or a probability a test needs is not logged or outside [0, 1].
CrtResult conditional_randomization_test(std::span<const TrialRecord> trials, const CrtOptions& options);

}  // namespace rig::analysis
