#include "host/store/schema.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

#include "host/model/recording.hpp"
#include "host/model/welfare.hpp"
#include "host/model/trial_record.hpp"
#include "host/store/outbox.hpp"
#include "host/store/sqlite.hpp"

namespace rig::store {
namespace {

// The released migrations, frozen as they shipped: never edit one (docs/data-format.md, "Migration policy").
// A trial field added later is not written here: its line in host/model/trial.def names its version, and
// with_trial_columns() adds it; nor are the recording and welfare tables (host/model/recording.def and
// welfare.def, with_recording_tables()).
std::vector<Migration> written_migrations() {
  return {
      {1, R"sql(
CREATE TABLE subjects (
  subject_id TEXT PRIMARY KEY,
  controllable_flavour TEXT NOT NULL CHECK (controllable_flavour IN ('cherry', 'grape')),
  stage TEXT NOT NULL,
  daily_water_target_ml REAL NOT NULL,
  daily_water_max_ml REAL,
  updated_at_unix_us INTEGER NOT NULL
);

CREATE TABLE sessions (
  session_id INTEGER PRIMARY KEY,
  subject_id TEXT NOT NULL REFERENCES subjects (subject_id),
  controllable_flavour TEXT NOT NULL,
  protocol_path TEXT NOT NULL,
  protocol_text TEXT NOT NULL,
  protocol_sha256 TEXT NOT NULL,
  rig_config_path TEXT NOT NULL,
  rig_config_text TEXT NOT NULL,
  valve_calibration_json TEXT NOT NULL,
  device_kind TEXT NOT NULL,
  firmware_build_id TEXT NOT NULL,
  hardware_json TEXT NOT NULL,
  host_version TEXT NOT NULL,
  rng_seed TEXT NOT NULL,
  started_at_utc TEXT NOT NULL,
  started_at_unix_us INTEGER NOT NULL,
  initial_state_json TEXT NOT NULL,
  ended_at_utc TEXT,
  ended_at_unix_us INTEGER,
  end_reason TEXT,
  summary_json TEXT,
  interrupted INTEGER NOT NULL DEFAULT 0,
  resume_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_by_subject ON sessions (subject_id, session_id);

CREATE TABLE trials (
  session_id INTEGER NOT NULL REFERENCES sessions (session_id),
  trial_number INTEGER NOT NULL,
  subject_id TEXT NOT NULL,
  block_index INTEGER NOT NULL,
  high_side TEXT NOT NULL CHECK (high_side IN ('L', 'R')),
  p_controllable_left REAL NOT NULL,
  p_controllable_right REAL NOT NULL,
  p_distractor REAL NOT NULL,
  free_choice INTEGER NOT NULL,
  instructed_side TEXT CHECK (instructed_side IN ('L', 'R')),
  controllable_drawn_left INTEGER NOT NULL,
  controllable_drawn_right INTEGER NOT NULL,
  distractor_drawn INTEGER NOT NULL,
  controllable_flavour TEXT NOT NULL,
  distractor_flavour TEXT NOT NULL,
  planned_left_cherry_ul REAL NOT NULL,
  planned_left_grape_ul REAL NOT NULL,
  planned_right_cherry_ul REAL NOT NULL,
  planned_right_grape_ul REAL NOT NULL,
  planned_left_cherry_open_us INTEGER NOT NULL,
  planned_left_grape_open_us INTEGER NOT NULL,
  planned_right_cherry_open_us INTEGER NOT NULL,
  planned_right_grape_open_us INTEGER NOT NULL,
  planned_at_us INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  choice TEXT CHECK (choice IN ('L', 'R')),
  chose_high INTEGER NOT NULL,
  reaction_time_us INTEGER,
  delivered_cherry_open_us INTEGER NOT NULL,
  delivered_grape_open_us INTEGER NOT NULL,
  delivered_cherry_ul REAL NOT NULL,
  delivered_grape_ul REAL NOT NULL,
  controllable_delivered INTEGER NOT NULL,
  distractor_delivered INTEGER NOT NULL,
  armed_device_us INTEGER,
  go_cue_device_us INTEGER,
  choice_device_us INTEGER,
  valve_open_device_us INTEGER,
  position_at_choice_ticks INTEGER NOT NULL,
  quiescence_restarts INTEGER NOT NULL,
  result_flags INTEGER NOT NULL,
  reversed_after INTEGER NOT NULL,
  committed_at_unix_us INTEGER NOT NULL,
  PRIMARY KEY (session_id, trial_number)
);
CREATE INDEX trials_by_subject ON trials (subject_id, session_id, trial_number);
CREATE INDEX trials_by_subject_time ON trials (subject_id, committed_at_unix_us);

CREATE TABLE wheel_traces (
  session_id INTEGER NOT NULL,
  trial_number INTEGER NOT NULL,
  t0_device_us INTEGER NOT NULL,
  period_us INTEGER NOT NULL,
  sample_count INTEGER NOT NULL,
  encoding INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (session_id, trial_number),
  FOREIGN KEY (session_id, trial_number) REFERENCES trials (session_id, trial_number)
);

CREATE TABLE session_states (
  session_id INTEGER PRIMARY KEY REFERENCES sessions (session_id),
  after_trial_number INTEGER NOT NULL,
  state_json TEXT NOT NULL
);

CREATE TABLE events (
  event_id INTEGER PRIMARY KEY,
  session_id INTEGER REFERENCES sessions (session_id),
  kind TEXT NOT NULL,
  t_us INTEGER NOT NULL,
  logged_at_unix_us INTEGER NOT NULL,
  detail_json TEXT NOT NULL
);
CREATE INDEX events_by_session ON events (session_id, event_id);
)sql"},
      // A trial row is written into the table and its primary key only: the two secondary indices cost a
      // quarter of a bulk insert (rig simulate). Both readers go through the subject's sessions instead.
      {2, R"sql(
DROP INDEX trials_by_subject;
DROP INDEX trials_by_subject_time;
)sql"},
      // The lab (issue 18): a session's uuid (its identity in the lab database and in exports), the store's own
      // uuid and the rig it was pushed as, and the outbox. The outbox's triggers are generated
      // (with_outbox_triggers). seq is a plain row id: an acknowledgement deletes up to the batch's last seq,
      // and every entry written since has a larger one.
      {5, "ALTER TABLE sessions ADD COLUMN session_uuid TEXT;\n"
          "UPDATE sessions SET session_uuid = " RIG_SQL_UUID4 ";\n"
          "CREATE UNIQUE INDEX sessions_by_uuid ON sessions (session_uuid);\n"
          "CREATE TABLE lab_sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
          "INSERT INTO lab_sync_state (key, value) VALUES ('store_uuid', " RIG_SQL_UUID4 ");\n"
          R"sql(CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY,
  table_name TEXT NOT NULL,
  row_key TEXT NOT NULL,
  deleted INTEGER NOT NULL,
  queued_at_unix_us INTEGER NOT NULL
);
)sql"},
      // The NWB export (issue 19): who the subject is (the subjects file's sex, date_of_birth, strain, genotype).
      // Nullable as the lab's copies are (a column a lab migration adds cannot be NOT NULL); the store always
      // writes sex, strain and genotype.
      {6, R"sql(ALTER TABLE subjects ADD COLUMN sex TEXT DEFAULT 'U' CHECK (sex IN ('F', 'M', 'U', 'O'));
ALTER TABLE subjects ADD COLUMN date_of_birth TEXT;
ALTER TABLE subjects ADD COLUMN strain TEXT DEFAULT '';
ALTER TABLE subjects ADD COLUMN genotype TEXT DEFAULT '';
)sql"},
  };
}

// The migrations with, for every trial field added after version 1, an ALTER TABLE in its version's
// migration (a new migration when no written one has that version). Throws std::logic_error for a later field
// that is not nullable (old rows could not hold it).
std::vector<Migration> with_trial_columns(std::vector<Migration> migrations) {
  for (const auto& field : model::kTrialFields) {
    if (field.since_version <= 1) continue;
    if (!field.nullable) {
      throw std::logic_error(std::string("trial field ") + field.name + " added in schema version " +
                             std::to_string(field.since_version) + " must be std::optional (older rows hold NULL)");
    }
    auto at = std::find_if(migrations.begin(), migrations.end(),
                           [&](const Migration& m) { return m.version == field.since_version; });
    if (at == migrations.end()) at = migrations.insert(migrations.end(), Migration{field.since_version, ""});
    at->sql += "ALTER TABLE trials ADD COLUMN " + model::column_definition(field) + ";\n";
  }
  std::sort(migrations.begin(), migrations.end(), [](const Migration& a, const Migration& b) { return a.version < b.version; });
  return migrations;
}

// Migration `table`'s version creates it: CREATE TABLE with its columns from recording.def or welfare.def
// and an index on its first column (the session or the subject whose rows are read together), named
// TABLE_by_FIRST (without the column's "_id").
template <class Record>
void add_recording_table(std::vector<Migration>& migrations) {
  using Table = model::RecordingTable<Record>;
  std::string sql = std::string("CREATE TABLE ") + Table::kName + " (\n";
  for (const auto& field : Table::kFields) {
    sql += std::string("  ") + model::column_definition(field) + (&field == std::end(Table::kFields) - 1 ? "\n" : ",\n");
  }
  const std::string first = Table::kFields[0].name;
  const std::string owner = first.size() > 3 && first.ends_with("_id") ? first.substr(0, first.size() - 3) : first;
  sql += ");\nCREATE INDEX " + std::string(Table::kName) + "_by_" + owner + " ON " + Table::kName + " (" + first + ");\n";
  auto at = std::find_if(migrations.begin(), migrations.end(),
                         [&](const Migration& m) { return m.version == Table::kSinceVersion; });
  if (at == migrations.end()) at = migrations.insert(migrations.end(), Migration{Table::kSinceVersion, ""});
  at->sql += sql;
}

std::vector<Migration> with_recording_tables(std::vector<Migration> migrations) {
  add_recording_table<model::LickRecord>(migrations);
  add_recording_table<model::SyncRecord>(migrations);
  add_recording_table<model::CameraRecord>(migrations);
  add_recording_table<model::Weighing>(migrations);
  add_recording_table<model::WaterGiven>(migrations);
  std::sort(migrations.begin(), migrations.end(), [](const Migration& a, const Migration& b) { return a.version < b.version; });
  return migrations;
}

// The tables of the store that the lab does not receive.
bool is_synced(const std::string& table) {
  static const std::set<std::string> kPrivate = {"schema_version", "session_states", "outbox", "lab_sync_state"};
  return !kPrivate.contains(table) && !table.starts_with("sqlite_");
}

SqlType declared_type(const std::string& declared) {
  if (declared == "INTEGER") return SqlType::kInteger;
  if (declared == "REAL") return SqlType::kReal;
  if (declared == "BLOB") return SqlType::kBlob;
  return SqlType::kText;
}

// The synced tables of a database migrated to `version` by `migrations`, as SQLite describes them.
std::vector<SyncedTable> describe_tables(const std::vector<Migration>& migrations, int version) {
  Connection db(":memory:", false);
  for (const auto& migration : migrations) {
    if (migration.version <= version) db.exec(migration.sql, "describe schema version " + std::to_string(version));
  }
  std::vector<SyncedTable> tables;
  auto names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid");
  while (names.step("list tables")) {
    SyncedTable table{names.text(0), {}, {}};
    if (!is_synced(table.name)) continue;
    std::map<std::int64_t, std::string> key_by_position;
    auto info = db.prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?) ORDER BY cid");
    info.bind(1, table.name);
    while (info.step("describe " + table.name)) {
      table.columns.push_back({info.text(0), declared_type(info.text(1)), info.int64(2) != 0});
      if (info.int64(3) > 0) key_by_position[info.int64(3)] = info.text(0);
    }
    for (const auto& [position, column] : key_by_position) table.key.push_back(column);
    tables.push_back(std::move(table));
  }
  return tables;
}

// json_array(the row's key) for a trigger on `table` (`row` is NEW or OLD).
std::string key_expression(const SyncedTable& table, const char* row) {
  std::string columns;
  for (const auto& column : table.key) columns += (columns.empty() ? "" : ", ") + std::string(row) + "." + column;
  return "json_array(" + (table.key.empty() ? std::string(row) + ".rowid" : columns) + ")";
}

constexpr const char* kNowUnixUs = "CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)";

}  // namespace

