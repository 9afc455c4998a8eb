// rig-bench-store: the cost of committing a trial (median and p99 latency of Store::commit_trial, which is one
// durable transaction with a 1 kHz wheel trace) and the database size per simulated hour.
//   rig-bench-store [--trials N] [--dir DIR] [--keep] [--recordings]   (--keep leaves DIR/bench.sqlite for
//   inspection; --recordings adds licks and sync edges, as tests/bench/nwb_export.py wants)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "host/store/sqlite.hpp"
#include "host/store/store.hpp"
#include "host/store/synthetic_session.hpp"
#include "host/task/engine_state.hpp"

namespace {

std::uintmax_t database_bytes(const std::string& path) {
  std::uintmax_t total = 0;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code error;
    const auto size = std::filesystem::file_size(path + suffix, error);
    if (!error) total += size;
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  int trials = 3000;
  std::string dir = std::filesystem::temp_directory_path() / "rig-bench-store";
  bool keep = false;
  bool recordings = false;
  for (int i = 1; i < argc; i += 2) {
    const std::string option = argv[i];
    if (option == "--keep") {
      keep = true;
      --i;
    } else if (option == "--recordings") {
      recordings = true;
      --i;
    } else if (i + 1 >= argc) {
      std::fprintf(stderr, "rig-bench-store: %s needs a value\n", option.c_str());
      return 2;
    } else if (option == "--trials") {
      trials = std::atoi(argv[i + 1]);
    } else if (option == "--dir") {
      dir = argv[i + 1];
    } else {
      std::fprintf(stderr, "usage: rig-bench-store [--trials N] [--dir DIR] [--keep] [--recordings]\n");
      return 2;
    }
  }
  std::filesystem::remove_all(dir);
  const std::string path = dir + "/bench.sqlite";
  try {
    auto store = rig::store::Store::open(path);
    rig::store::synthetic::Session session(42, "BENCH");
    rig::store::SessionStart start;
    start.subject = rig::store::synthetic::subject("BENCH");
    start.protocol_path = "synthetic.yaml";
    start.protocol_text = rig::store::synthetic::kProtocolYaml;
    start.rig_config_text = rig::store::synthetic::kRigYaml;
    start.valve_calibration_json = rig::store::calibration_json(rig::store::synthetic::rig_config());
    start.device_kind = "sim";
    rig::model::DeviceInfo device;
    device.encoder_ticks_per_rev = 1024;  // synthetic::kRigYaml's wheel
    start.hardware_json = rig::model::device_info_json(device);
    start.host_version = "bench";
    start.rng_seed = 42;
    start.started_at_unix_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    start.initial_state_json = rig::task::engine_state_to_json(session.state());
    const auto session_id = store.begin_session(start);

    std::vector<double> latency_us;
    std::int64_t first_sample_us = 0;
    std::int64_t last_sample_us = 0;
    std::int64_t samples = 0;
    std::int64_t next_edge_us = 0;
    std::int64_t edge_index = 0;
    for (int i = 0; i < trials; ++i) {
      const auto trial = session.next();
      if (i == 0) first_sample_us = trial.wheel.front().t0_us;
      last_sample_us = trial.wheel.back().t0_us + static_cast<std::int64_t>(trial.wheel.back().position_ticks.size()) *
                                                      trial.wheel.back().period_us;
      for (const auto& batch : trial.wheel) samples += static_cast<std::int64_t>(batch.position_ticks.size());
      const auto record = trial.record();
      // --recordings: what a rig with lick sensors and a sync output records too (3 licks after each reward,
      // a sync edge every 50-150 ms), so that the session is a whole one (the NWB export's benchmark).
      rig::model::RecordingChunk recording;
      if (recordings) {
        if (record.valve_open_device_us) {
          for (int k = 0; k < 3; ++k) {
            const auto onset = *record.valve_open_device_us + 80'000 + k * 150'000;
            recording.licks.push_back({session_id, rig::wire::Valve::kCherry, true, onset, record.trial_number});
            recording.licks.push_back({session_id, rig::wire::Valve::kCherry, false, onset + 40'000, record.trial_number});
          }
        }
        for (; next_edge_us < last_sample_us; next_edge_us += 50'000 + (edge_index * 7919 % 100) * 1'000) {
          recording.sync_edges.push_back({session_id, edge_index++, next_edge_us});
        }
      }
      const auto begin = std::chrono::steady_clock::now();
      store.commit_trial(session_id, record, trial.wheel, trial.state_after, recording);
      latency_us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - begin).count());
    }
    store.end_session(session_id, "bench", "{}");
    rig::store::connection_of(store).exec("PRAGMA wal_checkpoint(TRUNCATE)", "checkpoint");
    std::sort(latency_us.begin(), latency_us.end());
    const auto at = [&](double q) { return latency_us[static_cast<std::size_t>(q * static_cast<double>(latency_us.size() - 1))]; };
    const double hours = static_cast<double>(last_sample_us - first_sample_us) / 3.6e9;
    const auto bytes = database_bytes(path);
    std::printf("trials                 %d\n", trials);
    std::printf("wheel samples          %lld (1 kHz, %.2f simulated hours)\n", static_cast<long long>(samples), hours);
    std::printf("commit latency median  %.0f us\n", at(0.5));
    std::printf("commit latency p99     %.0f us\n", at(0.99));
    std::printf("commit latency max     %.0f us\n", latency_us.back());
    std::printf("database size          %.2f MB\n", static_cast<double>(bytes) / 1e6);
    std::printf("database size per hour %.2f MB\n", static_cast<double>(bytes) / 1e6 / hours);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rig-bench-store: %s\n", e.what());
    return 1;
  }
  if (!keep) std::filesystem::remove_all(dir);
  return 0;
}
