// The conditional randomization test (Harris 2020) of the controllable and distractor indices.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
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
  bool test_structure = true;           // run the flavour-label test of ci > di
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
  // The flavour-label test of "the controllable flavour is credited more than the distractor": the observed
  // controllable index minus the distractor index, its one-sided p as above, and the surrogates' values.
  std::optional<double> structure_observed;
  std::optional<double> structure_p;
  std::vector<double> structure_surrogates;
  // Surrogate fits that were separated (some choices predicted with certainty; their indices are not
  // meaningful and count as >= the observed value), per test.
  int controllable_separated = 0;
  int distractor_separated = 0;
  int structure_separated = 0;
};

// Runs the three tests on one subject's trials. Distractor index: every trial's distractor delivery is redrawn
// from its logged p_distractor; controllable index: the controllable delivery is redrawn from the logged
// probability of the chosen side; structure (ci - di, docs/analysis.md "Which test answers which question"): on
// every trial where exactly one flavour was delivered, which one is redrawn with P(controllable | exactly one) =
// pc (1 - pd) / (pc (1 - pd) + (1 - pc) pd), pc the chosen side's controllable probability and pd the
// distractor's, keeping the choices and the number of rewards. Everything else is kept and the regression
// refitted, K times each.
// Surrogate i of test j draws from an engine derived from (seed, j, i): the result is the same for any thread
// count. Runs on `threads` std::threads and returns when all are done. Thread-safe (pure).
// Throws std::invalid_argument when K < 1 or a probability a test needs is not logged or outside [0, 1].
CrtResult conditional_randomization_test(std::span<const TrialRecord> trials, const CrtOptions& options);

// A randomization test's p as a reader should see it: "p = 0.060", or at its floor 1 / (K + 1) "p < 0.001"
// (1 / K, which the floor is below), never a rounded floor that reads as not below it. Pure; thread-safe.
std::string format_p_value(double p, int surrogates);

}  // namespace rig::analysis
