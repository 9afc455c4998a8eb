// `rig calibrate` end to end: the built `rig` against the virtual MCU, on a temporary copy of the simulated
// rig's config, with the weights from a file.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "host/config/rig_config_file.hpp"
#include "host/task/calibration.hpp"
#include "host/task/rig_config.hpp"
#include "support/run_command.hpp"
#include "program_test_support.hpp"

namespace rig::app {
namespace {

namespace fs = std::filesystem;
using std::chrono::day;
using std::chrono::month;
using std::chrono::year;
using std::chrono::year_month_day;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

year_month_day local_today() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  return year_month_day{year(local.tm_year + 1900), month(static_cast<unsigned>(local.tm_mon + 1)),
                        day(static_cast<unsigned>(local.tm_mday))};
}

// `config` (laid out like config/rig.sim.yaml: `  cherry:` with `    calibrated_on:` and `      - ` items)
// with the cherry date replaced and its item lines replaced by `items`, written by hand as the expectation.
std::string with_cherry_lines(const std::string& config, const std::string& date, const std::vector<std::string>& items) {
  std::istringstream in(config);
  std::string out;
  std::string line;
  bool in_cherry = false;
  bool items_written = false;
  while (std::getline(in, line)) {
    const bool sibling_or_top_level = line.rfind("  ", 0) != 0 || (line.size() > 2 && line[2] != ' ');
    if (line.rfind("  cherry:", 0) == 0) {
      in_cherry = true;
    } else if (sibling_or_top_level) {
      in_cherry = false;
    }
    if (in_cherry && line.rfind("    calibrated_on: ", 0) == 0) {
      line = "    calibrated_on: " + date;
    } else if (in_cherry && line.rfind("      - ", 0) == 0) {
      if (!items_written) {
        for (const auto& item : items) out += item + "\n";
        items_written = true;
      }
      continue;
    }
    out += line + "\n";
  }
  return out;
}

using rig::testing::CommandRun;

class RigCalibrate : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = rig::testing::fresh_test_dir("rig-calibrate-test");
    original_ = read_file(fs::path(RIG_SOURCE_DIR) / "config/rig.sim.yaml");
    write_file(config(), original_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path config() const { return dir_ / "rig.yaml"; }

  // Runs `rig calibrate ARGS --config <copy>` with stdin from /dev/null.
  CommandRun calibrate(const std::string& args) const {
    const std::string command = std::string(RIG_BINARY) + " calibrate " + args + " --config '" + config().string() +
                                "' </dev/null 2>&1";
    return rig::testing::run_command(command);
  }

  fs::path weights(const std::string& text) const {
    write_file(dir_ / "weights.txt", text);
    return dir_ / "weights.txt";
  }

  fs::path dir_;
  std::string original_;
};

// 20 pulses at each default open time; volumes per pulse 0.825, 1.91, 4.015, 8.155 uL.
const std::string kWeights = "# open_us total_mg\n10000 16.5\n20000 38.2\n40000 80.3\n80000 163.1\n";

TEST_F(RigCalibrate, WritesTheMeasuredTableWithTodaysDateAndKeepsTheRestOfTheFile) {
  const auto before = local_today();
  const CommandRun run = calibrate("--valve cherry --device sim --pulses 20 --yes --weights '" + weights(kWeights).string() + "'");
  const auto after = local_today();
  ASSERT_EQ(run.exit_code, 0) << run.output;

  const auto loaded = config::load_rig_config_file(config().string());
  ASSERT_TRUE(loaded.ok()) << run.output;
  const task::CalibrationTable& cherry = loaded.value->table(wire::Valve::kCherry);
  EXPECT_TRUE(cherry.calibrated_on == before || cherry.calibrated_on == after) << task::format_date(cherry.calibrated_on);
  EXPECT_EQ(cherry.points, (std::vector<task::CalibrationPoint>{{10000, 0.825}, {20000, 1.91}, {40000, 4.015},
                                                                {80000, 8.155}}));

  // Byte for byte: only the cherry date and points changed (the points' comment and everything else stay).
  const std::string expected = with_cherry_lines(original_, task::format_date(cherry.calibrated_on),
                                                 {"      - {open_us: 10000, volume_ul: 0.825}",
                                                  "      - {open_us: 20000, volume_ul: 1.91}",
                                                  "      - {open_us: 40000, volume_ul: 4.015}",
                                                  "      - {open_us: 80000, volume_ul: 8.155}"});
  ASSERT_NE(expected, original_) << "config/rig.sim.yaml no longer has the block-style cherry table this test expects";
  EXPECT_EQ(read_file(config()), expected);
  EXPECT_NE(run.output.find("+3.1%"), std::string::npos) << "0.825 against 0.8 uL shown as a change\n" << run.output;
}

TEST_F(RigCalibrate, ADryRunMeasuresAndShowsButLeavesTheFileAlone) {
  const CommandRun run = calibrate("--valve grape --device sim --pulses 5 --dry-run --weights '" + weights(kWeights).string() + "'");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("dry run"), std::string::npos) << run.output;
  EXPECT_EQ(read_file(config()), original_);
}

TEST_F(RigCalibrate, WithoutConfirmationNothingIsWritten) {
  const CommandRun run = calibrate("--valve cherry --device sim --pulses 5 --weights '" + weights(kWeights).string() + "'");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("was not changed"), std::string::npos) << run.output;
  EXPECT_EQ(read_file(config()), original_);
}

TEST_F(RigCalibrate, BadOpenTimesAreRefusedBeforeAnyPulse) {
  const std::string w = " --device sim --yes --weights '" + weights(kWeights).string() + "'";
  for (const std::string open_us : {"0,20000", "10000,600000", "20000,10000", "10000,abc"}) {
    const CommandRun run = calibrate("--valve cherry --open-us " + open_us + w);
    EXPECT_EQ(run.exit_code, 2) << open_us << "\n" << run.output;
    EXPECT_EQ(run.output.find("pulses of"), std::string::npos) << "pulses were delivered for " << open_us;
  }
  const CommandRun above = calibrate("--valve cherry --open-us 10000,600000" + w);
  EXPECT_NE(above.output.find("open time 600000 us is above the firmware's limit of 500000 us per pulse"),
            std::string::npos)
      << above.output;
  EXPECT_EQ(read_file(config()), original_);
}

TEST_F(RigCalibrate, AnUnknownValveOrIncompleteWeightsAreInputErrors) {
  EXPECT_EQ(calibrate("--valve lemon --device sim --yes --weights '" + weights(kWeights).string() + "'").exit_code, 2);
  const CommandRun run = calibrate("--valve cherry --device sim --yes --weights '" + weights("10000 16.5\n20000 38.2\n").string() + "'");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("no weight for open time(s) 40000, 80000 us"), std::string::npos) << run.output;
  EXPECT_EQ(read_file(config()), original_);
}

TEST_F(RigCalibrate, MeasurementsThatDoNotIncreaseFailAfterThePulsesAndLeaveTheFileAlone) {
  const CommandRun run = calibrate("--valve cherry --device sim --pulses 5 --yes --weights '" +
                            weights("10000 16.5\n20000 38.2\n40000 30.0\n80000 163.1\n").string() + "'");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("not monotone"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("the rig config was not changed"), std::string::npos) << run.output;
  EXPECT_EQ(read_file(config()), original_);
}

}  // namespace
}  // namespace rig::app
