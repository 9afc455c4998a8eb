// The session store: schema and migrations, sessions, every trial field, engine state, events, resume points,
// the subject history and today's water.
#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "host/store/schema.hpp"
#include "store_test_support.hpp"

namespace rig::store {
namespace {

using testing::commit;
using testing::hand_trial;
using testing::session_start;
using testing::TempDir;
using testing::count;

std::string pragma(const Store& store, const std::string& name) {
  auto select = connection_of(store).prepare("PRAGMA " + name);
  select.step(name);
  return select.text(0);
}

TEST(Store, OpenCreatesDirectoriesAndAppliesEveryMigration) {
  TempDir dir;
  const auto path = dir.file("nested/deeper/rig.sqlite");
  auto store = Store::open(path);
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(store.schema_version(), kSchemaVersion);
  EXPECT_EQ(migrations().back().version, kSchemaVersion);
  EXPECT_EQ(count(store, "SELECT COUNT(*) FROM schema_version"), static_cast<std::int64_t>(migrations().size()));
  EXPECT_EQ(pragma(store, "journal_mode"), "wal");
  EXPECT_EQ(pragma(store, "synchronous"), "2");  // FULL
  EXPECT_EQ(pragma(store, "foreign_keys"), "1");
  EXPECT_EQ(pragma(store, "busy_timeout"), std::to_string(kBusyTimeoutMs));
  EXPECT_EQ(store.integrity_check(), "ok");
}

// Every table's columns (name, type, NOT NULL, default, primary key) and every index, in the layout of
// schema_v6.txt: version 2's tables as dumped from a database the store made before the trial record was
// generated from host/model/trial.def, version 3's recording tables (host/model/recording.def) and version 4's
// welfare tables (host/model/welfare.def), version 5's session uuid, outbox and lab_sync_state (the lab), version
// 6's subject columns (the NWB export).
std::string schema_dump(const Store& store) {
  std::ostringstream out;
  auto tables = connection_of(store).prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  while (tables.step("list tables")) {
    const auto table = tables.text(0);
    out << "table " << table << "\n";
    auto columns = connection_of(store).prepare("PRAGMA table_info(" + table + ")");
    while (columns.step("read columns")) {
      out << "  " << columns.text(1) << " " << columns.text(2) << (columns.int64(3) ? " NOT NULL" : "");
      if (!columns.is_null(4)) out << " DEFAULT " << columns.text(4);
      if (columns.int64(5)) out << " PK" << columns.int64(5);
      out << "\n";
    }
  }
  auto indices = connection_of(store).prepare(
      "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name");
  while (indices.step("list indices")) {
    out << "index " << indices.text(0) << " on " << indices.text(1) << " (";
    auto columns = connection_of(store).prepare("PRAGMA index_info(" + indices.text(0) + ")");
    for (bool first = true; columns.step("read index"); first = false) out << (first ? "" : ", ") << columns.text(2);
    out << ")\n";
  }
  return out.str();
}

TEST(Store, SchemaIsUnchangedByTheFieldTable) {
  TempDir dir;
  auto store = Store::open(dir.file("rig.sqlite"));
  std::ifstream golden(RIG_STORE_TEST_DIR "/schema_v6.txt");
  ASSERT_TRUE(golden) << "cannot read schema_v6.txt";
  std::stringstream expected;
  expected << golden.rdbuf();
  EXPECT_EQ(schema_dump(store), expected.str());
}

TEST(Store, TrialsTableColumnsAreTheFieldTableInOrder) {
  TempDir dir;
  auto store = Store::open(dir.file("rig.sqlite"));
  auto columns = connection_of(store).prepare("PRAGMA table_info(trials)");
  std::size_t i = 0;
  for (; columns.step("read columns"); ++i) {
    ASSERT_LT(i, model::kTrialFieldCount) << "the table has more columns than trial.def";
    const auto& field = model::kTrialFields[i];
    EXPECT_EQ(columns.text(1), field.name);
    EXPECT_EQ(columns.text(2), model::column_type_name(field.type)) << field.name;
    EXPECT_EQ(columns.int64(3) == 0, field.nullable) << field.name;
  }
  EXPECT_EQ(i, model::kTrialFieldCount);
}

TEST(Store, ReopeningIsIdempotentAndKeepsData) {
  TempDir dir;
  const auto path = dir.file("rig.sqlite");
  const auto session_id = testing::store_unended_session(path, 1);
  for (int i = 0; i < 3; ++i) {
    auto store = Store::open(path);
    EXPECT_EQ(store.schema_version(), kSchemaVersion);
    EXPECT_EQ(count(store, "SELECT COUNT(*) FROM schema_version"), static_cast<std::int64_t>(migrations().size()));
    EXPECT_EQ(store.trials(session_id).size(), 1u);
  }
}

// rigd's lab pusher and its first session open a new file at the same moment; whichever migrates second must
// find the work done, not fail with "table already exists" (CI saw a session refused this way).
TEST(Store, TwoConnectionsOpeningANewFileTogetherBothSucceedWithEachMigrationOnce) {
  TempDir dir;
  for (int round = 0; round < 20; ++round) {
    const auto path = dir.file("race-" + std::to_string(round) + ".sqlite");
    std::array<std::string, 2> errors;
    {
      std::array<std::jthread, 2> openers;
      for (std::size_t i = 0; i < openers.size(); ++i) {
        openers[i] = std::jthread([&, i] {
          try {
            Store::open(path);
          } catch (const std::exception& e) {
            errors[i] = e.what();
          }
        });
      }
    }
    EXPECT_EQ(errors[0], "") << "round " << round;
    EXPECT_EQ(errors[1], "") << "round " << round;
    auto store = Store::open(path);
    EXPECT_EQ(count(store, "SELECT COUNT(*) FROM schema_version"), static_cast<std::int64_t>(migrations().size()));
  }
}

TEST(Store, AVersionOneDatabaseIsMigratedWithItsTrialsReadableAfterwards) {
  TempDir dir;
  const auto path = dir.file("rig.sqlite");
  const auto session_id = testing::store_unended_session(path, 3);
  {
    // Back to what schema version 1 left: its two trial indices, no recording or welfare tables, no later trial
    // columns, no session uuid, outbox or its triggers, no subject sex, birth, strain or genotype, no version 2 to 6
    // row.
    auto store = Store::open(path);
    std::string later_columns;
    for (const auto& field : model::kTrialFields) {
      if (field.since_version > 1) later_columns += std::string("ALTER TABLE trials DROP COLUMN ") + field.name + ";";
    }
    std::string triggers;
    auto names = connection_of(store).prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'");
    while (names.step("list triggers")) triggers += "DROP TRIGGER " + names.text(0) + ";";
    connection_of(store).exec(
        triggers +
            "CREATE INDEX trials_by_subject ON trials (subject_id, session_id, trial_number);"
            "CREATE INDEX trials_by_subject_time ON trials (subject_id, committed_at_unix_us);"
            "DROP TABLE licks; DROP TABLE sync_edges; DROP TABLE camera_runs; DROP TABLE weighings; "
            "DROP TABLE water_given; DROP TABLE outbox; DROP TABLE lab_sync_state; DROP INDEX sessions_by_uuid; "
            "ALTER TABLE sessions DROP COLUMN session_uuid;"
            "ALTER TABLE subjects DROP COLUMN sex; ALTER TABLE subjects DROP COLUMN date_of_birth; "
            "ALTER TABLE subjects DROP COLUMN strain; ALTER TABLE subjects DROP COLUMN genotype;" +
            later_columns + "DELETE FROM schema_version WHERE version >= 2",
        "test");
  }
  auto store = Store::open(path);
  EXPECT_EQ(store.schema_version(), kSchemaVersion);
  // Everything the old database held waits for the lab: its subject, session, 3 trials, their wheel traces, and
  // its events; the session got a uuid.
  EXPECT_EQ(store.outbox_backlog().entries,
            count(store, "SELECT (SELECT COUNT(*) FROM subjects) + (SELECT COUNT(*) FROM sessions) + "
                         "(SELECT COUNT(*) FROM trials) + (SELECT COUNT(*) FROM wheel_traces) + (SELECT COUNT(*) FROM events)"));
  EXPECT_EQ(count(store, "SELECT COUNT(*) FROM outbox WHERE table_name = 'trials'"), 3);
  EXPECT_EQ(store.sessions().front().session_uuid.size(), 36u);
  EXPECT_EQ(count(store, "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'trials_by_%'"), 0);
  EXPECT_EQ(count(store, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                         "('licks', 'sync_edges', 'camera_runs')"),
            3);
  const std::string subject = store.sessions().front().subject_id;
  EXPECT_EQ(store.subject_trials(subject).size(), 3u);
  EXPECT_EQ(store.trials(session_id).size(), 3u);
  EXPECT_EQ(store.integrity_check(), "ok");
}

TEST(Store, ReadOnlyOpenReadsButRefusesWritesNamingTheFile) {
  TempDir dir;
  const auto path = dir.file("rig.sqlite");
  const auto session_id = testing::store_unended_session(path, 0);
  auto store = Store::open(path, OpenOptions::reading());
  EXPECT_TRUE(store.session(session_id).has_value());
  try {
    commit(store, session_id, hand_trial(1));
    FAIL() << "commit on a read-only store succeeded";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("readonly database"), std::string::npos) << e.what();
    EXPECT_EQ(e.sqlite_code() & 0xff, SQLITE_READONLY);
  }
}

TEST(Store, MissingFileOpenedReadOnlyIsAClearError) {
  TempDir dir;
  EXPECT_THROW(
      {
        try {
          Store::open(dir.file("absent.sqlite"), OpenOptions::reading());
        } catch (const StoreError& e) {
          EXPECT_NE(std::string(e.what()).find("absent.sqlite: no such database file"), std::string::npos) << e.what();
          throw;
        }
      },
      StoreError);
}

TEST(Store, CorruptFileIsAClearError) {
  TempDir dir;
  const auto path = dir.file("garbage.sqlite");
  std::ofstream(path) << std::string(8192, 'x');
  try {
    Store::open(path);
    FAIL() << "opened a file that is not a database";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("file is not a database"), std::string::npos) << e.what();
  }
}

