// Every file under broken/ is invalid in a known way; broken/NAME.expected holds the exact diagnostics,
// one `FILE:LINE:COL: message` line each, with FILE relative to this folder. Each file is checked through the
// loader API and through the built `rig check` executable (exit code 2, nothing on stdout about it being ok).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "host/config/check.hpp"
#include "support/run_command.hpp"

namespace rig::task {
using config::check_files;
namespace {

namespace fs = std::filesystem;

constexpr const char* kRigConfig = "rig.test.yaml";  // relative to RIG_TASK_TEST_DIR, like the corpus paths

std::vector<std::string> broken_files() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(fs::path(RIG_TASK_TEST_DIR) / "broken")) {
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs `command` through the shell; returns its exit code and its standard output.
std::pair<int, std::string> run(const std::string& command) {
  auto r = rig::testing::run_command(command);
  return {r.exit_code, std::move(r.output)};
}

// Paths in the corpus and its expectations are relative to the test folder.
class BrokenCorpus : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    previous_ = fs::current_path();
    fs::current_path(RIG_TASK_TEST_DIR);
    file_ = "broken/" + GetParam() + ".yaml";
    ASSERT_TRUE(fs::exists("broken/" + GetParam() + ".expected")) << "missing expectation for " << file_;
    expected_ = read_file("broken/" + GetParam() + ".expected");
    ASSERT_FALSE(expected_.empty());
  }
  void TearDown() override { fs::current_path(previous_); }

  fs::path previous_;
  std::string file_;
  std::string expected_;
};

TEST_P(BrokenCorpus, LoaderReportsTheExpectedFileLineColumnMessages) {
  const auto report = check_files({file_}, std::string(kRigConfig));
  EXPECT_FALSE(report.ok());
  ASSERT_EQ(report.files.size(), 1u);
  EXPECT_FALSE(report.files[0].ok);
  std::string actual;
  for (const auto& d : report.diagnostics) actual += format_diagnostic(d) + "\n";
  EXPECT_EQ(actual, expected_);
}

TEST_P(BrokenCorpus, RigCheckExitsWithTwoAndPrintsTheSameMessages) {
  const auto [code, stderr_text] =
      run("cd '" RIG_TASK_TEST_DIR "' && '" RIG_EXECUTABLE "' check --rig " + std::string(kRigConfig) + " " + file_ +
          " 2>&1 >/dev/null");
  EXPECT_EQ(code, 2);
  EXPECT_EQ(stderr_text, expected_);
}

INSTANTIATE_TEST_SUITE_P(Files, BrokenCorpus, ::testing::ValuesIn(broken_files()),
                         [](const auto& info) { return info.param; });

TEST(BrokenCorpusSize, HoldsAtLeastThirtyFilesEachWithAnExpectation) {
  const auto names = broken_files();
  EXPECT_GE(names.size(), 30u);
  for (const auto& name : names) {
    EXPECT_TRUE(fs::exists(fs::path(RIG_TASK_TEST_DIR) / "broken" / (name + ".expected"))) << name;
  }
}

TEST(RigCheck, ValidFilesExitZeroAndSayOk) {
  const auto [code, stdout_text] = run("cd '" RIG_SOURCE_DIR "' && '" RIG_EXECUTABLE
                                       "' check protocols/distractor.yaml config/rig.sim.yaml 2>&1");
  EXPECT_EQ(code, 0);
  EXPECT_EQ(stdout_text, "protocols/distractor.yaml: ok (protocol)\nconfig/rig.sim.yaml: ok (rig config)\n");
}

TEST(RigCheck, ASubjectsSimulatedAgentIsCheckedAsRigRunWillBuildIt) {
  const fs::path dir = fs::temp_directory_path() / ("rig_check_agents_" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "stage.yaml") << "name: stage\n";
  std::ofstream(dir / "agent.yaml") << "preset: mixed\ninverse_temperature: -1\n";
  std::ofstream(dir / "subjects.yaml")
      << "subjects:\n"
         "  - id: A\n    controllable: cherry\n    stage: stage.yaml\n    daily_water_target_ml: 1\n"
         "    simulated_agent:\n      kind: q_learning\n      beta: 3\n"
         "  - id: B\n    controllable: grape\n    stage: stage.yaml\n    daily_water_target_ml: 1\n"
         "    simulated_agent: agent.yaml\n"
         "  - id: C\n    controllable: grape\n    stage: stage.yaml\n    daily_water_target_ml: 1\n"
         "    simulated_agent: {learning_rate_distractor: 0.1}\n";
  const auto [code, output] = run("cd '" + dir.string() + "' && '" RIG_EXECUTABLE "' check subjects.yaml 2>&1");
  fs::remove_all(dir);
  EXPECT_EQ(code, 2) << output;
  EXPECT_NE(output.find("subjects.yaml:7:7: subjects[0].simulated_agent: kind: unknown field"), std::string::npos)
      << output;
  EXPECT_NE(output.find("subjects.yaml:13:22: subjects[1].simulated_agent: "), std::string::npos) << output;
  EXPECT_NE(output.find("agent.yaml:2:22: inverse_temperature: expected a number >= 0, got -1"), std::string::npos)
      << output;
  EXPECT_EQ(output.find("subjects[2]"), std::string::npos) << "subject C's agent is valid: " << output;
}

TEST(RigCheck, EffectivePrintsTheDefaultsOfAMinimalProtocol) {
  const fs::path file = fs::temp_directory_path() / ("rig_check_minimal_" + std::to_string(getpid()) + ".yaml");
  std::ofstream(file) << "name: minimal\n";
  const auto [code, stdout_text] = run("'" RIG_EXECUTABLE "' check --effective '" + file.string() + "' 2>&1");
  fs::remove(file);
  EXPECT_EQ(code, 0);
  EXPECT_NE(stdout_text.find("  free_choice_fraction: 0.8\n"), std::string::npos) << stdout_text;
  EXPECT_NE(stdout_text.find("    p_high: 0.8\n    p_low: 0.2\n"), std::string::npos) << stdout_text;
  EXPECT_NE(stdout_text.find("    window_free_trials: 50\n"), std::string::npos) << stdout_text;
}

TEST(RigCheck, EffectiveOfABrokenProtocolExitsTwo) {
  const auto [code, output] =
      run("cd '" RIG_TASK_TEST_DIR "' && '" RIG_EXECUTABLE "' check --effective broken/iti_negative.yaml 2>&1");
  EXPECT_EQ(code, 2);
  EXPECT_EQ(output, "broken/iti_negative.yaml:3:11: trial.iti_ms: expected a duration in ms from 0 to 4294967, got -100\n");
}

}  // namespace
}  // namespace rig::task
