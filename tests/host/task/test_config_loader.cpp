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

TEST(RigConfigLoader, TheLabSectionIsOptionalWithDefaultIntervalAndTimeout) {
  const auto none = parse_rig_config(rig_yaml("", ""), "r.yaml");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none.value->lab, LabSettings{});
  EXPECT_TRUE(none.value->lab.url.empty()) << "no lab: nothing is pushed";
  const auto set = parse_rig_config(rig_yaml("", "") + "lab: {url: 'service=lab', push_interval_s: 5, timeout_s: 10}\n", "r.yaml");
  for (const auto& d : set.diagnostics) ADD_FAILURE() << format_diagnostic(d);
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set.value->lab, (LabSettings{"service=lab", 5.0, 10.0}));
  const auto defaults = parse_rig_config(rig_yaml("", "") + "lab: {url: 'service=lab'}\n", "r.yaml");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults.value->lab, (LabSettings{"service=lab", 1.0, 30.0}));
}

TEST(RigConfigLoader, ALabTimeoutOutOfRangeOrAnUnknownLabFieldIsRefusedWithItsPlace) {
  EXPECT_EQ(testing::only_diagnostic(parse_rig_config(rig_yaml("", "") + "lab: {url: x, timeout_s: 0.5}\n", "r.yaml")),
            "r.yaml:8:26: lab.timeout_s: expected seconds in [1, 3600], got 0.5");
  EXPECT_NE(testing::only_diagnostic(parse_rig_config(rig_yaml("", "") + "lab: {url: x, timeout: 5}\n", "r.yaml")).find("lab.timeout"),
            std::string::npos);
}

TEST(RigConfigLoader, RecordingDefaultsAreSyncOnCameraAndLicksOff) {
  const auto loaded = parse_rig_config(rig_yaml("", ""), "r.yaml");
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded.value->sync, SyncSettings{});
  EXPECT_TRUE(loaded.value->sync.enabled);
  EXPECT_EQ(loaded.value->sync.min_interval_us, 50000u);
  EXPECT_FALSE(loaded.value->camera.enabled);
  EXPECT_FALSE(loaded.value->licks.enabled);
  const auto sim = load_rig_config_file(source_path("config/rig.sim.yaml"));
  ASSERT_TRUE(sim.ok());
  EXPECT_TRUE(sim.value->licks.enabled);
  EXPECT_EQ(sim.value->licks.consumed_window_us, 1000000u);
}

TEST(RigConfigLoader, RecordingSettingsAreReadInMilliseconds) {
  const auto loaded = parse_rig_config(
      rig_yaml("", "") +
          "sync: {enabled: true, pin: 6, min_interval_ms: 20, max_interval_ms: 80.5, width_ms: 2}\n"
          "camera: {enabled: true, rate_hz: 120, width_ms: 0.5}\n"
          "licks: {enabled: true, pins: {cherry: 49, grape: 48}, debounce_ms: 1.5, consumed_window_ms: 2000}\n",
      "r.yaml");
  for (const auto& d : loaded.diagnostics) ADD_FAILURE() << format_diagnostic(d);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded.value->sync, (SyncSettings{true, 6, 20000, 80500, 2000}));
  EXPECT_EQ(loaded.value->camera, (CameraSettings{true, wire::kPinCamera, 120.0, 500}));
  EXPECT_EQ(loaded.value->licks, (LickSettings{true, {49, 48}, 1500, 2000000}));
}

// Each broken recording section (appended to a valid rig config) and the one diagnostic it must give.
struct BrokenRecording {
  const char* yaml;
  const char* diagnostic;
};

