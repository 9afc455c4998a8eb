// A synthetic session for the store's benchmark and tests: the real task engine with the published default
// protocol, a seeded mouse, and a plausible 1 kHz wheel trace for every trial (still during quiescence, a turn
// to the threshold after the go cue, wandering in the ITI). Deterministic for a seed. Not thread-safe.
#pragma once

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/config/rig_config_file.hpp"
#include "host/config/protocol_file.hpp"
#include "host/task/engine.hpp"
#include "host/model/device.hpp"
#include "host/model/trial_record.hpp"
#include "host/task/random_stream.hpp"
#include "host/task/record.hpp"

namespace rig::store::synthetic {

inline constexpr const char* kRigYaml = R"yaml(rig:
  id: synthetic-1
device:
  kind: sim
wheel:
  ticks_per_rev: 1024
  threshold_deg: 30
cues:
  go: 0
valves:
  cherry:
    calibrated_on: 2025-01-06
    points:
      - {open_us: 10000, volume_ul: 0.8}
      - {open_us: 40000, volume_ul: 4.0}
  grape:
    calibrated_on: 2025-01-06
    points:
      - {open_us: 10000, volume_ul: 0.7}
      - {open_us: 40000, volume_ul: 3.9}
)yaml";
// The widest limits a file may give: the synthetic sessions are stopped by their callers.
inline constexpr const char* kProtocolYaml =
    "name: synthetic\nlimits:\n  max_trials: 1000000\n  max_minutes: 1440\n  max_volume_per_spout_ul: 100000\n";
inline constexpr std::int64_t kWheelPeriodUs = 1000;
inline constexpr std::size_t kSamplesPerBatch = 20;
inline constexpr std::int64_t kFirstArmUs = 10'000'000;  // the device has been up 10 s when the session starts

// What the engine and the device produced for one trial; record() is what the store keeps of it.
struct Trial {
  task::TrialPlan plan;
  wire::TrialResult result{};
  model::TrialTimes times;
  task::TrialUpdate update;
  std::vector<model::WheelSamples> wheel;
  task::EngineState state_after;

  model::TrialRecord record() const { return task::record_trial(plan, result, times, update); }
};

inline task::Protocol protocol() {
  auto loaded = config::parse_protocol(kProtocolYaml, "synthetic.yaml");
  if (!loaded.ok()) throw std::logic_error("synthetic protocol does not load");
  return *loaded.value;
}

inline task::RigConfig rig_config() {
  auto loaded = config::parse_rig_config(kRigYaml, "synthetic-rig.yaml");
  if (!loaded.ok()) throw std::logic_error("synthetic rig config does not load");
  return *loaded.value;
}

inline task::Subject subject(const std::string& id) {
  task::Subject s;
  s.id = id;
  s.stage = "synthetic.yaml";
  return s;
}

// The mouse's choice on a trial, a pure function of the seed and the trial number, so that a session resumed
// after a crash chooses exactly as an uninterrupted one: obeys instructed trials, picks the high side with
// probability 0.7 on free trials, misses 1 in 20.
inline std::optional<wire::Side> mouse_choice(std::uint64_t seed, const task::TrialPlan& plan) {
  task::RandomStream rng(seed * 1'000'003 + plan.trial_number);
  if (rng.bernoulli(0.05)) return std::nullopt;
  if (plan.instructed_side) return *plan.instructed_side;
  return rng.bernoulli(0.7) ? plan.high_side : task::opposite(plan.high_side);
}

class Session {
 public:
  // A new session, or (saved) one resumed from a stored engine state.
  Session(std::uint64_t seed, const std::string& subject_id, const task::EngineState* saved = nullptr)
      : seed_(seed),
        engine_(saved ? task::TaskEngine(protocol(), rig_config(), subject(subject_id), *saved)
                      : task::TaskEngine(protocol(), rig_config(), subject(subject_id), seed)),
        wheel_rng_(seed ^ 0x5eed) {
    if (saved && saved->ready_at_us) now_us_ = *saved->ready_at_us;
  }

  task::EngineState state() const { return engine_.state(); }

