// How `rig align` and `rig export --ephys-sync` put a stored session on a recording's clock: the same reading of
// the edge file, the same matching and the same messages and exit codes for both.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "command_registry.hpp"
#include "host/analysis/sync_align.hpp"
#include "host/config/bounded_read.hpp"
#include "host/model/recording.hpp"
#include "host/store/store.hpp"

namespace rig::app {

// The session's sync edges (device microseconds) and the edges of `ephys_sync` (a CSV with a time_s column), as
// matched by analysis::align_sync_pulses. On bad input (no sync edges stored, an unreadable or malformed file,
// too few pulses matched) prints "rig COMMAND: why" to stderr, sets `exit_code` to kExitInvalid and returns
// nullopt. `device_edge_count` and `ephys_edge_count` (when given) receive the two counts. Not thread-safe
// (prints).
inline std::optional<analysis::SyncAlignment> align_session_to_ephys(const char* command, const store::Store& store,
                                                                     std::int64_t session_id,
                                                                     const std::string& ephys_sync, int& exit_code,
                                                                     std::size_t* device_edge_count = nullptr,
                                                                     std::size_t* ephys_edge_count = nullptr) {
  exit_code = kExitInvalid;
  std::vector<std::int64_t> device_edges_us;
  store.for_each_recording<model::SyncRecord>(
      session_id, [&](const model::SyncRecord& edge) { device_edges_us.push_back(edge.device_us); });
  if (device_edges_us.empty()) {
    std::fprintf(stderr,
                 "rig %s: session %lld has no sync edges: the rig's sync output was off (rig config `sync: "
                 "{enabled: true}`) or the firmware predates it\n",
                 command, static_cast<long long>(session_id));
    return std::nullopt;
  }
  // An hour of 30 kHz edges is far below this; anything larger is not an edge list.
  const auto read = config::read_bounded_file(ephys_sync, std::size_t{1} << 30);
  if (!read.text) {
    std::fprintf(stderr, "rig %s: %s: %s\n", command, ephys_sync.c_str(), read.error.c_str());
    return std::nullopt;
  }
  std::vector<double> ephys_edges_s;
  try {
    ephys_edges_s = analysis::parse_ephys_sync_csv(*read.text);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "rig %s: %s: %s\n", command, ephys_sync.c_str(), e.what());
    return std::nullopt;
  }
  if (device_edge_count) *device_edge_count = device_edges_us.size();
  if (ephys_edge_count) *ephys_edge_count = ephys_edges_s.size();
  try {
    auto alignment = analysis::align_sync_pulses(device_edges_us, ephys_edges_s);
    exit_code = kExitOk;
    return alignment;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rig %s: session %lld and %s: %s\n", command, static_cast<long long>(session_id),
                 ephys_sync.c_str(), e.what());
    return std::nullopt;
  }
}

}  // namespace rig::app