TEST(Store, SchemaNewerThanTheProgramIsRefused) {
  TempDir dir;
  const auto path = dir.file("rig.sqlite");
  {
    auto store = Store::open(path);
    connection_of(store).exec("INSERT INTO schema_version VALUES (99, 'future')", "test");
  }
  try {
    Store::open(path);
    FAIL() << "opened a future schema";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 99 is newer"), std::string::npos) << e.what();
  }
}

TEST(Store, DefaultPathFollowsXdgDataHome) {
  const char* saved = std::getenv("XDG_DATA_HOME");
  const std::string saved_value = saved ? saved : "";
  ::setenv("XDG_DATA_HOME", "/data/lab", 1);
  EXPECT_EQ(Store::default_path(), "/data/lab/rig/rig.sqlite");
  ::unsetenv("XDG_DATA_HOME");
  const char* home = std::getenv("HOME");
  EXPECT_EQ(Store::default_path(), std::string(home ? home : ".") + "/.local/share/rig/rig.sqlite");
  if (saved) ::setenv("XDG_DATA_HOME", saved_value.c_str(), 1);
}

TEST(Store, SessionRowRecordsWhatReproducesIt) {
  TempDir dir;
  auto store = Store::open(dir.file("rig.sqlite"));
  task::EngineState initial;
  initial.seed = 18'446'744'073'709'551'557ull;  // above INT64_MAX: the seed must survive exactly
  const auto start = session_start("M1", initial.seed, initial);
  const auto session_id = store.begin_session(start);
  auto row = connection_of(store).prepare(
      "SELECT protocol_path, protocol_text, protocol_sha256, rig_config_path, rig_config_text, valve_calibration_json, "
      "device_kind, firmware_build_id, hardware_json, host_version, rng_seed, started_at_utc, started_at_unix_us, "
      "initial_state_json, controllable_flavour FROM sessions WHERE session_id = ?");
  row.bind(1, session_id);
  ASSERT_TRUE(row.step("read"));
  EXPECT_EQ(row.text(0), start.protocol_path);
  EXPECT_EQ(row.text(1), start.protocol_text);
  EXPECT_EQ(row.text(2), sha256_hex(start.protocol_text));
  EXPECT_EQ(row.text(3), start.rig_config_path);
  EXPECT_EQ(row.text(4), start.rig_config_text);
  EXPECT_EQ(row.text(5), start.valve_calibration_json);
  EXPECT_EQ(row.text(6), "sim");
  EXPECT_EQ(row.text(7), "fw-test-1");
  EXPECT_EQ(row.text(8), start.hardware_json);
  EXPECT_EQ(row.text(9), "0.1.0-test");
  EXPECT_EQ(row.text(10), "18446744073709551557");
  EXPECT_EQ(row.text(11), "2025-01-06T09:30:00.000000Z");
  EXPECT_EQ(row.int64(12), start.started_at_unix_us);
  EXPECT_EQ(task::engine_state_from_json(row.text(13)), initial);
  EXPECT_EQ(row.text(14), "cherry");
  const auto info = store.session(session_id);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->rng_seed, initial.seed);
  EXPECT_FALSE(info->ended());
}

