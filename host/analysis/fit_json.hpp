// The JSON form of a fit, as `rig fit --json` prints it (schema in docs/analysis.md).
#pragma once

#include <nlohmann/json.hpp>

#include "host/analysis/crt.hpp"
#include "host/analysis/history_regression.hpp"

namespace rig::analysis {

// {n_trials, lags, bias, bias_se, weights{none,controllable,distractor,both}: [by lag, null where the column
// was left out], se (same shape), controllable_index, controllable_index_se, distractor_index,
// distractor_index_se (null when undefined), loglik, converged, iterations, separation, singular}, plus
// crt{surrogates, controllable_p, distractor_p, seed} when `crt` is given. Non-finite numbers become null.
// Thread-safe (pure); no errors.
nlohmann::json fit_to_json(const HistoryFit& fit, const CrtResult* crt = nullptr, std::uint64_t crt_seed = 0);

// An index as {value, se}, or null when it is missing or not finite (a separated or singular fit, e.g. too
// few trials: not an estimate). Thread-safe (pure); no errors.
nlohmann::json estimate_to_json(const std::optional<Estimate>& estimate);

}  // namespace rig::analysis
