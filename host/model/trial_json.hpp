// The trial record as JSON, named and valued as its columns (host/model/trial.def): the JSON Lines export
// writes every field, the dashboard the kShown ones.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "host/model/trial_record.hpp"

namespace rig::model {

// A value as JSON, or null when there is none. Pure; thread-safe.
template <class T>
nlohmann::json optional_json(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

// A column value as JSON: NULL null, INTEGER and REAL numbers, TEXT a string. Pure; thread-safe.
nlohmann::ordered_json column_json(const ColumnValue& value);


// The record as one JSON object in field order; `shown_only`: only the kShown fields. Pure; thread-safe.
nlohmann::ordered_json trial_json(const TrialRecord& record, bool shown_only);

// A tally's counts as the summary, the stored end and the dashboard show them: {trials, choices, misses,
// reversals, high_side_fraction (0 without a choice), rewards: {<flavour>: deliveries}}. Pure; thread-safe.
nlohmann::json tally_json(const TrialTally& tally);

}  // namespace rig::model
