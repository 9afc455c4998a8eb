#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "host/config/subjects_file.hpp"
#include "host/config/rig_config_file.hpp"
#include "host/task/rig_config.hpp"
#include "host/task/subject.hpp"
#include "task_test_support.hpp"

namespace rig::task {
using config::load_rig_config_file;
using config::load_subjects_file;
using config::parse_rig_config;
using config::parse_subjects;
namespace {

using testing::source_path;

TEST(RigConfigLoader, SimulatedRigExampleLoads) {
  const auto loaded = load_rig_config_file(source_path("config/rig.sim.yaml"));
  for (const auto& d : loaded.diagnostics) ADD_FAILURE() << format_diagnostic(d);
  ASSERT_TRUE(loaded.ok());
  const auto& rig = *loaded.value;
  EXPECT_EQ(rig.device_kind, DeviceKind::kSim);
  EXPECT_EQ(rig.ticks_per_rev, 4096);
  EXPECT_EQ(rig.cues.at("go"), 0);
  EXPECT_EQ(rig.table(wire::Valve::kCherry).points.size(), 5u);
  EXPECT_EQ(format_date(rig.table(wire::Valve::kGrape).calibrated_on), "2025-01-06");
  EXPECT_FALSE(check_table(rig.table(wire::Valve::kGrape)).has_value());
}

TEST(RigConfigLoader, SerialDeviceNeedsAPort) {
  const auto loaded = parse_rig_config(
      "rig: {id: r}\ndevice: {kind: serial}\nwheel: {ticks_per_rev: 1024, threshold_deg: 30}\ncues: {go: 0}\n"
      "valves:\n  cherry: {calibrated_on: 2025-01-01, points: [{open_us: 1000, volume_ul: 1}, {open_us: 2000, volume_ul: 2}]}\n"
      "  grape: {calibrated_on: 2025-01-01, points: [{open_us: 1000, volume_ul: 1}, {open_us: 2000, volume_ul: 2}]}\n",
      "r.yaml");
  EXPECT_EQ(testing::only_diagnostic(loaded), "r.yaml:2:9: device.port: missing required field (expected a text)");
}

// A rig config with `device_extra` inside device: and `wheel_extra` inside wheel:.
std::string rig_yaml(const std::string& device_extra, const std::string& wheel_extra) {
  return "rig: {id: r}\ndevice: {kind: sim" + device_extra + "}\nwheel: {ticks_per_rev: 1024, threshold_deg: 30" +
         wheel_extra +
         "}\ncues: {go: 0}\n"
         "valves:\n  cherry: {calibrated_on: 2025-01-01, points: [{open_us: 1000, volume_ul: 1}, {open_us: 2000, volume_ul: 2}]}\n"
         "  grape: {calibrated_on: 2025-01-01, points: [{open_us: 1000, volume_ul: 1}, {open_us: 2000, volume_ul: 2}]}\n";
}

TEST(RigConfigLoader, DevicePolicyDefaultsAreTheFirmwares) {
  const auto loaded = parse_rig_config(rig_yaml("", ""), "r.yaml");
  ASSERT_TRUE(loaded.ok());
  // heartbeat ms, max open us, max open us per s, wheel period us, samples per batch
  EXPECT_EQ(loaded.value->device_policy, (DevicePolicy{250, 500000, 600000, 1000, 20}));
}

TEST(RigConfigLoader, DevicePolicyIsReadFromTheDeviceAndWheelSections) {
  const auto loaded = parse_rig_config(
      rig_yaml(", heartbeat_timeout_ms: 500, max_open_us: 200000, max_open_us_per_s: 300000",
               ", sample_period_us: 2000, samples_per_batch: 10"),
      "r.yaml");
  for (const auto& d : loaded.diagnostics) ADD_FAILURE() << format_diagnostic(d);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded.value->device_policy, (DevicePolicy{500, 200000, 300000, 2000, 10}));
}

TEST(RigConfigLoader, DevicePolicyPastTheFirmwaresLimitsIsRefusedWithItsPlace) {
  EXPECT_EQ(testing::only_diagnostic(parse_rig_config(rig_yaml(", max_open_us: 900000", ""), "r.yaml")),
            "r.yaml:2:34: device.max_open_us: expected microseconds per pulse in [1, 500000], got 900000");
  EXPECT_EQ(testing::only_diagnostic(parse_rig_config(rig_yaml(", heartbeat_timeout_ms: 5", ""), "r.yaml")),
            "r.yaml:2:43: device.heartbeat_timeout_ms: expected milliseconds in [20, 2000], got 5");
  EXPECT_EQ(testing::only_diagnostic(parse_rig_config(rig_yaml("", ", samples_per_batch: 21"), "r.yaml")),
            "r.yaml:3:68: wheel.samples_per_batch: expected samples in [1, 20], got 21");
}

TEST(RigConfigLoader, DegreesBecomeTicksOfTheDecodedEncoder) {
  EXPECT_EQ(degrees_to_ticks(30.0, 1024), 85);   // 85.33
  EXPECT_EQ(degrees_to_ticks(360.0, 1024), 1024);
  EXPECT_EQ(degrees_to_ticks(0.1, 1024), 0);     // too fine for this encoder
}

TEST(SubjectsLoader, ExampleSubjectsLoadWithTheirAgents) {
  const auto loaded = load_subjects_file(source_path("config/subjects.yaml"));
  for (const auto& d : loaded.diagnostics) ADD_FAILURE() << format_diagnostic(d);
  ASSERT_TRUE(loaded.ok());
  const auto& list = *loaded.value;
  ASSERT_EQ(list.subjects.size(), 3u);
  const Subject* first = list.find("SIM001");
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->controllable, wire::Valve::kCherry);
  EXPECT_EQ(first->distractor(), wire::Valve::kGrape);
  EXPECT_EQ(first->daily_water_max_ml, 1.5);
  EXPECT_EQ(first->simulated_agent, (AgentSpec{AgentSpec::Kind::kPreset, "mixed"}));
  EXPECT_EQ(list.find("SIM002")->controllable, wire::Valve::kGrape);
  const auto& inline_agent = list.find("SIM003")->simulated_agent;
  ASSERT_TRUE(inline_agent.has_value());
  EXPECT_EQ(inline_agent->kind, AgentSpec::Kind::kInline);
  // Stored uninterpreted, as YAML that another module parses.
  EXPECT_EQ(YAML::Load(inline_agent->text)["alpha_distractor"].as<double>(), 0.1);
  EXPECT_EQ(list.find("nobody"), nullptr);
}

TEST(SubjectsLoader, AgentGivenAsAPathIsAFileReference) {
  const auto loaded = parse_subjects(
      "subjects:\n  - {id: A, controllable: grape, stage: s.yaml, daily_water_target_ml: 1, simulated_agent: agents/a.yaml}\n",
      "s.yaml");
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded.value->subjects[0].simulated_agent, (AgentSpec{AgentSpec::Kind::kFile, "agents/a.yaml"}));
}

TEST(SubjectsLoader, WaterMaximumBelowTheTargetIsAnError) {
  const auto loaded = parse_subjects(
      "subjects:\n  - id: A\n    controllable: grape\n    stage: s.yaml\n    daily_water_target_ml: 1.0\n"
      "    daily_water_max_ml: 0.5\n",
      "s.yaml");
  EXPECT_EQ(testing::only_diagnostic(loaded),
            "s.yaml:6:25: subjects[0].daily_water_max_ml: expected at least daily_water_target_ml (1), got 0.5");
}

}  // namespace
}  // namespace rig::task
