// A stored session as a Neurodata Without Borders file (NWB core 2.6.0, HDF5 through Debian's libhdf5): the
// session's metadata in /general, its trials in /intervals/trials (one column per field of host/model/trial.def),
// the wheel, licks, valves, go cues, sync edges and camera frames in /processing/behavior, and derived results
// the caller computed in /analysis. The layout is documented field by field in docs/data-format.md, "NWB".
//
// Written streaming (trials, wheel and recordings a chunk at a time, the wheel compressed): memory does not
// grow with the session's length. Written to a temporary file beside the target and renamed over it at the end,
// so that a failed export leaves no partial file.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "host/store/store.hpp"

namespace rig::store {

inline constexpr const char* kNwbVersion = "2.6.0";

// A derived table for /analysis (e.g. the session's regression weights): a DynamicTable of equal-length
// columns, each reals or text.
struct NwbColumn {
  std::string name;
  std::string description;
  std::variant<std::vector<double>, std::vector<std::string>> values;
};
struct NwbTable {
  std::string name;
  std::string description;
  std::vector<NwbColumn> columns;
};

// What the store does not hold, from the caller (the rig config, the subjects file, the analysis).
struct NwbOptions {
  std::string lab;           // /general/lab; empty: left out
  std::string institution;   // /general/institution; empty: left out
  std::string experimenter;  // /general/experimenter; empty: left out
  // Device time to an ephys recording's seconds (an alignment from `rig align`'s sync edges), and what the
  // recording is; empty: the rig's clock.
  std::function<double(std::int64_t)> device_to_ephys_s;
  std::string ephys_clock_description;
  // Derived results for /analysis.
  std::vector<NwbTable> analysis;
  bool force = false;  // replace an existing file
  // The export's time (file_create_date), microseconds since the Unix epoch; 0: now.
  std::int64_t created_at_unix_us = 0;
};

// What an export wrote.
struct NwbSummary {
  std::string path;
  std::string identifier;  // the session's uuid
  std::int64_t trials = 0;
  std::int64_t wheel_samples = 0;
  std::int64_t lick_edges = 0;
  std::int64_t valve_openings = 0;
  std::int64_t sync_edges = 0;
  std::int64_t camera_frames = 0;
  std::size_t clock_segments = 1;
};

// A file the export refuses to write or replace (it exists without `force`, its directory is missing or not
// writable), or a session it cannot put on the asked clock: bad input, named in the message.
class NwbInputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Writes session `session_id` of `store` to `path`. Not thread-safe (uses the store's connection; HDF5 is not
// thread-safe). Throws NwbInputError (see above), StoreError (no such session, SQLite's failures),
// hdf5::Hdf5Error (writing failed; nothing is left at `path` or beside it).
NwbSummary export_nwb(const Store& store, std::int64_t session_id, const std::string& path, const NwbOptions& options);

// How a trial field is stored in /intervals/trials: bool as HDF5's bool enum (h5py reads numpy bool), integers
// int64, reals float64, text and enums (sides, flavours, outcomes) UTF-8 text; a nullable number or bool as
// float64 with NaN for NULL, a nullable text with "" for NULL.
enum class NwbDtype { kBool, kInt64, kFloat64, kText };
struct NwbTrialColumn {
  const model::FieldInfo* field;
  NwbDtype dtype;
  std::string unit;         // nwb_unit_of(name), "" for none
  std::string description;  // the field's doc, its unit and what NULL became
};
// One entry per field of host/model/trial.def, in column order: what the writer creates and docs/data-format.md
// lists. Pure; thread-safe.
std::vector<NwbTrialColumn> nwb_trial_columns();
// "bool", "int64", "float64" or "text". Pure; thread-safe.
const char* nwb_dtype_name(NwbDtype dtype);

// The NWB name of a trial field's unit, from its name's suffix (_us: microseconds, _ul: microliters, _ticks:
// encoder ticks, ...), or "" for a field without a unit. Pure; thread-safe.
std::string nwb_unit_of(const std::string& field_name);

}  // namespace rig::store