TEST(RigConfigLoader, RecordingPinsThatCollideOrThatTheFirmwareCannotDriveAreRefusedWithTheirPlace) {
  const BrokenRecording cases[] = {
      {"sync: {pin: 11}",
       "r.yaml:8:13: sync.pin: pin 11 is the cherry valve's; the sync output is on pin 6 (Timer4's compare unit A)"},
      {"licks: {pins: {cherry: 2}}",
       "r.yaml:8:24: licks.pins.cherry: pin 2 is the encoder channel A's; the cherry lick input is on pin 49 "
       "(Timer4's input capture)"},
      {"camera: {pin: 13}",
       "r.yaml:8:15: camera.pin: pin 13 is the go cue's; the camera trigger is on pin 46 (Timer5's compare unit A)"},
      {"sync: {pin: 5}",
       "r.yaml:8:13: sync.pin: the firmware times the sync output with Timer4's compare unit A, on pin 6; it cannot "
       "use pin 5"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(testing::only_diagnostic(parse_rig_config(rig_yaml("", "") + c.yaml + "\n", "r.yaml")), c.diagnostic);
  }
}

TEST(RigConfigLoader, RecordingIntervalsThatCannotBeMadeAreRefused) {
  const BrokenRecording cases[] = {
      {"sync: {min_interval_ms: 200, max_interval_ms: 100}",
       "r.yaml:8:47: sync.max_interval_ms: the longest interval (100 ms) is shorter than the shortest (200 ms)"},
      {"sync: {min_interval_ms: 10, width_ms: 10}",
       "r.yaml:8:39: sync.width_ms: a pulse of 10 ms must end at least 0.5 ms before the next (shortest interval "
       "10 ms)"},
      {"camera: {rate_hz: 500}", "r.yaml:8:19: camera.rate_hz: expected frames per second in [1, 200], got 500"},
      {"camera: {rate_hz: 200, width_ms: 5}",
       "r.yaml:8:34: camera.width_ms: a trigger of 5 ms does not fit a frame period of 5 ms (with 0.5 ms low)"},
      {"licks: {enabled: yes}", "r.yaml:8:18: licks.enabled: expected true or false, got yes"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(testing::only_diagnostic(parse_rig_config(rig_yaml("", "") + c.yaml + "\n", "r.yaml")), c.diagnostic);
  }
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
  EXPECT_EQ(YAML::Load(inline_agent->text)["learning_rate_distractor"].as<double>(), 0.1);
  EXPECT_EQ(list.find("nobody"), nullptr);
}

TEST(SubjectsLoader, SexDateOfBirthStrainAndGenotypeAreOptionalAndChecked) {
  const auto loaded = parse_subjects(
      "subjects:\n  - {id: A, controllable: grape, stage: s.yaml, daily_water_target_ml: 1, sex: M, "
      "date_of_birth: 2025-03-02, strain: C57BL/6J, genotype: wild type}\n"
      "  - {id: B, controllable: grape, stage: s.yaml, daily_water_target_ml: 1}\n",
      "s.yaml");
  for (const auto& d : loaded.diagnostics) ADD_FAILURE() << format_diagnostic(d);
  ASSERT_TRUE(loaded.ok());
  const auto& a = loaded.value->subjects[0];
  EXPECT_EQ(a.sex, Sex::kMale);
  EXPECT_EQ(a.date_of_birth, std::chrono::year_month_day(std::chrono::year(2025), std::chrono::March, std::chrono::day(2)));
  EXPECT_EQ(a.strain, "C57BL/6J");
  EXPECT_EQ(a.genotype, "wild type");
  const auto& b = loaded.value->subjects[1];
  EXPECT_EQ(b.sex, Sex::kUnknown);
  EXPECT_FALSE(b.date_of_birth.has_value());
  EXPECT_EQ(b.strain, "");

  const auto bad_sex = parse_subjects(
      "subjects:\n  - {id: A, controllable: grape, stage: s.yaml, daily_water_target_ml: 1, sex: female}\n", "s.yaml");
  EXPECT_NE(testing::only_diagnostic(bad_sex).find("s.yaml:2:"), std::string::npos) << testing::only_diagnostic(bad_sex);
  EXPECT_NE(testing::only_diagnostic(bad_sex).find("subjects[0].sex"), std::string::npos) << testing::only_diagnostic(bad_sex);
  const auto bad_date = parse_subjects(
      "subjects:\n  - {id: A, controllable: grape, stage: s.yaml, daily_water_target_ml: 1, date_of_birth: 2025-13-01}\n",
      "s.yaml");
  EXPECT_NE(testing::only_diagnostic(bad_date).find("subjects[0].date_of_birth: expected a date YYYY-MM-DD, got 2025-13-01"),
            std::string::npos)
      << testing::only_diagnostic(bad_date);
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
