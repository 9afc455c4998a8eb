// Exports: the CSV header is the documented column list, a row carries the known values, pandas reads both
// exports, and JSON Lines keeps types and nulls.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "host/store/export.hpp"
#include "host/store/sqlite.hpp"
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
    "quiescence_restarts,result_flags,reversed_after,committed_at_unix_us,licks_cherry,licks_grape,"
    "first_lick_cherry_latency_us,first_lick_grape_latency_us,cherry_consumed,grape_consumed";

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
                       "29500,0,2.95,0,1,0,5000000000,5000600000,5000950250,5000950262,86,2,1,1,1736160000000000"
                       ",,,,,,");  // no lick sensors: the lick fields are NULL
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

// A chunk as the session hands it over: licks and sync edges of one trial, a camera run.
model::RecordingChunk recording_chunk(std::int64_t t0_us, std::uint32_t trial) {
  model::RecordingChunk chunk;
  chunk.licks = {{0, wire::Valve::kGrape, true, t0_us + 1000, trial}, {0, wire::Valve::kGrape, false, t0_us + 41000, trial}};
  chunk.sync_edges = {{0, 17, t0_us + 5000}, {0, 18, t0_us + 97321}};
  chunk.camera_runs = {{0, t0_us, 33333, 3}};
  return chunk;
}

TEST_F(Export, LicksSyncEdgesAndFramesAreStoredWithTheirTrialAndExportedByTable) {
  auto third = hand_trial(3);
  store_.commit_trial(session_id_, third.record(), third.wheel, third.state_after, recording_chunk(1'000'000, 3));
  store_.record(session_id_, recording_chunk(9'000'000, 3));
  std::vector<model::LickRecord> licks;
  store_.for_each_recording<model::LickRecord>(session_id_, [&](const model::LickRecord& r) { licks.push_back(r); });
  ASSERT_EQ(licks.size(), 4u);
  EXPECT_EQ(licks[1], (model::LickRecord{session_id_, wire::Valve::kGrape, false, 1'041'000, 3}));

  std::ostringstream sync_csv, lick_jsonl, frames_csv;
  EXPECT_EQ(export_table(store_, session_id_, ExportTable::kSync, ExportFormat::kCsv, sync_csv), 4);
  EXPECT_EQ(sync_csv.str(), "session_id,edge_index,device_us\n"
                            "1,17,1005000\n1,18,1097321\n1,17,9005000\n1,18,9097321\n");
  EXPECT_EQ(export_table(store_, session_id_, ExportTable::kLicks, ExportFormat::kJsonl, lick_jsonl), 4);
  EXPECT_EQ(lick_jsonl.str().substr(0, lick_jsonl.str().find('\n')),
            R"({"session_id":1,"spout":"grape","onset":1,"device_us":1001000,"trial_number":3})");
  EXPECT_EQ(export_table(store_, session_id_, ExportTable::kFrames, ExportFormat::kCsv, frames_csv), 6);
  EXPECT_EQ(frames_csv.str(), "session_id,run,frame_index,device_us\n"
                              "1,1,0,1000000\n1,1,1,1033333\n1,1,2,1066666\n"
                              "1,2,0,9000000\n1,2,1,9033333\n1,2,2,9066666\n");

  // A failed commit leaves none of its recording behind.
  connection_of(store_).exec(
      "CREATE TEMP TRIGGER fail_state BEFORE UPDATE ON session_states BEGIN SELECT RAISE(ABORT, 'injected'); END",
      "inject");
  auto fourth = hand_trial(4);
  EXPECT_THROW(store_.commit_trial(session_id_, fourth.record(), fourth.wheel, fourth.state_after,
                                   recording_chunk(20'000'000, 4)),
               StoreError);
  std::ostringstream again;
  EXPECT_EQ(export_table(store_, session_id_, ExportTable::kSync, ExportFormat::kCsv, again), 4);
}

TEST_F(Export, TableNamesAreTheCommandsChoices) {
  EXPECT_EQ(export_table_from_name("trials"), ExportTable::kTrials);
  EXPECT_EQ(export_table_from_name("wheel"), ExportTable::kWheel);
  EXPECT_EQ(export_table_from_name("licks"), ExportTable::kLicks);
  EXPECT_EQ(export_table_from_name("sync"), ExportTable::kSync);
  EXPECT_EQ(export_table_from_name("frames"), ExportTable::kFrames);
  EXPECT_FALSE(export_table_from_name("spikes"));
}

TEST_F(Export, FormatNamesAreCsvAndJsonl) {
  EXPECT_EQ(export_format_from_name("csv"), ExportFormat::kCsv);
  EXPECT_EQ(export_format_from_name("jsonl"), ExportFormat::kJsonl);
  EXPECT_FALSE(export_format_from_name("xlsx"));
}

}  // namespace
}  // namespace rig::store