TEST(Store, Sha256MatchesTheStandardTestVector) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Store, CalibrationAndHardwareAreJson) {
  EXPECT_EQ(calibration_json(synthetic::rig_config()),
            R"({"cherry":{"calibrated_on":"2025-01-06","points":[{"open_us":10000,"volume_ul":0.8},)"
            R"({"open_us":40000,"volume_ul":4.0}]},"grape":{"calibrated_on":"2025-01-06","points":)"
            R"([{"open_us":10000,"volume_ul":0.7},{"open_us":40000,"volume_ul":3.9}]}})");
  model::DeviceInfo device;
  device.firmware_build_id = "abc123";
  device.hal_kind = wire::HalKind::kSimulated;
  const auto json = device_info_json(device);
  EXPECT_NE(json.find(R"("firmware_build_id":"abc123")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("hal_kind":1)"), std::string::npos) << json;
}

TEST(Store, EveryTrialFieldRoundTrips) {
  TempDir dir;
  auto store = Store::open(dir.file("rig.sqlite"), OpenOptions::with_clock([] { return std::int64_t{1'736'160'000'000'000}; }));
  const auto session_id = store.begin_session(session_start("M1", 5, {}));
  const auto t = hand_trial(1);
  commit(store, session_id, t);
  const auto trials = store.trials(session_id);
  ASSERT_EQ(trials.size(), 1u);
  const auto& s = trials.front();
  EXPECT_EQ(s.session_id, session_id);
  EXPECT_EQ(s.trial_number, 1u);
  EXPECT_EQ(s.block_index, 3u);
  EXPECT_EQ(s.high_side, wire::Side::kLeft);
  EXPECT_EQ(s.p_controllable_left, t.plan.p_controllable_by_side[0]);
  EXPECT_EQ(s.p_controllable_right, t.plan.p_controllable_by_side[1]);
  EXPECT_EQ(s.p_distractor, 0.5);
  EXPECT_FALSE(s.free_choice);
  EXPECT_EQ(s.instructed_side, wire::Side::kRight);
  EXPECT_EQ((std::array<bool, 2>{s.controllable_drawn_left, s.controllable_drawn_right}), (std::array<bool, 2>{false, true}));
  EXPECT_FALSE(s.distractor_drawn);
  EXPECT_EQ(s.controllable_flavour, wire::Valve::kCherry);
  EXPECT_EQ((std::array<double, 4>{s.planned_left_cherry_ul, s.planned_left_grape_ul, s.planned_right_cherry_ul,
                                   s.planned_right_grape_ul}),
            t.plan.volume_ul);
  EXPECT_EQ((std::array<std::uint32_t, 4>{s.planned_left_cherry_open_us, s.planned_left_grape_open_us,
                                          s.planned_right_cherry_open_us, s.planned_right_grape_open_us}),
            (std::array<std::uint32_t, 4>{0, 0, 29524, 0}));
  EXPECT_EQ(s.planned_at_us, 123'456'789);
  EXPECT_EQ(s.outcome, wire::TrialOutcome::kRight);
  EXPECT_EQ(s.choice, wire::Side::kRight);
  EXPECT_FALSE(s.chose_high);
  EXPECT_EQ(s.reaction_time_us, 350'250);
  EXPECT_EQ((std::array<std::uint32_t, 2>{s.delivered_cherry_open_us, s.delivered_grape_open_us}),
            (std::array<std::uint32_t, 2>{29500, 0}));
  EXPECT_EQ((std::array<double, 2>{s.delivered_cherry_ul, s.delivered_grape_ul}), t.update.delivered_ul_by_valve);
  EXPECT_TRUE(s.controllable_delivered);
  EXPECT_FALSE(s.distractor_delivered);
  EXPECT_EQ(s.armed_device_us.value_or(-1), t.times.armed_us);
  EXPECT_EQ(s.go_cue_device_us.value_or(-1), t.times.go_cue_us);
  EXPECT_EQ(s.choice_device_us.value_or(-1), t.times.choice_us);
  EXPECT_EQ(s.valve_open_device_us.value_or(-1), t.times.valve_open_us);
  EXPECT_EQ(s.position_at_choice_ticks, 86);
  EXPECT_EQ(s.quiescence_restarts, 2u);
  EXPECT_EQ(s.result_flags, wire::kResultClamped);
  EXPECT_TRUE(s.reversed_after);
  EXPECT_EQ(s.committed_at_unix_us, 1'736'160'000'000'000);

  const auto wheel = store.wheel_trace(session_id, 1);
  ASSERT_EQ(wheel.size(), 1u);
  EXPECT_EQ(wheel.front().t0_us, t.wheel.front().t0_us);
  EXPECT_EQ(wheel.front().period_us, 1000);
  EXPECT_EQ(wheel.front().position_ticks, t.wheel.front().position_ticks);

  const auto point = store.resume_point(session_id);
  EXPECT_EQ(point.last_trial_number, 1u);
  EXPECT_EQ(task::engine_state_from_json(point.state_json), t.state_after);
}

TEST(Store, MissTrialStoresNoChoiceReactionTimeOrDeviceTimes) {
  TempDir dir;
  auto store = Store::open(dir.file("rig.sqlite"));
  const auto session_id = store.begin_session(session_start("M1", 5, {}));
  auto t = hand_trial(1);
  t.result.outcome = static_cast<std::uint8_t>(wire::TrialOutcome::kMiss);
  t.update.choice.reset();
  t.update.delivered_ul_by_valve = {0.0, 0.0};
  t.times.choice_us = -1;
  t.times.valve_open_us = -1;
  t.plan.instructed_side.reset();
  t.wheel.clear();
  commit(store, session_id, t);
  const auto s = store.trials(session_id).front();
  EXPECT_EQ(s.outcome, wire::TrialOutcome::kMiss);
  EXPECT_FALSE(s.choice);
  EXPECT_FALSE(s.instructed_side);
  EXPECT_FALSE(s.reaction_time_us);
  EXPECT_EQ(s.choice_device_us.value_or(-1), -1);
  EXPECT_EQ(s.valve_open_device_us.value_or(-1), -1);
  EXPECT_FALSE(s.controllable_delivered);
  EXPECT_TRUE(store.wheel_trace(session_id, 1).empty());
}

TEST(Store, TrialOfAnEndedOrUnknownSessionOrRepeatedNumberIsRefused) {
  TempDir dir;
  auto store = Store::open(dir.file("rig.sqlite"));
  const auto session_id = store.begin_session(session_start("M1", 5, {}));
  commit(store, session_id, hand_trial(1));
  EXPECT_THROW(commit(store, session_id, hand_trial(1)), StoreError);
  EXPECT_THROW(commit(store, session_id + 1, hand_trial(2)), StoreError);
  store.end_session(session_id, "max_trials", R"({"trials_done": 1})");
  EXPECT_THROW(commit(store, session_id, hand_trial(2)), StoreError);
  EXPECT_THROW(store.end_session(session_id, "again", "{}"), StoreError);
  EXPECT_EQ(store.trials(session_id).size(), 1u);
}

TEST(Store, BatchCommitStoresEveryTrialAndTheFinalStateInOneTransaction) {
  TempDir dir;
  auto store = Store::open(dir.file("rig.sqlite"));
  const auto session_id = store.begin_session(session_start("M1", 5, {}));
  std::vector<model::TrialRecord> batch;
  for (std::uint32_t n = 1; n <= 3; ++n) batch.push_back(hand_trial(n).record());
  store.commit_trials(session_id, batch, hand_trial(3).state_after);
  const auto trials = store.trials(session_id);
  ASSERT_EQ(trials.size(), 3u);
  EXPECT_EQ(trials[2].reaction_time_us, 350'250);
  EXPECT_EQ(store.resume_point(session_id).last_trial_number, 3u);
  EXPECT_TRUE(store.wheel_trace(session_id, 1).empty());
  // A repeated number anywhere in the batch refuses all of it.
  batch.erase(batch.begin(), batch.begin() + 2);
  batch.insert(batch.begin(), hand_trial(4).record());
  EXPECT_THROW(store.commit_trials(session_id, batch, {}), StoreError);
  EXPECT_EQ(store.trials(session_id).size(), 3u);
}

TEST(Store, FailureMidwayThroughACommitLeavesNothingOfTheTrial) {
  TempDir dir;
  auto store = Store::open(dir.file("rig.sqlite"));
  const auto session_id = store.begin_session(session_start("M1", 5, {}));
  commit(store, session_id, hand_trial(1));
  // The engine state is written last, after the trial row and the wheel trace: fail exactly there.
  connection_of(store).exec(
      "CREATE TEMP TRIGGER fail_state BEFORE UPDATE ON session_states BEGIN SELECT RAISE(ABORT, 'injected'); END",
      "inject");
  try {
    commit(store, session_id, hand_trial(2));
    FAIL() << "the injected failure did not surface";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("commit trial 2 of session"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("injected"), std::string::npos) << e.what();
  }
  EXPECT_EQ(count(store, "SELECT COUNT(*) FROM trials"), 1);
  EXPECT_EQ(count(store, "SELECT COUNT(*) FROM wheel_traces"), 1);
  EXPECT_EQ(store.resume_point(session_id).last_trial_number, 1u);
  connection_of(store).exec("DROP TRIGGER fail_state", "remove injection");
  commit(store, session_id, hand_trial(2));
  EXPECT_EQ(store.trials(session_id).size(), 2u);
  EXPECT_EQ(store.integrity_check(), "ok");
}

TEST(Store, EventsKeepKindTimeAndDetail) {
  TempDir dir;
  auto store = Store::open(dir.file("rig.sqlite"), OpenOptions::with_clock([] { return std::int64_t{42}; }));
  const auto session_id = store.begin_session(session_start("M1", 5, {}));
  store.log_event(session_id, "link_disconnected", 1'000, R"({"clock":"host"})");
  store.log_event(session_id, "fault", 2'000, R"({"fault_bit":1,"clock":"device"})");
  store.log_event(std::nullopt, "host_start", 3'000, "{}");
  EXPECT_THROW(store.log_event(session_id, "bad", 0, "{not json"), std::invalid_argument);
  const auto events = store.events(session_id);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, "link_disconnected");
  EXPECT_EQ(events[0].t_us, 1'000);
  EXPECT_EQ(events[0].logged_at_unix_us, 42);
  EXPECT_EQ(events[1].kind, "fault");
  EXPECT_EQ(events[1].detail_json, R"({"fault_bit":1,"clock":"device"})");
}

TEST(Store, SessionWithoutEndIsMarkedInterruptedAndCanBeResumedInTheSameRow) {
  TempDir dir;
  const auto path = dir.file("rig.sqlite");
  const auto session_id = testing::store_unended_session(path, 2);  // the host dies here: no end_session
  auto store = Store::open(path);
  EXPECT_FALSE(store.latest_session("M1")->ended());
  EXPECT_EQ(store.mark_interrupted_sessions(), std::vector<std::int64_t>{session_id});
  EXPECT_TRUE(store.mark_interrupted_sessions().empty());
  const auto latest = store.latest_session("M1");
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->session_id, session_id);
  EXPECT_TRUE(latest->ended());
  EXPECT_TRUE(latest->interrupted);
  EXPECT_EQ(latest->end_reason, std::string(kInterruptedReason));
  EXPECT_EQ(latest->trial_count, 2);

  const auto point = store.resume_point(session_id);
  EXPECT_EQ(point.last_trial_number, 2u);
  EXPECT_EQ(point.rng_seed, 5u);
  EXPECT_EQ(point.protocol_sha256, sha256_hex(synthetic::kProtocolYaml));
  EXPECT_EQ(point.protocol_text, synthetic::kProtocolYaml);
  store.resume_session(session_id, {"fw-test-2", R"({"boot_id":8})", "0.1.1"});
  const auto resumed = store.session(session_id);
  EXPECT_FALSE(resumed->ended());
  EXPECT_FALSE(resumed->interrupted);
  EXPECT_EQ(resumed->resume_count, 1);
  commit(store, session_id, hand_trial(3));
  const auto events = store.events(session_id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, "session_resumed");
  EXPECT_NE(events[0].detail_json.find(kInterruptedReason), std::string::npos) << events[0].detail_json;
  EXPECT_NE(events[0].detail_json.find("fw-test-2"), std::string::npos) << events[0].detail_json;
  EXPECT_EQ(store.trials(session_id).size(), 3u);
}

TEST(Store, ResumedEngineContinuesTheSessionExactly) {
  TempDir dir;
  auto store = Store::open(dir.file("rig.sqlite"));
  synthetic::Session first(11, "M1");
  const auto session_id = store.begin_session(session_start("M1", 11, first.state()));
  for (int i = 0; i < 40; ++i) testing::commit(store, session_id, first.next());
  const auto point = store.resume_point(session_id);
  const auto saved = task::engine_state_from_json(point.state_json);
  synthetic::Session resumed(11, "M1", &saved);
  synthetic::Session reference(11, "M1");
  for (int i = 0; i < 40; ++i) reference.next();
  for (int i = 0; i < 40; ++i) {
    const auto a = resumed.next();
    const auto b = reference.next();
    EXPECT_EQ(a.plan.trial_number, point.last_trial_number + 1 + static_cast<std::uint32_t>(i));
    EXPECT_EQ(a.plan.trial_number, b.plan.trial_number);
    EXPECT_EQ(a.plan.block_index, b.plan.block_index);
    EXPECT_EQ(a.plan.controllable_drawn_by_side, b.plan.controllable_drawn_by_side);
    EXPECT_EQ(a.plan.distractor_drawn, b.plan.distractor_drawn);
    EXPECT_EQ(a.plan.instructed_side, b.plan.instructed_side);
  }
}

TEST(Store, SubjectHistoryIsEveryTrialAcrossSessionsInOrderThroughTheIndex) {
  TempDir dir;
  auto store = Store::open(dir.file("rig.sqlite"));
  std::vector<std::pair<std::int64_t, std::uint32_t>> expected;
  for (int s = 0; s < 3; ++s) {
    synthetic::Session session(20 + static_cast<std::uint64_t>(s), "M1");
    const auto id = store.begin_session(session_start("M1", 20 + static_cast<std::uint64_t>(s), session.state()));
    for (int i = 0; i < 15; ++i) {
      const auto t = session.next();
      testing::commit(store, id, t);
      expected.emplace_back(id, t.plan.trial_number);
    }
    store.end_session(id, "max_trials", "{}");
    synthetic::Session other(99, "M2");
    const auto other_id = store.begin_session(session_start("M2", 99, other.state()));
    testing::commit(store, other_id, other.next());
  }
  const auto history = store.subject_trials("M1");
  ASSERT_EQ(history.size(), expected.size());
  for (std::size_t i = 0; i < history.size(); ++i) {
    EXPECT_EQ(std::make_pair(history[i].session_id, history[i].trial_number), expected[i]) << i;
  }
  // The logged values match the trial rows.
  const auto trials = store.trials(expected.front().first);
  for (std::size_t i = 0; i < trials.size(); ++i) {
    EXPECT_EQ(history[i].choice, trials[i].choice);
    EXPECT_EQ(history[i].free_choice, trials[i].free_choice);
    EXPECT_EQ(history[i].controllable_delivered, trials[i].controllable_delivered);
    EXPECT_EQ(history[i].distractor_delivered, trials[i].distractor_delivered);
    EXPECT_EQ(history[i].p_controllable_by_side,
              (std::array<double, 2>{trials[i].p_controllable_left, trials[i].p_controllable_right}));
    EXPECT_EQ(history[i].p_distractor, trials[i].p_distractor);
  }
  auto plan = connection_of(store).prepare(
      "EXPLAIN QUERY PLAN SELECT t.session_id FROM sessions s INDEXED BY sessions_by_subject JOIN trials t ON "
      "t.session_id = s.session_id WHERE s.subject_id = 'M1' ORDER BY s.session_id, t.trial_number");
  std::string detail;
  while (plan.step("plan")) detail += plan.text(3) + ";";
  EXPECT_NE(detail.find("INDEX sessions_by_subject (subject_id=?)"), std::string::npos) << detail;
  EXPECT_NE(detail.find("INDEX sqlite_autoindex_trials_1 (session_id=?)"), std::string::npos) << detail;
  EXPECT_EQ(detail.find("USE TEMP B-TREE"), std::string::npos) << detail;
}

TEST(Store, WaterTodayCountsOnlyThatLocalDayAndSubject) {
  ::setenv("TZ", "Europe/Berlin", 1);
  ::tzset();
  TempDir dir;
  std::int64_t now_us = 0;
  auto store = Store::open(dir.file("rig.sqlite"), OpenOptions::with_clock([&] { return now_us; }));
  const auto session_id = store.begin_session(session_start("M1", 5, {}));
  // 2025-01-06 in Berlin (UTC+1) runs from 2025-01-05T23:00Z to 2025-01-06T23:00Z.
  const std::int64_t day_start_us = 1'736'118'000'000'000;
  const std::pair<std::int64_t, std::uint32_t> commits[] = {
      {day_start_us - 1, 1}, {day_start_us, 2}, {day_start_us + 3'600'000'000, 3}, {day_start_us + 86'400'000'000, 4}};
  for (const auto& [at_us, number] : commits) {
    now_us = at_us;
    commit(store, session_id, hand_trial(number));
  }
  using namespace std::chrono;
  EXPECT_DOUBLE_EQ(store.water_today_ul("M1", 2025y / January / 6), 2 * 2.95);
  EXPECT_DOUBLE_EQ(store.water_today_ul("M1", 2025y / January / 5), 2.95);
  EXPECT_DOUBLE_EQ(store.water_today_ul("M2", 2025y / January / 6), 0.0);
  ::unsetenv("TZ");
  ::tzset();
}

TEST(Store, SessionListCountsChoicesAndHighSide) {
  TempDir dir;
  auto store = Store::open(dir.file("rig.sqlite"));
  const auto session_id = store.begin_session(session_start("M1", 5, {}));
  for (std::uint32_t n = 1; n <= 4; ++n) {
    auto t = hand_trial(n);
    t.update.choice = n == 4 ? wire::Side::kLeft : wire::Side::kRight;
    t.update.chose_high = n == 4;
    commit(store, session_id, t);
  }
  store.end_session(session_id, "max_trials", "{}");
  const auto sessions = store.sessions("M1");
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].trial_count, 4);
  EXPECT_EQ(sessions[0].left_choices, 1);
  EXPECT_EQ(sessions[0].right_choices, 3);
  EXPECT_EQ(sessions[0].high_side_choices, 1);
  EXPECT_EQ(sessions[0].end_reason, "max_trials");
  EXPECT_TRUE(store.sessions("nobody").empty());
  EXPECT_EQ(store.sessions().size(), 1u);
}

TEST(Store, UtcTimesAreIso8601WithMicroseconds) {
  EXPECT_EQ(utc_iso8601(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(utc_iso8601(1'736'155'800'123'456), "2025-01-06T09:30:00.123456Z");
  EXPECT_EQ(utc_iso8601(-1), "1969-12-31T23:59:59.999999Z");
}

}  // namespace
}  // namespace rig::store
