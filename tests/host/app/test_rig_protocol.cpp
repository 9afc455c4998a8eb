// `rig protocol diff A B` end to end (issue 22): the built `rig` on the shipped protocols and a broken one.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

#include "program_test_support.hpp"
#include "support/run_command.hpp"

namespace rig::app {
namespace {

std::string shipped(const std::string& name) { return std::string(RIG_SOURCE_DIR) + "/protocols/" + name + ".yaml"; }

rig::testing::CommandRun diff(const std::string& arguments) {
  return rig::testing::run_command(std::string(RIG_BINARY) + " protocol diff " + arguments + " 2>&1");
}

TEST(RigProtocolDiff, ShowsOnlyTheSettingsThatDifferSideBySideAndExitsOne) {
  const auto run = diff(shipped("distractor") + " " + shipped("controllable-only"));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_EQ(run.output.rfind("setting ", 0), 0u) << "a header first:\n" << run.output;
  EXPECT_NE(run.output.find(shipped("distractor")), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("\nname "), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("schedule.distractor.p "), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("trial.iti_ms"), std::string::npos) << "an equal setting is not listed:\n" << run.output;
  EXPECT_NE(run.output.find("differ (defaults filled in"), std::string::npos) << run.output;
}

TEST(RigProtocolDiff, TheSameProtocolTwiceExitsZero) {
  const auto run = diff(shipped("habituation") + " " + shipped("habituation"));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("do the same: every effective setting is equal"), std::string::npos) << run.output;
}

TEST(RigProtocolDiff, JsonListsEachDifferenceWithNullForAnAbsentSetting) {
  const auto run = rig::testing::run_command(std::string(RIG_BINARY) + " protocol diff --json " +
                                             shipped("distractor") + " " + shipped("habituation"));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  const auto json = nlohmann::json::parse(run.output);
  EXPECT_EQ(json["same"], false);
  ASSERT_FALSE(json["differences"].empty());
  bool name_listed = false;
  for (const auto& d : json["differences"]) {
    EXPECT_TRUE(d["setting"].is_string());
    EXPECT_NE(d["a"], d["b"]) << d.dump();
    if (d["setting"] == "name") name_listed = d["a"] == "distractor" && d["b"] == "habituation";
  }
  EXPECT_TRUE(name_listed) << json.dump(2);
}

TEST(RigProtocolDiff, AnInvalidFileExitsTwoWithItsLocatedDiagnostics) {
  rig::testing::TempDir dir("rig-protocol-diff");
  const auto broken = (dir.path / "broken.yaml").string();
  std::ofstream(broken) << "name: x\ntrial:\n  iti_ms: -5\n";
  const auto run = diff(shipped("distractor") + " " + broken);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find(broken + ":3:"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("trial.iti_ms"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace rig::app
