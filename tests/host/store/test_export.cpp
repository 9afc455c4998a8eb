// Exports: the CSV header is the documented column list, a row carries the known values, pandas reads both
// exports, and JSON Lines keeps types and nulls.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "host/store/export.hpp"
#include "store_test_support.hpp"

namespace rig::store {
namespace {

using testing::commit;
using testing::hand_trial;

// docs/data-format.md, "Trial export columns", in order.
constexpr const char* kTrialHeader =
    "session_id,trial_number,subject_id,block_index,high_side,p_controllable_left,p_controllable_right,p_distractor,"
    "free_choice,instructed_side,controllable_drawn_left,controllable_drawn_right,distractor_drawn,"
    "controllable_flavour,distractor_flavour,planned_left_cherry_ul,planned_left_grape_ul,planned_right_cherry_ul,"
    "planned_right_grape_ul,planned_left_cherry_open_us,planned_left_grape_open_us,planned_right_cherry_open_us,"
    "planned_right_grape_open_us,planned_at_us,outcome,choice,chose_high,reaction_time_us,delivered_cherry_open_us,"
    "delivered_grape_open_us,delivered_cherry_ul,delivered_grape_ul,controllable_delivered,distractor_delivered,"
    "armed_device_us,go_cue_device_us,choice_device_us,valve_open_device_us,position_at_choice_ticks,"
    "quiescence_restarts,result_flags,reversed_after,committed_at_unix_us";

class Export : public ::testing::Test {
 protected:
  void SetUp() override {
    session_id_ = store_.begin_session(testing::session_start("M1", 5, {}));
    commit(store_, session_id_, hand_trial(1));
    auto miss = hand_trial(2);
    miss.result.outcome = static_cast<std::uint8_t>(wire::TrialOutcome::kMiss);
    miss.update.choice.reset();
    miss.times.choice_us = -1;
    miss.times.valve_open_us = -1;
    commit(store_, session_id_, miss);
  }

  std::string write(const std::string& name, const std::string& text) {
    const auto path = dir_.file(name);
    std::ofstream(path) << text;
    return path;
  }

  testing::TempDir dir_;
  Store store_ = Store::open(dir_.file("rig.sqlite"), OpenOptions::with_clock([] { return std::int64_t{1'736'160'000'000'000}; }));
  std::int64_t session_id_ = 0;
};

TEST_F(Export, CsvHasTheDocumentedHeaderAndKnownValues) {
  std::ostringstream out;
  EXPECT_EQ(export_trials(store_, session_id_, ExportFormat::kCsv, out), 2);
  std::istringstream lines(out.str());
  std::string header, first, second;
  std::getline(lines, header);
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_EQ(header, kTrialHeader);
  EXPECT_EQ(first, std::to_string(session_id_) +
                       ",1,M1,3,L,0.8,0.2,0.5,0,R,0,1,0,cherry,grape,0,0,3,0,0,0,29524,0,123456789,right,R,0,350250,"
                       "29500,0,2.95,0,1,0,5000000000,5000600000,5000950250,5000950262,86,2,1,1,1736160000000000");
  // A miss: empty choice, reaction time and device times.
  EXPECT_NE(second.find(",miss,,0,,"), std::string::npos) << second;
}

TEST_F(Export, PandasReadsTheTrialCsvWithTypes) {
  std::ostringstream out;
  export_trials(store_, session_id_, ExportFormat::kCsv, out);
  const auto path = write("trials.csv", out.str());
  const std::string script =
      "import pandas as pd; d = pd.read_csv('" + path + "'); "
      "assert len(d) == 2, len(d); "
      "assert d.loc[0, 'reaction_time_us'] == 350250; "
      "assert pd.isna(d.loc[1, 'reaction_time_us']); "
      "assert d.loc[0, 'p_controllable_left'] == 0.8; "
      "assert d.loc[0, 'choice'] == 'R' and pd.isna(d.loc[1, 'choice']); "
      "assert d['trial_number'].tolist() == [1, 2]";
  EXPECT_EQ(std::system(("/usr/bin/python3 -c \"" + script + "\"").c_str()), 0);
}

TEST_F(Export, WheelCsvIsOneRowPerSampleAndPandasReadsIt) {
  std::ostringstream out;
  EXPECT_EQ(export_wheel(store_, session_id_, ExportFormat::kCsv, out), 80);
  std::istringstream lines(out.str());
  std::string header, first;
  std::getline(lines, header);
  std::getline(lines, first);
  EXPECT_EQ(header, "session_id,trial_number,t_us,position_ticks");
  EXPECT_EQ(first, std::to_string(session_id_) + ",1,4999000000,0");
  const auto path = write("wheel.csv", out.str());
  const std::string script = "import pandas as pd; d = pd.read_csv('" + path +
                             "'); assert len(d) == 80; assert d['position_ticks'].iloc[39] == 57; "
                             "assert d['t_us'].iloc[39] == 4999039000";
  EXPECT_EQ(std::system(("/usr/bin/python3 -c \"" + script + "\"").c_str()), 0);
}

TEST_F(Export, JsonLinesKeepTypesAndNulls) {
  std::ostringstream out;
  export_trials(store_, session_id_, ExportFormat::kJsonl, out);
  std::istringstream lines(out.str());
  std::string first, second;
  std::getline(lines, first);
  std::getline(lines, second);
  const auto a = nlohmann::json::parse(first);
  const auto b = nlohmann::json::parse(second);
  EXPECT_EQ(a["trial_number"], 1);
  EXPECT_EQ(a["p_controllable_left"], 0.8);
  EXPECT_EQ(a["choice"], "R");
  EXPECT_EQ(a["instructed_side"], "R");
  EXPECT_TRUE(b["choice"].is_null());
  EXPECT_TRUE(b["reaction_time_us"].is_null());
  std::ostringstream wheel;
  export_wheel(store_, session_id_, ExportFormat::kJsonl, wheel);
  std::istringstream wheel_lines(wheel.str());
  std::string sample;
  std::getline(wheel_lines, sample);
  EXPECT_EQ(nlohmann::json::parse(sample)["t_us"], 4'999'000'000);
}

TEST_F(Export, FormatNamesAreCsvAndJsonl) {
  EXPECT_EQ(export_format_from_name("csv"), ExportFormat::kCsv);
  EXPECT_EQ(export_format_from_name("jsonl"), ExportFormat::kJsonl);
  EXPECT_FALSE(export_format_from_name("xlsx"));
}

}  // namespace
}  // namespace rig::store
