// The NWB export (label nwb): the session clock, files the NWB schema's validator accepts
// (../shared/tools/nwb-validate), read back with h5py against the CSV exports (nwb_roundtrip.py), bad input, and
// `rig export --format nwb` as a lab member runs it.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "host/store/export.hpp"
#include "host/store/nwb_export.hpp"
#include "host/store/session_clock.hpp"
#include "store_test_support.hpp"
#include "support/run_command.hpp"

namespace rig::store {
namespace {

using Run = rig::testing::CommandRun;

model::TrialRecord clock_trial(std::uint32_t number, std::int64_t planned_at_us, std::optional<std::int64_t> armed_us,
                               std::int64_t committed_at_unix_us = 0) {
  model::TrialRecord trial;
  trial.trial_number = number;
  trial.planned_at_us = planned_at_us;
  trial.armed_device_us = armed_us;
  trial.committed_at_unix_us = committed_at_unix_us;
  return trial;
}

TEST(SessionClock, PutsTheDeviceClockAtTheFirstArmedTrialsPlanningTime) {
  SessionClock::Builder builder({}, {});
  builder.add(clock_trial(1, 200'000, std::nullopt));  // lost before the device ran it
  builder.add(clock_trial(2, 3'000'000, 50'001'500));
  builder.add(clock_trial(3, 6'000'000, 53'001'700));
  const auto clock = std::move(builder).finish();
  ASSERT_EQ(clock.segment_count(), 1u);
  EXPECT_DOUBLE_EQ(clock.seconds(0, 50'001'500), 3.0);
  EXPECT_DOUBLE_EQ(clock.seconds(0, 53'001'700), 6.0002);
  EXPECT_DOUBLE_EQ(clock.engine_seconds(0, 200'000), 0.2);
}

TEST(SessionClock, ADeviceResetStartsASegmentPlacedByItsOwnFirstTrial) {
  // The reset event (engine time 7 s) falls between trials 2 and 3; the new boot's clock starts near 0.
  SessionClock::Builder builder({7'000'000}, {});
  builder.add(clock_trial(1, 1'000'000, 90'000'000));
  builder.add(clock_trial(2, 4'000'000, 93'000'000));
  builder.add(clock_trial(3, 9'000'000, 95'000'000));  // later on the device, yet a new boot
  builder.add(clock_trial(4, 12'000'000, 98'000'000));
  const auto clock = std::move(builder).finish();
  ASSERT_EQ(clock.segment_count(), 2u);
  EXPECT_EQ(clock.segment_of_trial(2), 0u);
  EXPECT_EQ(clock.segment_of_trial(3), 1u);
  EXPECT_EQ(clock.segment_of_trial(4), 1u);
  EXPECT_DOUBLE_EQ(clock.seconds(0, 93'000'000), 4.0);
  EXPECT_DOUBLE_EQ(clock.seconds(1, 95'000'000), 9.0);
  EXPECT_DOUBLE_EQ(clock.seconds(1, 98'000'000), 12.0);
}

TEST(SessionClock, ADeviceClockThatGoesBackOrAResumeStartsASegment) {
  SessionClock::Builder builder({}, {5'000});
  builder.add(clock_trial(1, 1'000'000, 40'000'000, 1'000));
  builder.add(clock_trial(2, 4'000'000, 2'000'000, 2'000));  // the device restarted: its clock went back
  builder.add(clock_trial(3, 7'000'000, 5'000'000, 6'000));  // resumed (wall 5'000) on a device that did not
  const auto clock = std::move(builder).finish();
  EXPECT_EQ(clock.segment_count(), 3u);
  EXPECT_EQ(clock.segment_of_trial(3), 2u);
}

TEST(SessionClock, AnEphysClockNeedsOneBoot) {
  SessionClock::Builder one({}, {});
  one.add(clock_trial(1, 1'000'000, 40'000'000));
  auto clock = std::move(one).finish();
  clock.use_ephys_clock([](std::int64_t device_us) { return 100.0 + static_cast<double>(device_us) / 1e6; });
  EXPECT_TRUE(clock.on_ephys_clock());
  EXPECT_DOUBLE_EQ(clock.seconds(0, 41'000'000), 141.0);

  SessionClock::Builder two({}, {});
  two.add(clock_trial(1, 1'000'000, 40'000'000));
  two.add(clock_trial(2, 4'000'000, 1'000'000));
  auto restarted = std::move(two).finish();
  EXPECT_THROW(restarted.use_ephys_clock([](std::int64_t) { return 0.0; }), std::invalid_argument);
}

TEST(SegmentTracker, ARowWhoseDeviceTimeGoesBackBelongsToTheNextBoot) {
  SessionClock::Builder builder({}, {});
  builder.add(clock_trial(1, 1'000'000, 40'000'000));
  builder.add(clock_trial(2, 4'000'000, 1'000'000));
  const auto clock = std::move(builder).finish();
  SegmentTracker tracker(clock);
  EXPECT_EQ(tracker.place(1u, 40'500'000), 0u);
  EXPECT_EQ(tracker.place(1u, 40'700'000), 0u);
  EXPECT_EQ(tracker.place(1u, 300'000), 1u);  // after the restart, before trial 2 was armed
  EXPECT_EQ(tracker.place(2u, 1'200'000), 1u);
  EXPECT_EQ(tracker.place(std::nullopt, 1'300'000), 1u);
}

TEST(NwbUnit, ComesFromTheFieldNamesSuffix) {
  EXPECT_EQ(nwb_unit_of("reaction_time_us"), "microseconds");
  EXPECT_EQ(nwb_unit_of("go_cue_device_us"), "microseconds (device clock, since the device booted)");
  EXPECT_EQ(nwb_unit_of("committed_at_unix_us"), "microseconds since the Unix epoch (UTC)");
  EXPECT_EQ(nwb_unit_of("delivered_cherry_ul"), "microliters");
  EXPECT_EQ(nwb_unit_of("position_at_choice_ticks"), "wheel encoder ticks");
  EXPECT_EQ(nwb_unit_of("block_index"), "");
}

// Runs a program and returns what it printed and its exit code.
Run run(const std::string& command) { return rig::testing::run_command(command + " 2>&1"); }

Run run_rig(const std::string& arguments) {
  const char* override_path = std::getenv("RIG_EXECUTABLE");
  return run(std::string(override_path ? override_path : RIG_EXECUTABLE) + " " + arguments);
}

// A synthetic session with every table filled: trials with 1 kHz wheel traces, licks after each reward, sync
// edges every ~100 ms and a camera run, and the subject weighed that morning.
class NwbExport : public ::testing::Test {
 protected:
  void SetUp() override {
    // Days (the weighing of the session's day, the age) are the host's local days: fixed here.
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    auto store = Store::open(db_);
    model::Weighing weighing;
    weighing.subject_id = "M9";
    weighing.weighed_at_unix_us = 1'736'155'800'000'000 - 3'600'000'000;  // an hour before the session
    weighing.weight_g = 24.5;
    weighing.who = "alice";
    store.add_welfare(weighing);
    synthetic::Session session(21, "M9");
    auto start = testing::session_start("M9", 21, session.state());
    start.subject.sex = task::Sex::kFemale;
    start.subject.date_of_birth =
        std::chrono::year_month_day(std::chrono::year(2024), std::chrono::November, std::chrono::day(6));
    start.subject.strain = "C57BL/6J";
    session_id_ = store.begin_session(start);
    std::int64_t edge_index = 0;
    std::int64_t next_edge_us = 9'000'000;
    for (int i = 0; i < kTrials; ++i) {
      const auto trial = session.next();
      model::RecordingChunk recording;
      const auto record = trial.record();
      if (record.valve_open_device_us) {
        for (int k = 0; k < 3; ++k) {
          const auto onset = *record.valve_open_device_us + 80'000 + k * 150'000;
          const auto spout = k % 2 ? wire::Valve::kGrape : wire::Valve::kCherry;
          recording.licks.push_back({session_id_, spout, true, onset, record.trial_number});
          recording.licks.push_back({session_id_, spout, false, onset + 40'000, record.trial_number});
        }
      }
      const auto end_us = trial.wheel.back().t0_us + 20'000;
      for (; next_edge_us < end_us; next_edge_us += 97'000 + (edge_index % 7) * 3'000) {
        recording.sync_edges.push_back({session_id_, edge_index++, next_edge_us});
      }
      if (i == 0) recording.camera_runs.push_back({session_id_, *record.armed_device_us, 33'333, 90});
      store.commit_trial(session_id_, record, trial.wheel, trial.state_after, recording);
    }
    store.end_session(session_id_, "max_trials", "{}");
  }

  // Writes the five CSV exports of the session into dir_ (as `rig export --format csv` does).
  void write_csvs(const Store& store) {
    for (const auto& [table, name] : {std::pair{ExportTable::kTrials, "trials"},
                                      {ExportTable::kWheel, "wheel"},
                                      {ExportTable::kLicks, "licks"},
                                      {ExportTable::kSync, "sync"},
                                      {ExportTable::kFrames, "frames"}}) {
      std::ofstream out(dir_.file(std::string(name) + ".csv"));
      export_table(store, session_id_, table, ExportFormat::kCsv, out);
    }
  }

  // The file passes the NWB core schema's validator (skipped where ../shared/tools is not beside the project)
  // and reads back as the CSV exports say.
  void expect_valid_and_equal_to_csv(const std::string& nwb) {
    if (std::filesystem::exists(RIG_NWB_VALIDATE)) {
      const auto validated = run(std::string(RIG_NWB_VALIDATE) + " " + nwb);
      EXPECT_EQ(validated.exit_code, 0) << validated.output;
      EXPECT_NE(validated.output.find("0 errors"), std::string::npos) << validated.output;
    } else {
      ADD_FAILURE() << RIG_NWB_VALIDATE << " is missing: the NWB validator is needed to check the export";
    }
    const auto read_back =
        run(std::string("/usr/bin/python3 ") + RIG_NWB_ROUNDTRIP + " " + nwb + " " + dir_.path().string());
    EXPECT_EQ(read_back.exit_code, 0) << read_back.output;
    EXPECT_NE(read_back.output.find("\"problems\": []"), std::string::npos) << read_back.output;
  }

  static constexpr int kTrials = 40;
  testing::TempDir dir_;
  std::string db_ = dir_.file("rig.sqlite");
  std::int64_t session_id_ = 0;
};

TEST_F(NwbExport, WritesAValidFileWhoseEveryTableEqualsTheCsvExport) {
  const auto store = Store::open(db_, OpenOptions::reading());
  write_csvs(store);
  const auto path = dir_.file("session.nwb");
  const auto summary = export_nwb(store, session_id_, path, NwbOptions{});
  EXPECT_EQ(summary.trials, kTrials);
  EXPECT_GT(summary.wheel_samples, kTrials * 1000);
  EXPECT_GT(summary.lick_edges, 0);
  EXPECT_GT(summary.sync_edges, 0);
  EXPECT_EQ(summary.camera_frames, 90);
  EXPECT_EQ(summary.identifier, store.session(session_id_)->session_uuid);
  expect_valid_and_equal_to_csv(path);
  const auto h5 =
      run("/usr/bin/python3 -c \"import h5py; f = h5py.File('" + path +
          "', 'r'); s = f['general/subject']; print(s['weight'][()].decode(), f['general/experimenter'][0].decode(),"
          " s['species'][()].decode(), s['sex'][()].decode(), s['date_of_birth'][()].decode(), s['age'][()].decode(),"
          " s['strain'][()].decode(), 'genotype' in s)\"");
  EXPECT_EQ(h5.output, "0.0245 kg alice Mus musculus F 2024-11-06T00:00:00.000000+00:00 P61D C57BL/6J False\n")
      << h5.output;
}

TEST_F(NwbExport, AnEphysAlignmentPutsEveryTimeOnTheRecordingsClock) {
  const auto store = Store::open(db_, OpenOptions::reading());
  write_csvs(store);
  NwbOptions options;
  options.device_to_ephys_s = [](std::int64_t device_us) {
    return 12.5 + static_cast<double>(device_us - 9'000'000) / 1e6;
  };
  options.ephys_clock_description = "a test recording";
  const auto path = dir_.file("aligned.nwb");
  export_nwb(store, session_id_, path, options);
  expect_valid_and_equal_to_csv(path);
  const auto first_edge = run("/usr/bin/python3 -c \"import h5py; f = h5py.File('" + path +
                              "', 'r'); print(f['processing/behavior/sync_pulses/timestamps'][0])\"");
  EXPECT_EQ(first_edge.output, "12.5\n") << first_edge.output;
}

TEST_F(NwbExport, RefusesAnExistingFileWithoutForceAndReplacesItWithForce) {
  const auto store = Store::open(db_, OpenOptions::reading());
  const auto path = dir_.file("kept.nwb");
  std::ofstream(path) << "an earlier export";
  try {
    export_nwb(store, session_id_, path, NwbOptions{});
    ADD_FAILURE() << "an existing file was replaced without force";
  } catch (const NwbInputError& e) {
    EXPECT_NE(std::string(e.what()).find("kept.nwb exists (--force replaces it)"), std::string::npos) << e.what();
  }
  std::ifstream kept(path);
  std::stringstream text;
  text << kept.rdbuf();
  EXPECT_EQ(text.str(), "an earlier export");
  NwbOptions force;
  force.force = true;
  export_nwb(store, session_id_, path, force);
  EXPECT_GT(std::filesystem::file_size(path), 100'000u);
}

TEST_F(NwbExport, AFailedExportLeavesNoFileBehind) {
  // A device description without the encoder's resolution: the wheel cannot be put in radians.
  {
    auto store = Store::open(db_);
    connection_of(store).exec("UPDATE sessions SET hardware_json = '{}'", "test");
  }
  const auto store = Store::open(db_, OpenOptions::reading());
  const auto path = dir_.file("broken.nwb");
  EXPECT_THROW(export_nwb(store, session_id_, path, NwbOptions{}), NwbInputError);
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
    EXPECT_EQ(entry.path().extension() == ".nwb" || entry.path().extension() == ".partial", false) << entry.path();
  }
  EXPECT_THROW(export_nwb(store, session_id_, dir_.file("no/such/dir/x.nwb"), NwbOptions{}), NwbInputError);
}

TEST_F(NwbExport, TheCommandWritesOneFileAndRefusesBadInputWithExitTwo) {
  const auto path = dir_.file("cli.nwb");
  const auto session = std::to_string(session_id_);
  const auto written = run_rig("export --db " + db_ + " --session " + session + " --format nwb --out " + path);
  EXPECT_EQ(written.exit_code, 0) << written.output;
  EXPECT_NE(written.output.find("session " + session + " written to " + path + ": 40 trials"), std::string::npos)
      << written.output;
  const auto again = run_rig("export --db " + db_ + " --session " + session + " --format nwb --out " + path);
  EXPECT_EQ(again.exit_code, 2) << again.output;
  EXPECT_NE(again.output.find("cli.nwb exists (--force replaces it)"), std::string::npos) << again.output;
  EXPECT_EQ(
      run_rig("export --db " + db_ + " --session " + session + " --format nwb --out " + path + " --force").exit_code,
      0);
  const auto missing = run_rig("export --db " + db_ + " --session 999 --format nwb --out " + dir_.file("x.nwb"));
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("no session 999"), std::string::npos) << missing.output;
  const auto unwritable = run_rig("export --db " + db_ + " --session " + session + " --format nwb --out /proc/x.nwb");
  EXPECT_EQ(unwritable.exit_code, 2) << unwritable.output;
  EXPECT_NE(unwritable.output.find("/proc/x.nwb"), std::string::npos) << unwritable.output;
  const auto no_out = run_rig("export --db " + db_ + " --session " + session + " --format nwb");
  EXPECT_EQ(no_out.exit_code, 2) << no_out.output;
  EXPECT_NE(no_out.output.find("--format nwb needs --out FILE.nwb"), std::string::npos) << no_out.output;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("x.nwb")));
}

TEST_F(NwbExport, AllSessionsOfASubjectGoOneFileEachIntoADirectory) {
  {
    auto store = Store::open(db_);
    synthetic::Session second(22, "M9");
    const auto id = store.begin_session(testing::session_start("M9", 22, second.state()));
    testing::commit(store, id, second.next());
    store.end_session(id, "operator stop", "{}");
  }
  const auto out = dir_.path() / "nwb";
  std::filesystem::create_directories(out);
  const auto run =
      run_rig("export --db " + db_ + " --subject M9 --all-sessions --format nwb --out-dir " + out.string());
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("[2/2] session 2 written to"), std::string::npos) << run.output;
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(out)) {
    EXPECT_EQ(entry.path().filename().string().rfind("M9_session-", 0), 0u) << entry.path();
    ++files;
  }
  EXPECT_EQ(files, 2);
  const auto unknown =
      run_rig("export --db " + db_ + " --subject NOBODY --all-sessions --format nwb --out-dir " + out.string());
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_NE(unknown.output.find("subject 'NOBODY' has no sessions"), std::string::npos) << unknown.output;
}

}  // namespace
}  // namespace rig::store
