// Statistics across mice (docs/analysis.md, "Which test answers which question"): each mouse's indices are one
// observation; the group's claims are that ci - di > 0 (mice credit the controllable reward more) and di > 0
// (they still credit the distractor). Pure computation; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "host/analysis/crt.hpp"

namespace rig::analysis {

// Mean, standard error and one-sided tests of a sample against 0 (H1: the mean is above 0).
struct SampleTest {
  std::size_t n = 0;
  double mean = 0.0;
  double se = 0.0;                    // sd / sqrt(n) (sd with n - 1); NaN for n < 2
  std::optional<double> t_test_p;     // Student's t, n - 1 degrees of freedom; nullopt for n < 2 or sd = 0
  std::optional<double> sign_test_p;  // P(at least this many positive | Binomial(n without zeros, 1/2))
};

// The test of `values` against 0. Throws std::invalid_argument for an empty sample or a non-finite value.
SampleTest one_sided_test(std::span<const double> values);

// One mouse's part in the group: its indices and, when it ran, its randomization test.
struct MouseResult {
  double controllable_index = 0.0;
  double distractor_index = 0.0;
  const CrtResult* crt = nullptr;  // the same K for every mouse, or null for all
};

struct GroupResult {
  std::size_t n_subjects = 0;
  SampleTest ci_minus_di;
  SampleTest di;
  SampleTest ci;
  // The group randomization tests: each mouse's surrogates as drawn for its own test, the statistic summed over
  // mice; p = (1 + #{summed surrogate >= summed observed}) / (1 + K). nullopt without every mouse's test.
  std::optional<double> crt_controllable_p;
  std::optional<double> crt_distractor_p;
  std::optional<double> crt_structure_p;
  int crt_surrogates = 0;
};

// The group of `mice` (estimable ones only: the caller leaves the others out). Throws std::invalid_argument
// for an empty group or randomization tests with different K.
GroupResult group_statistics(std::span<const MouseResult> mice);

}  // namespace rig::analysis
