// A subject's record on the other rigs, read from the lab database when a session starts (docs/lab.md, "A mouse
// across rigs"): its sessions and trials (the pooled fit), weighings, water by hand and recent rewards (the
// welfare day), and whether it is running on another rig right now.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "host/lab/pg.hpp"
#include "host/store/subject_elsewhere.hpp"

namespace rig::lab {

// A session without an end on another rig counts as running while its last trial (or its start) is younger
// than this: a rig that died mid-session frees its subject after it, without anyone editing the lab.
inline constexpr std::chrono::minutes kRunningElsewhereWindow{10};

// Whether a session counts as running at `now_unix_us`: it has no end and its last activity (its last trial's
// commit, else its start) is younger than kRunningElsewhereWindow. The lab page shows rigs by the same rule. Pure;
// thread-safe.
bool is_running(bool ended, std::int64_t last_activity_unix_us, std::int64_t now_unix_us);

// Everything the lab holds of `subject_id` from rigs other than `rig_id`: sessions (oldest first) with their
// trials, weighings and water (in time order), and the rewards of trials committed at or after
// `rewards_since_unix_us`. Reads the lab (one snapshot: a REPEATABLE READ transaction); not thread-safe (uses
// `lab` from the calling thread). Throws LabError when the lab cannot be read or holds a malformed row (the
// message names the table, the rig and the field).
store::SubjectElsewhere read_subject_elsewhere(PgConnection& lab, const std::string& rig_id, const std::string& subject_id,
                                               std::int64_t rewards_since_unix_us);

// Why the subject must not start a session here: "M3 is running on rig-2 (session 41, started 2026-11-30T09:12:00Z,
// last trial 40 s ago) ...", or nullopt. Running = a session without an end whose last activity is within
// kRunningElsewhereWindow of `now_unix_us` (this rig's clock). Pure; thread-safe.
std::optional<std::string> running_elsewhere(const store::SubjectElsewhere& record, const std::string& subject_id,
                                             std::int64_t now_unix_us);

}  // namespace rig::lab
