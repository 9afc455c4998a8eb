// The trial CSV of `rig fit --csv` (docs/analysis.md): text in, text out, no file access.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "host/analysis/trial_record.hpp"

namespace rig::analysis {

// Parses CSV text with a header line. Columns, in any order (in parentheses: the name `rig export --format csv`
// gives the same column, also accepted, so that an export is read as it is):
//   choice        required  L, R or miss (case-insensitive); empty: miss (the export's NULL)
//   controllable  required  0/1: the controllable flavour was delivered (controllable_delivered)
//   distractor    required  0/1: the distractor flavour was delivered (distractor_delivered)
//   session       optional  session id; history restarts when it changes (default: one session) (session_id)
//   free          optional  1 free choice, 0 instructed (default 1) (free_choice)
//   p_controllable_left, p_controllable_right, p_distractor   optional  logged probabilities (for --crt)
// Other columns (e.g. trial) are ignored. Empty lines are skipped; fields are not quoted.
// Thread-safe (pure). Throws std::invalid_argument naming the line and column of the first problem.
std::vector<TrialRecord> parse_trials_csv(std::string_view text);

// Writes `trials` in the format parse_trials_csv reads (all columns; probabilities not logged stay empty,
// others are written to round-trip exactly). Thread-safe (pure); no errors.
std::string trials_to_csv(std::span<const TrialRecord> trials);

}  // namespace rig::analysis