std::string enqueue_all_sql(const SyncedTable& table) {
  std::string order;
  for (const auto& column : table.key) order += (order.empty() ? "" : ", ") + column;
  return "INSERT INTO outbox (table_name, row_key, deleted, queued_at_unix_us) SELECT '" + table.name + "', " +
         key_expression(table, table.name.c_str()) + ", 0, " + kNowUnixUs + " FROM " + table.name + " ORDER BY " +
         (order.empty() ? std::string("rowid") : order) + ";\n";
}

namespace {

// For each version from kOutboxVersion on, the outbox's triggers on every synced table that version adds (at
// kOutboxVersion: all of them), and an entry for each row such a table already holds (an older database's
// history reaches the lab too).
std::vector<Migration> with_outbox_triggers(std::vector<Migration> migrations) {
  std::set<std::string> tracked;
  for (auto& migration : migrations) {
    if (migration.version < kOutboxVersion) continue;
    std::string sql;
    for (const auto& table : synced_tables(migration.version)) {
      if (!tracked.insert(table.name).second) continue;
      const std::string& t = table.name;
      const std::string entry = "INSERT INTO outbox (table_name, row_key, deleted, queued_at_unix_us) VALUES ('" + t + "', ";
      sql += "CREATE TRIGGER outbox_" + t + "_insert AFTER INSERT ON " + t + " BEGIN " + entry +
             key_expression(table, "NEW") + ", 0, " + kNowUnixUs + "); END;\n";
      sql += "CREATE TRIGGER outbox_" + t + "_update AFTER UPDATE ON " + t + " BEGIN " + entry +
             key_expression(table, "NEW") + ", 0, " + kNowUnixUs + "); END;\n";
      sql += "CREATE TRIGGER outbox_" + t + "_delete AFTER DELETE ON " + t + " BEGIN " + entry +
             key_expression(table, "OLD") + ", 1, " + kNowUnixUs + "); END;\n";
      sql += enqueue_all_sql(table);
    }
    migration.sql += sql;
  }
  return migrations;
}

std::vector<Migration> table_migrations() { return with_recording_tables(with_trial_columns(written_migrations())); }

}  // namespace

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> kMigrations = with_outbox_triggers(table_migrations());
  return kMigrations;
}

const std::vector<SyncedTable>& synced_tables(int version) {
  static const std::map<int, std::vector<SyncedTable>> kByVersion = [] {
    std::map<int, std::vector<SyncedTable>> by_version;
    const auto tables = table_migrations();
    for (int v = kOutboxVersion; v <= tables.back().version; ++v) by_version[v] = describe_tables(tables, v);
    return by_version;
  }();
  return kByVersion.at(version);
}

}  // namespace rig::store
