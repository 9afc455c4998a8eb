#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "host/config/rig_config_file.hpp"
#include "host/config/calibration_yaml.hpp"
#include "host/task/rig_config.hpp"
#include "task_test_support.hpp"

namespace rig::task {
using config::CalibrationYamlError;
using config::format_valve_calibration;
using config::parse_rig_config;
using config::replace_valve_calibration;
namespace {

using std::chrono::day;
using std::chrono::month;
using std::chrono::year;
using std::chrono::year_month_day;

const CalibrationTable kNewTable{year_month_day{year(2025), month(6), day(10)},
                                 {{10000, 0.85}, {20000, 1.95}, {40000, 4.125}}};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// The config as the loader reads it, failing the test on diagnostics.
RigConfig loaded(const std::string& text) {
  auto config = parse_rig_config(text, "rewritten.yaml");
  for (const auto& d : config.diagnostics) ADD_FAILURE() << format_diagnostic(d);
  return config.ok() ? *config.value : RigConfig{};
}

// A minimal valid rig config whose cherry entry is `cherry_block` (indented under `valves:`).
std::string config_with_cherry(const std::string& cherry_block) {
  return "rig: {id: t}\n"
         "device: {kind: sim}\n"
         "wheel: {ticks_per_rev: 1024, threshold_deg: 30}\n"
         "cues: {go: 0}\n"
         "valves:\n" +
         cherry_block +
         "  grape:   # the other flavour\n"
         "    calibrated_on: 2025-01-06\n"
         "    points:\n"
         "      - {open_us: 10000, volume_ul: 0.7}\n"
         "      - {open_us: 20000, volume_ul: 1.8}\n"
         "calibration_max_age_days: 30\n";
}

TEST(CalibrationYaml, TheShippedSimConfigChangesOnlyInTheCherryDateAndPoints) {
  const std::string original = read_file(testing::source_path("config/rig.sim.yaml"));
  const std::string rewritten = replace_valve_calibration(original, wire::Valve::kCherry, kNewTable);

  const std::string old_points =
      "      - {open_us: 10000, volume_ul: 0.8}\n"
      "      - {open_us: 20000, volume_ul: 1.9}\n"
      "      - {open_us: 40000, volume_ul: 4.0}\n"
      "      - {open_us: 60000, volume_ul: 6.1}\n"
      "      - {open_us: 80000, volume_ul: 8.2}\n";
  const std::string new_points =
      "      - {open_us: 10000, volume_ul: 0.85}\n"
      "      - {open_us: 20000, volume_ul: 1.95}\n"
      "      - {open_us: 40000, volume_ul: 4.125}\n";
  std::string expected = original;
  const std::size_t cherry = expected.find("  cherry:\n");
  ASSERT_NE(cherry, std::string::npos);
  expected.replace(expected.find("calibrated_on: 2025-01-06", cherry), 25, "calibrated_on: 2025-06-10");
  expected.replace(expected.find(old_points, cherry), old_points.size(), new_points);
  EXPECT_EQ(rewritten, expected);

  const RigConfig config = loaded(rewritten);
  EXPECT_EQ(config.table(wire::Valve::kCherry), kNewTable);
  EXPECT_EQ(config.table(wire::Valve::kGrape), loaded(original).table(wire::Valve::kGrape));
}

TEST(CalibrationYaml, TheGrapeTableIsFoundAfterTheCherryOne) {
  const std::string original = read_file(testing::source_path("config/rig.sim.yaml"));
  const std::string rewritten = replace_valve_calibration(original, wire::Valve::kGrape, kNewTable);
  const RigConfig config = loaded(rewritten);
  EXPECT_EQ(config.table(wire::Valve::kGrape), kNewTable);
  EXPECT_EQ(config.table(wire::Valve::kCherry), loaded(original).table(wire::Valve::kCherry));
  // Everything before the grape block is untouched, and so is everything after its last point.
  const std::string tail = "\ncalibration_max_age_days:";
  ASSERT_NE(original.find(tail), std::string::npos);
  EXPECT_EQ(rewritten.substr(0, original.find("  grape:")), original.substr(0, original.find("  grape:")));
  EXPECT_EQ(rewritten.substr(rewritten.find(tail)), original.substr(original.find(tail)));
}

TEST(CalibrationYaml, BlockStylePointsStayBlockStyleWithTheirIndentation) {
  const std::string original = config_with_cherry(
      "  cherry:\n"
      "    calibrated_on: 2025-01-06\n"
      "    points:\n"
      "    -   open_us: 10000\n"
      "        volume_ul: 0.8\n"
      "    -   open_us: 20000\n"
      "        volume_ul: 1.9\n");
  const std::string rewritten = replace_valve_calibration(original, wire::Valve::kCherry, kNewTable);
  EXPECT_EQ(rewritten, config_with_cherry("  cherry:\n"
                                          "    calibrated_on: 2025-06-10\n"
                                          "    points:\n"
                                          "    -   open_us: 10000\n"
                                          "        volume_ul: 0.85\n"
                                          "    -   open_us: 20000\n"
                                          "        volume_ul: 1.95\n"
                                          "    -   open_us: 40000\n"
                                          "        volume_ul: 4.125\n"));
}

TEST(CalibrationYaml, CommentsOnTheRewrittenLinesAndAroundTheBlockAreKept) {
  const std::string original = config_with_cherry(
      "  # cherry: measured with the 0.1 mg scale\n"
      "  cherry:  # left valve\n"
      "    calibrated_on: \"2025-01-06\"   # last time\n"
      "    points:  # open_us: volume_ul\n"
      "      - {open_us: 10000, volume_ul: 0.8}  # first\n"
      "      # - {open_us: 15000, volume_ul: 1.2}\n"
      "      - {open_us: 20000, volume_ul: 1.9}  # last\n"
      "\n"
      "  # grape: next\n");
  const std::string rewritten = replace_valve_calibration(original, wire::Valve::kCherry, kNewTable);
  EXPECT_EQ(rewritten, config_with_cherry("  # cherry: measured with the 0.1 mg scale\n"
                                          "  cherry:  # left valve\n"
                                          "    calibrated_on: 2025-06-10   # last time\n"
                                          "    points:  # open_us: volume_ul\n"
                                          "      - {open_us: 10000, volume_ul: 0.85}\n"
                                          "      - {open_us: 20000, volume_ul: 1.95}\n"
                                          "      - {open_us: 40000, volume_ul: 4.125}\n"
                                          "\n"
                                          "  # grape: next\n"));
}

TEST(CalibrationYaml, AListAtTheSameIndentationAsItsKeyEndsAtTheNextKey) {
  const std::string original = config_with_cherry(
      "  cherry:\n"
      "    points:\n"
      "    - {open_us: 10000, volume_ul: 0.8}\n"
      "    - {open_us: 20000, volume_ul: 1.9}\n"
      "    calibrated_on: 2025-01-06\n");
  const std::string rewritten = replace_valve_calibration(original, wire::Valve::kCherry, kNewTable);
  EXPECT_EQ(rewritten, config_with_cherry("  cherry:\n"
                                          "    points:\n"
                                          "    - {open_us: 10000, volume_ul: 0.85}\n"
                                          "    - {open_us: 20000, volume_ul: 1.95}\n"
                                          "    - {open_us: 40000, volume_ul: 4.125}\n"
                                          "    calibrated_on: 2025-06-10\n"));
}

TEST(CalibrationYaml, AFlowListIsRewrittenOnOneLine) {
  const std::string original = config_with_cherry(
      "  cherry:\n"
      "    calibrated_on: 2025-01-06\n"
      "    points: [{open_us: 10000, volume_ul: 0.8},   # first\n"
      "             {open_us: 20000, volume_ul: 1.9}]  # kept\n");
  const std::string rewritten = replace_valve_calibration(original, wire::Valve::kCherry, kNewTable);
  EXPECT_EQ(rewritten, config_with_cherry("  cherry:\n"
                                          "    calibrated_on: 2025-06-10\n"
                                          "    points: [{open_us: 10000, volume_ul: 0.85}, {open_us: 20000, "
                                          "volume_ul: 1.95}, {open_us: 40000, volume_ul: 4.125}]  # kept\n"));
}

TEST(CalibrationYaml, AFlowMappingIsRewrittenAsOne) {
  const std::string original = config_with_cherry(
      "  cherry: {calibrated_on: 2025-01-06, points: [{open_us: 10000, volume_ul: 0.8}, "
      "{open_us: 20000, volume_ul: 1.9}]}  # compact\n");
  const std::string rewritten = replace_valve_calibration(original, wire::Valve::kCherry, kNewTable);
  EXPECT_EQ(rewritten, config_with_cherry("  cherry: {calibrated_on: 2025-06-10, points: [{open_us: 10000, "
                                          "volume_ul: 0.85}, {open_us: 20000, volume_ul: 1.95}, {open_us: 40000, "
                                          "volume_ul: 4.125}]}  # compact\n"));
}

TEST(CalibrationYaml, AValveInsideAFlowValvesMappingIsFound) {
  const std::string original =
      "rig: {id: t}\ndevice: {kind: sim}\nwheel: {ticks_per_rev: 1024, threshold_deg: 30}\ncues: {go: 0}\n"
      "valves: {grape: {calibrated_on: 2025-01-06, points: [{open_us: 1, volume_ul: 0.1}, {open_us: 2, volume_ul: 0.2}]},\n"
      "         cherry: {calibrated_on: 2025-01-06, points: [{open_us: 1, volume_ul: 0.1}, {open_us: 2, volume_ul: 0.2}]}}\n";
  const std::string rewritten = replace_valve_calibration(original, wire::Valve::kCherry, kNewTable);
  EXPECT_EQ(loaded(rewritten).table(wire::Valve::kCherry), kNewTable);
  EXPECT_EQ(loaded(rewritten).table(wire::Valve::kGrape), loaded(original).table(wire::Valve::kGrape));
}

TEST(CalibrationYaml, WindowsLineEndingsAreKeptInTheNewLines) {
  const std::string original = replace_all(read_file(testing::source_path("config/rig.sim.yaml")), "\n", "\r\n");
  const std::string rewritten = replace_valve_calibration(original, wire::Valve::kCherry, kNewTable);
  EXPECT_EQ(replace_all(rewritten, "\r\n", "").find('\n'), std::string::npos) << "a bare \\n was written";
  EXPECT_EQ(loaded(rewritten).table(wire::Valve::kCherry), kNewTable);
}

TEST(CalibrationYaml, ATableSharedThroughAnAnchorIsRefused) {
  const std::string original =
      "rig: {id: t}\ncues: {go: 0}\n"
      "valves:\n"
      "  cherry: &shared\n"
      "    calibrated_on: 2025-01-06\n"
      "    points:\n"
      "      - {open_us: 10000, volume_ul: 0.8}\n"
      "      - {open_us: 20000, volume_ul: 1.9}\n"
      "  grape: *shared\n";
  EXPECT_THROW(replace_valve_calibration(original, wire::Valve::kCherry, kNewTable), CalibrationYamlError);
}

TEST(CalibrationYaml, AMissingValveOrFieldIsAnErrorNamingIt) {
  try {
    replace_valve_calibration("rig: {id: t}\nvalves:\n  grape: {calibrated_on: 2025-01-06, points: []}\n",
                              wire::Valve::kCherry, kNewTable);
    FAIL() << "no error";
  } catch (const CalibrationYamlError& e) {
    EXPECT_STREQ(e.what(), "the rig config has no valves.cherry");
  }
  try {
    replace_valve_calibration("valves:\n  cherry:\n    points: [{open_us: 1, volume_ul: 1}]\n", wire::Valve::kCherry,
                              kNewTable);
    FAIL() << "no error";
  } catch (const CalibrationYamlError& e) {
    EXPECT_STREQ(e.what(), "valves.cherry (line 3): has no calibrated_on to rewrite");
  }
  EXPECT_THROW(replace_valve_calibration("valves: [1, 2\n", wire::Valve::kCherry, kNewTable), CalibrationYamlError);
}

TEST(CalibrationYaml, TheFormattedBlockIsWhatAnOperatorWouldPaste) {
  EXPECT_EQ(format_valve_calibration(wire::Valve::kGrape, kNewTable),
            "grape:\n"
            "  calibrated_on: 2025-06-10\n"
            "  points:\n"
            "    - {open_us: 10000, volume_ul: 0.85}\n"
            "    - {open_us: 20000, volume_ul: 1.95}\n"
            "    - {open_us: 40000, volume_ul: 4.125}\n");
}

}  // namespace
}  // namespace rig::task
