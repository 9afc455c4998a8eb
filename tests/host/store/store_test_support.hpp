// Shared fixtures of the store tests: a fresh directory per test, a session start, and one hand-built trial
// whose every logged value is distinct, so a round trip that swaps two fields fails.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "host/store/sqlite.hpp"
#include "host/store/store.hpp"
#include "host/store/synthetic_session.hpp"
#include "host/task/engine_state.hpp"

namespace rig::store::testing {

// A directory of its own under the system temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("rig-store-" + std::string(info ? info->name() : "test") + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The single integer a query returns (a COUNT(*)).
inline std::int64_t count(const Store& store, const std::string& sql) {
  auto select = connection_of(store).prepare(sql);
  select.step("count");
  return select.int64(0);
}

inline SessionStart session_start(const std::string& subject_id, std::uint64_t seed, const task::EngineState& initial) {
  SessionStart start;
  start.subject = synthetic::subject(subject_id);
  start.protocol_path = "protocols/synthetic.yaml";
  start.protocol_text = synthetic::kProtocolYaml;
  start.rig_config_path = "config/synthetic-rig.yaml";
  start.rig_config_text = synthetic::kRigYaml;
  start.valve_calibration_json = calibration_json(synthetic::rig_config());
  start.device_kind = "sim";
  start.firmware_build_id = "fw-test-1";
  model::DeviceInfo device;
  device.firmware_build_id = "fw-test-1";
  device.boot_id = 7;
  device.encoder_ticks_per_rev = 1024;  // synthetic::kRigYaml's wheel
  start.hardware_json = device_info_json(device);
  start.host_version = "0.1.0-test";
  start.rng_seed = seed;
  start.started_at_unix_us = 1'736'155'800'000'000;  // 2025-01-06T09:30:00Z
  start.initial_state_json = task::engine_state_to_json(initial);
  return start;
}

// A right choice on an instructed-right trial in block 3, high side left, delivering the controllable cherry
// (from the right spout) and not the distractor.
using HandTrial = synthetic::Trial;

inline HandTrial hand_trial(std::uint32_t trial_number) {
  HandTrial t;
  auto& p = t.plan;
  p.trial_number = trial_number;
  p.block_index = 3;
  p.high_side = wire::Side::kLeft;
  p.p_controllable_by_side = {0.8, 0.2};
  p.p_distractor = 0.5;
  p.free_choice = false;
  p.instructed_side = wire::Side::kRight;
  p.controllable_drawn_by_side = {false, true};
  p.distractor_drawn = false;
  p.controllable_valve = wire::Valve::kCherry;
  p.distractor_valve = wire::Valve::kGrape;
  p.volume_ul = {0.0, 0.0, 3.0, 0.0};
  p.arm.trial_id = trial_number;
  p.arm.kind = static_cast<std::uint8_t>(wire::TrialKind::kInstructedRight);
  p.arm.open_us[2] = 29524;
  p.planned_at_us = 123'456'789;
  auto& r = t.result;
  r.trial_id = trial_number;
  r.kind = p.arm.kind;
  r.outcome = static_cast<std::uint8_t>(wire::TrialOutcome::kRight);
  r.delivered_open_us[0] = 29500;
  r.position_at_choice_ticks = 86;
  r.quiescence_restarts = 2;
  r.flags = wire::kResultClamped;
  t.times = {5'000'000'000, 5'000'600'000, 5'000'950'250, 5'000'950'262};
  t.update.choice = wire::Side::kRight;
  t.update.chose_high = false;
  t.update.delivered_ul_by_valve = {2.95, 0.0};
  t.update.reversed = true;
  t.update.block_index = 4;
  t.update.high_side = wire::Side::kRight;
  model::WheelSamples batch;
  batch.t0_us = 4'999'000'000;
  batch.period_us = 1000;
  for (int i = 0; i < 40; ++i) batch.position_ticks.push_back(i < 20 ? 0 : 3 * (i - 20));
  t.wheel = {batch};
  t.state_after.seed = 99;
  t.state_after.trials_done = trial_number;
  t.state_after.choice_trials = trial_number;
  t.state_after.recent_free_chose_high = {true, false, true};
  t.state_after.ready_at_us = 124'000'000;
  return t;
}

inline void commit(Store& store, std::int64_t session_id, const synthetic::Trial& t) {
  store.commit_trial(session_id, t.record(), t.wheel, t.state_after);
}

// Writes a database at `path` holding one running session of subject M1 with hand_trial(1..trials), closes it
// (as a host that dies without ending the session) and returns the session id.
inline std::int64_t store_unended_session(const std::string& path, std::uint32_t trials) {
  auto store = Store::open(path);
  const auto session_id = store.begin_session(session_start("M1", 5, {}));
  for (std::uint32_t n = 1; n <= trials; ++n) commit(store, session_id, hand_trial(n));
  return session_id;
}

}  // namespace rig::store::testing
