// Runs tests/host/analysis/statsmodels_fit.py (statsmodels Logit, Debian's /usr/bin/python3) on trials, for
// the agreement tests and the benchmark.
#pragma once

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "host/analysis/trial_record.hpp"

namespace rig::analysis::test_support {

struct StatsmodelsFit {
  std::vector<std::string> columns;      // "intercept", then column_name()s of the non-zero columns
  std::map<std::string, double> params;  // by column
  std::map<std::string, double> bse;
  double llf = 0.0;
  std::size_t n = 0;
  bool converged = false;
  double fit_seconds = 0.0;              // best over `repeat` runs of the Logit fit alone
};

struct StatsmodelsOptions {
  double tolerance = 1e-12;  // statsmodels' Newton tolerance on the parameters (its default is 1e-8)
  int repeat = 1;
};

// Whether /usr/bin/python3 can import statsmodels and pandas.
bool statsmodels_available();

// Writes `trials` to a temporary CSV, runs the script and parses its JSON. Throws std::runtime_error when
// the script fails.
StatsmodelsFit statsmodels_fit(std::span<const TrialRecord> trials, int lags, const StatsmodelsOptions& options = {});

}  // namespace rig::analysis::test_support
