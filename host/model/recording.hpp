// The recording records (field table recording.def): licks, sync edges and camera runs of a session. Plain
// values; every column-wise use (SQL, export, docs) goes through RecordingTable<Record>, so a field is written
// once, in recording.def.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <iterator>
#include <vector>

#include "firmware/wire/messages.hpp"
#include "host/model/trial_record.hpp"

namespace rig::model {

// A row table's name, version, meaning and fields (FieldInfo as the trial table's; since_version is the
// table's), for the recording tables (recording.def) and the welfare tables (welfare.def). Pure; thread-safe.
template <class Record>
struct RecordingTable;

#define RIG_ROW_TABLE_DEF "host/model/recording.def"
#include "host/model/row_tables.inc"
#undef RIG_ROW_TABLE_DEF

// Calls f(const FieldInfo&, member) for every field of `record` (a row-table record, const or not) in column
// order. Pure; thread-safe as f is.
template <class R, class F>
void for_each_recording_field(R& record, F&& f) {
  for_each_field(record, std::forward<F>(f), static_cast<const std::remove_const_t<R>*>(nullptr));
}

// The same for any stored record, a trial (trial.def) or a row of recording.def or welfare.def: what the store's
// binder and reader and the exports' row writers go through. Pure; thread-safe as f is.
template <class R, class F>
void for_each_column(R& record, F&& f) {
  if constexpr (std::is_same_v<std::remove_const_t<R>, TrialRecord>) {
    for_each_trial_field(record, std::forward<F>(f));
  } else {
    for_each_recording_field(record, std::forward<F>(f));
  }
}

// The schema version whose trial fields (trial.def) are a trial's licks, filled after the trial by a
// TrialLickUpdate.
inline constexpr int kLickFieldsVersion = 3;

// A trial's lick fields, known once its consumption window has passed: indexed by wire::Valve.
struct TrialLickUpdate {
  std::uint32_t trial_number = 0;
  std::array<std::uint32_t, wire::kValveCount> licks{};
  std::array<std::optional<std::int64_t>, wire::kValveCount> first_lick_latency_us{};
  std::array<std::optional<bool>, wire::kValveCount> consumed{};
  bool operator==(const TrialLickUpdate&) const = default;

  // Sets `record`'s lick fields (the trial.def fields of kLickFieldsVersion). Pure.
  void apply(TrialRecord& record) const {
    record.licks_cherry = licks[0];
    record.licks_grape = licks[1];
    record.first_lick_cherry_latency_us = first_lick_latency_us[0];
    record.first_lick_grape_latency_us = first_lick_latency_us[1];
    record.cherry_consumed = consumed[0];
    record.grape_consumed = consumed[1];
  }
};

// What the rig recorded between two commits, written with the next trial (or the session's end) in the same
// transaction.
struct RecordingChunk {
  std::vector<LickRecord> licks;
  std::vector<SyncRecord> sync_edges;
  std::vector<CameraRecord> camera_runs;
  std::vector<TrialLickUpdate> trial_licks;  // earlier trials whose lick fields are now known
  bool empty() const { return licks.empty() && sync_edges.empty() && camera_runs.empty() && trial_licks.empty(); }
  void clear() {
    licks.clear();
    sync_edges.clear();
    camera_runs.clear();
    trial_licks.clear();
  }
};

}  // namespace rig::model
