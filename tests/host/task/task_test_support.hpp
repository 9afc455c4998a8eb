// Shared fixtures of the task tests: the shipped protocols and the test rig, and a fake device that answers an
// armed trial the way the firmware would.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "firmware/wire/messages.hpp"
#include "host/config/protocol_file.hpp"
#include "host/config/rig_config_file.hpp"
#include "host/task/engine.hpp"
#include "host/task/protocol.hpp"
#include "host/task/rig_config.hpp"
#include "host/task/subject.hpp"

namespace rig::task::testing {

using config::load_protocol_file;
using config::load_rig_config_file;
using config::parse_protocol;

inline std::string source_path(const std::string& relative) { return std::string(RIG_SOURCE_DIR) + "/" + relative; }
inline std::string test_path(const std::string& relative) { return std::string(RIG_TASK_TEST_DIR) + "/" + relative; }

// Loads a protocol from protocols/ (name without .yaml), failing the test on diagnostics.
inline Protocol shipped_protocol(const std::string& name) {
  auto loaded = load_protocol_file(source_path("protocols/" + name + ".yaml"));
  for (const auto& d : loaded.diagnostics) ADD_FAILURE() << format_diagnostic(d);
  return loaded.ok() ? *loaded.value : Protocol{};
}

// A protocol from YAML text, failing the test on diagnostics.
inline Protocol protocol_from(const std::string& text) {
  auto loaded = parse_protocol(text, "inline.yaml");
  for (const auto& d : loaded.diagnostics) ADD_FAILURE() << format_diagnostic(d);
  return loaded.ok() ? *loaded.value : Protocol{};
}

// The one diagnostic of a load that must fail with exactly one, formatted; fails the test otherwise.
template <class T>
std::string only_diagnostic(const Loaded<T>& loaded) {
  EXPECT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.diagnostics.size(), 1u);
  return loaded.diagnostics.empty() ? std::string() : format_diagnostic(loaded.diagnostics.front());
}

inline RigConfig test_rig() {
  auto loaded = load_rig_config_file(test_path("rig.test.yaml"));
  for (const auto& d : loaded.diagnostics) ADD_FAILURE() << format_diagnostic(d);
  return loaded.ok() ? *loaded.value : RigConfig{};
}

inline Subject subject(wire::Valve controllable = wire::Valve::kCherry) {
  Subject s;
  s.id = "T001";
  s.controllable = controllable;
  s.stage = "distractor.yaml";
  return s;
}

// The device's answer to `plan` when the mouse chooses `choice` (nullopt: miss): the chosen side's valves
// deliver exactly their armed open times.
inline wire::TrialResult device_result(const TrialPlan& plan, std::optional<wire::Side> choice) {
  wire::TrialResult result{};
  result.trial_id = plan.trial_number;
  result.kind = plan.arm.kind;
  result.outcome = static_cast<std::uint8_t>(
      !choice ? wire::TrialOutcome::kMiss
              : (*choice == wire::Side::kLeft ? wire::TrialOutcome::kLeft : wire::TrialOutcome::kRight));
  if (choice) {
    result.delivered_open_us[0] = plan.open_us(*choice, wire::Valve::kCherry);
    result.delivered_open_us[1] = plan.open_us(*choice, wire::Valve::kGrape);
  }
  return result;
}

// A simulated mouse for schedule statistics: on free trials it picks the high side with probability
// p_choose_high, on instructed trials it obeys. Its own stream keeps it independent of the engine's draws.
class ScriptedMouse {
 public:
  ScriptedMouse(double p_choose_high, std::uint64_t seed) : p_choose_high_(p_choose_high), rng_(seed) {}
  wire::Side choose(const TrialPlan& plan) {
    if (plan.instructed_side) return *plan.instructed_side;
    return rng_.bernoulli(p_choose_high_) ? plan.high_side : opposite(plan.high_side);
  }

 private:
  double p_choose_high_;
  RandomStream rng_;
};

}  // namespace rig::task::testing
