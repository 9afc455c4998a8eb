// Exports of a stored session for analysis outside the rig (pandas, R): trials one row per trial, wheel traces
// one row per sample. Columns are documented in docs/data-format.md.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "host/store/store.hpp"

namespace rig::store {

enum class ExportFormat { kCsv, kJsonl };
// What to export: the trials, the wheel traces, or a recording table (licks, sync edges, camera frames).
enum class ExportTable { kTrials, kWheel, kLicks, kSync, kFrames };

// "trials", "wheel", "licks", "sync" or "frames" to a table, or nullopt. Pure; thread-safe.
std::optional<ExportTable> export_table_from_name(const std::string& name);

// "csv" or "jsonl" to a format, or nullopt. Pure; thread-safe.
std::optional<ExportFormat> export_format_from_name(const std::string& name);

// Writes every trial of the session in trial order: CSV with a header row (the fields of
// host/model/trial.def in order, the `trials` columns; NULL as an empty field; numbers exact), or JSON Lines (one object per trial, NULL as null). Returns
// the number of trials written. Not thread-safe (uses the store's connection). Throws StoreError.
std::int64_t export_trials(const Store& store, std::int64_t session_id, ExportFormat format, std::ostream& out);

// Writes the session's wheel traces, one row per sample: session_id, trial_number, t_us (device time since
// boot, microseconds), position_ticks. Returns the number of samples written. Not thread-safe. Throws
// StoreError, std::invalid_argument for a malformed stored trace.
std::int64_t export_wheel(const Store& store, std::int64_t session_id, ExportFormat format, std::ostream& out);

// Writes the session's licks (host/model/recording.def `licks`: one row per onset or offset) or sync edges
// (`sync_edges`: one row per rising edge with its device_us) in the order recorded. Returns the rows written.
// Not thread-safe. Throws StoreError.
std::int64_t export_licks(const Store& store, std::int64_t session_id, ExportFormat format, std::ostream& out);
std::int64_t export_sync(const Store& store, std::int64_t session_id, ExportFormat format, std::ostream& out);
// Writes one row per camera frame trigger: session_id, run (1-based), frame_index (0-based within the run),
// device_us (first_frame_device_us + frame_index * period_us of the run). Returns the frames written.
std::int64_t export_frames(const Store& store, std::int64_t session_id, ExportFormat format, std::ostream& out);
// The table's export. Returns the rows written.
std::int64_t export_table(const Store& store, std::int64_t session_id, ExportTable table, ExportFormat format,
                          std::ostream& out);

}  // namespace rig::store
