// Scripted scenarios and benchmarks for the real firmware in simavr (run by `rig-simavr`).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rig::device {

struct ScenarioReport {
  std::string name;
  std::vector<std::string> failures;  // empty when the scenario passed
  std::vector<std::string> notes;     // measured values worth printing
  bool passed() const { return failures.empty(); }
};

// Names of the scenarios, in the order `all` runs them.
std::vector<std::string> scenario_names();

// Runs one scenario on a fresh simavr instance of `elf_path`. Throws std::invalid_argument for an unknown
// name and std::runtime_error if the firmware cannot be loaded or crashes.
ScenarioReport run_scenario(const std::string& name, const std::string& elf_path);

struct BenchOptions {
  std::string elf_path;
  int trials = 1000;                 // choice-to-valve trials
  double encoder_seconds = 10.0;     // simulated seconds per encoder rate
  unsigned seed = 1;
  std::vector<std::string> only;     // parts to run (empty: all)
};

// Runs the firmware benchmarks and returns one JSON object: choice_to_valve_us_{p50,p99,max} (nothing else
// running) and choice_to_valve_busy_us_{p50,p99,max} (the sync line, the camera trigger at 200 Hz and both
// lick inputs at 15 Hz running), pulse_error_us_max, encoder_lossless_edges_per_s, watchdog_close_ms,
// sync_edge_error_us_max, lick_timestamp_error_us_max and camera_frame_error_us_max (all of them under a
// 20,000 edges/s wheel), licks_lossless_per_s, flash_bytes, ram_bytes, and details.
// `progress` lines go to stderr.
nlohmann::json run_bench(const BenchOptions& options);

}  // namespace rig::device