  // The next trial, played to its end (device clock = engine clock, microseconds).
  Trial next() {
    Trial t;
    auto plan = engine_.next_trial(now_us_);
    if (!plan) throw std::logic_error("synthetic session stopped");
    t.plan = *plan;
    const auto choice = mouse_choice(seed_, t.plan);
    const std::int64_t armed_us = now_us_;
    const std::int64_t iti_samples = 1000;  // the wheel trace covers the ITI before the trial too
    const std::int64_t quiescence_samples = 500 + static_cast<std::int64_t>(wheel_rng_.uniform() * 300);
    const std::int64_t response_samples = choice ? 150 + static_cast<std::int64_t>(wheel_rng_.uniform() * 650) : 3000;
    const std::int64_t after_samples = 300;
    const std::int64_t go_cue_us = armed_us + quiescence_samples * kWheelPeriodUs;
    const std::int64_t choice_us = go_cue_us + response_samples * kWheelPeriodUs;

    std::vector<std::int32_t> positions;
    const double direction = !choice ? 0.0 : (*choice == wire::Side::kLeft ? -1.0 : 1.0);
    wander(positions, iti_samples, 0.08);
    for (std::int64_t i = 0; i < quiescence_samples; ++i) {
      // A resting encoder flickers by a tick now and then.
      position_ += wheel_rng_.bernoulli(0.01) ? (wheel_rng_.bernoulli(0.5) ? 1 : -1) : 0;
      positions.push_back(static_cast<std::int32_t>(position_));
    }
    if (choice) {
      const double ticks_per_sample = 90.0 / static_cast<double>(response_samples);
      for (std::int64_t i = 0; i < response_samples; ++i) {
        exact_ += direction * ticks_per_sample * (0.5 + wheel_rng_.uniform());
        position_ = static_cast<std::int64_t>(std::lround(exact_));
        positions.push_back(static_cast<std::int32_t>(position_));
      }
      wander(positions, after_samples, 0.15);
    } else {
      wander(positions, response_samples, 0.02);
    }
    const std::int64_t t0_us = armed_us - iti_samples * kWheelPeriodUs;
    for (std::size_t at = 0; at < positions.size(); at += kSamplesPerBatch) {
      model::WheelSamples batch;
      batch.batch_seq = batch_seq_++;
      batch.t0_us = t0_us + static_cast<std::int64_t>(at) * kWheelPeriodUs;
      batch.period_us = static_cast<std::uint16_t>(kWheelPeriodUs);
      const auto end = std::min(positions.size(), at + kSamplesPerBatch);
      batch.position_ticks.assign(positions.begin() + static_cast<std::ptrdiff_t>(at),
                                  positions.begin() + static_cast<std::ptrdiff_t>(end));
      t.wheel.push_back(std::move(batch));
    }

    auto& r = t.result;
    r.trial_id = t.plan.trial_number;
    r.kind = t.plan.arm.kind;
    r.outcome = static_cast<std::uint8_t>(!choice ? wire::TrialOutcome::kMiss
                                                  : (*choice == wire::Side::kLeft ? wire::TrialOutcome::kLeft
                                                                                  : wire::TrialOutcome::kRight));
    r.armed_t_us = static_cast<std::uint32_t>(armed_us);
    r.go_cue_t_us = static_cast<std::uint32_t>(go_cue_us);
    t.times.armed_us = armed_us;
    t.times.go_cue_us = go_cue_us;
    if (choice) {
      r.choice_t_us = static_cast<std::uint32_t>(choice_us);
      r.valve_open_t_us = static_cast<std::uint32_t>(choice_us + 12);
      r.delivered_open_us[0] = t.plan.open_us(*choice, wire::Valve::kCherry);
      r.delivered_open_us[1] = t.plan.open_us(*choice, wire::Valve::kGrape);
      r.position_at_choice_ticks = static_cast<std::int32_t>(position_);
      t.times.choice_us = choice_us;
      t.times.valve_open_us = choice_us + 12;
    }
    r.quiescence_restarts = static_cast<std::uint16_t>(quiescence_samples > 700 ? 1 : 0);
    now_us_ = armed_us + static_cast<std::int64_t>(positions.size() - static_cast<std::size_t>(iti_samples)) * kWheelPeriodUs;
    t.update = engine_.on_result(t.plan, r, now_us_);
    now_us_ = engine_.ready_at_us();
    t.state_after = engine_.state();
    return t;
  }

 private:
  void wander(std::vector<std::int32_t>& positions, std::int64_t samples, double noise) {
    for (std::int64_t i = 0; i < samples; ++i) {
      velocity_ = 0.97 * velocity_ + noise * (wheel_rng_.uniform() - 0.5);
      exact_ += velocity_;
      position_ = static_cast<std::int64_t>(std::lround(exact_));
      positions.push_back(static_cast<std::int32_t>(position_));
    }
    exact_ = static_cast<double>(position_);
  }

  std::uint64_t seed_;
  task::TaskEngine engine_;
  task::RandomStream wheel_rng_;
  std::int64_t now_us_ = kFirstArmUs;
  std::int64_t position_ = 0;
  double exact_ = 0.0;
  double velocity_ = 0.0;
  std::uint16_t batch_seq_ = 0;
};

}  // namespace rig::store::synthetic
