#include "host/store/store.hpp"

#include <openssl/evp.h>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <utility>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "host/store/local_time.hpp"
#include "host/store/schema.hpp"
#include "host/store/sqlite.hpp"
#include "host/store/wheel_codec.hpp"
#include "host/task/engine_state.hpp"

namespace rig::store {
namespace {

using Json = nlohmann::json;

// The side in a nullable `L`/`R` column of the trials table.
std::optional<wire::Side> side_at(const Statement& row, int column) {
  const std::string name = row.column_name(column);
  const model::FieldInfo field{name.c_str(), model::ColumnType::kText, true, 1, false, ""};
  std::optional<wire::Side> side;
  model::from_column(row.value(column), field, side);
  return side;
}

// The schema must reach every version a trial field names (host/model/trial.def).
constexpr int latest_trial_field_version() {
  int version = 1;
  for (const auto& field : model::kTrialFields) version = std::max(version, field.since_version);
  return version;
}
static_assert(kSchemaVersion >= latest_trial_field_version(), "a trial field names a schema version past kSchemaVersion");

constexpr const char* kSessionColumns =
    "s.session_id, s.session_uuid, s.subject_id, s.protocol_path, s.protocol_sha256, s.rng_seed, s.started_at_utc, "
    "s.started_at_unix_us, s.ended_at_utc, s.end_reason, s.interrupted, s.resume_count, "
    "(SELECT COUNT(*) FROM trials t WHERE t.session_id = s.session_id), "
    "(SELECT COUNT(*) FROM trials t WHERE t.session_id = s.session_id AND t.choice = 'L'), "
    "(SELECT COUNT(*) FROM trials t WHERE t.session_id = s.session_id AND t.choice = 'R'), "
    "(SELECT COUNT(*) FROM trials t WHERE t.session_id = s.session_id AND t.chose_high = 1) "
    "FROM sessions s ";

SessionInfo read_session(const Statement& row) {
  SessionInfo info;
  int column = 0;
  info.session_id = row.int64(column++);
  info.session_uuid = row.text(column++);
  info.subject_id = row.text(column++);
  info.protocol_path = row.text(column++);
  info.protocol_sha256 = row.text(column++);
  info.rng_seed = std::stoull(row.text(column++));
  info.started_at_utc = row.text(column++);
  info.started_at_unix_us = row.int64(column++);
  info.ended_at_utc = row.optional_text(column++);
  info.end_reason = row.optional_text(column++);
  info.interrupted = row.int64(column++) != 0;
  info.resume_count = row.int64(column++);
  info.trial_count = row.int64(column++);
  info.left_choices = row.int64(column++);
  info.right_choices = row.int64(column++);
  info.high_side_choices = row.int64(column++);
  return info;
}

// Column name -> index of a SELECT *, so reading a row does not depend on the table's column order.
std::map<std::string, int> column_indices(const Statement& statement) {
  std::map<std::string, int> indices;
  for (int i = 0; i < statement.column_count(); ++i) indices[statement.column_name(i)] = i;
  return indices;
}

// Fills every field of a trial or recording record from the row's column of the same name.
template <class Record>
Record read_record(const Statement& row, const std::map<std::string, int>& at, const char* table) {
  Record record;
  model::for_each_column(record, [&](const model::FieldInfo& field, auto& member) {
    const auto column = at.find(field.name);
    if (column == at.end()) throw StoreError(std::string("store: table ") + table + " has no column " + field.name, 0);
    model::from_column(row.value(column->second), field, member);
  });
  return record;
}

model::TrialRecord read_trial(const Statement& row, const std::map<std::string, int>& at) {
  return read_record<model::TrialRecord>(row, at, "trials");
}

// INSERT INTO `table` (every field) VALUES (?, ...).
template <std::size_t N>
std::string insert_sql(const char* table, const model::FieldInfo (&fields)[N]) {
  std::string columns, values;
  for (const auto& field : fields) {
    columns += (columns.empty() ? "" : ", ") + std::string(field.name);
    values += values.empty() ? "?" : ", ?";
  }
  return std::string("INSERT INTO ") + table + " (" + columns + ") VALUES (" + values + ")";
}

// Binds every field of `record` (a trial or recording record) in column order from parameter 1, runs the
// statement and resets it for the next row.
template <class Record>
void bind_and_run(Statement& statement, const Record& record, const std::string& what) {
  int index = 0;
  model::for_each_column(record, [&](const model::FieldInfo&, const auto& member) {
    statement.bind(++index, model::to_column(member));
  });
  statement.run(what);
  statement.reset();
}

// Inserts `rows` into their recording table, each with the given session id.
template <class Record>
void insert_recording(const Connection& db, std::int64_t session_id, const std::vector<Record>& rows,
                      const std::string& what) {
  if (rows.empty()) return;
  using Table = model::RecordingTable<Record>;
  static const std::string kSql = insert_sql(Table::kName, Table::kFields);
  Statement insert = db.prepare(kSql);
  for (Record row : rows) {
    row.session_id = session_id;
    bind_and_run(insert, row, what);
  }
}

// UPDATE trials SET (every trial field of kLickFieldsVersion) = ? ... WHERE session_id = ? AND trial_number = ?.
const std::string& trial_lick_update_sql() {
  static const std::string kSql = [] {
    std::string sets;
    for (const auto& field : model::kTrialFields) {
      if (field.since_version != model::kLickFieldsVersion) continue;
      sets += (sets.empty() ? "" : ", ") + std::string(field.name) + " = ?";
    }
    return "UPDATE trials SET " + sets + " WHERE session_id = ? AND trial_number = ?";
  }();
  return kSql;
}

void update_trial_licks(const Connection& db, std::int64_t session_id,
                        const std::vector<model::TrialLickUpdate>& updates, const std::string& what) {
  if (updates.empty()) return;
  Statement update = db.prepare(trial_lick_update_sql());
  for (const auto& lick_update : updates) {
    model::TrialRecord values;
    lick_update.apply(values);
    int index = 0;
    model::for_each_trial_field(std::as_const(values), [&](const model::FieldInfo& field, const auto& member) {
      if (field.since_version == model::kLickFieldsVersion) update.bind(++index, model::to_column(member));
    });
    update.bind(++index, session_id);
    update.bind(++index, lick_update.trial_number);
    update.run(what);
    update.reset();
  }
}

void insert_recording_chunk(const Connection& db, std::int64_t session_id, const model::RecordingChunk& chunk,
                            const std::string& what) {
  insert_recording(db, session_id, chunk.licks, what);
  insert_recording(db, session_id, chunk.sync_edges, what);
  insert_recording(db, session_id, chunk.camera_runs, what);
  update_trial_licks(db, session_id, chunk.trial_licks, what);
}

// The session's water_given row (its trials' rewards, dated `at_unix_us`), replacing the one an earlier end of
// the same session wrote (a resumed session ends again).
void record_session_water(const Connection& db, std::int64_t session_id, std::int64_t at_unix_us, const std::string& what) {
  model::WaterGiven row;
  row.kind = model::WaterKind::kSession;
  row.session_id = session_id;
  row.given_at_unix_us = at_unix_us;
  row.who = "rig";
  auto total = db.prepare(
      "SELECT s.subject_id, COALESCE(SUM(t.delivered_cherry_ul + t.delivered_grape_ul), 0) FROM sessions s "
      "LEFT JOIN trials t ON t.session_id = s.session_id WHERE s.session_id = ? GROUP BY s.session_id");
  total.bind(1, session_id);
  if (!total.step(what)) return;
  row.subject_id = total.text(0);
  row.volume_ul = total.real(1);
  using Table = model::RecordingTable<model::WaterGiven>;
  db.prepare(std::string("DELETE FROM ") + Table::kName + " WHERE session_id = ?").bind(1, session_id).run(what);
  static const std::string kInsert = insert_sql(Table::kName, Table::kFields);
  Statement insert = db.prepare(kInsert);
  bind_and_run(insert, row, what);
}

}  // namespace

struct Store::Impl {
  Impl(const std::string& path, OpenOptions opts, bool immutable)
      : connection(path, opts.read_only, immutable), options(std::move(opts)) {}
  Connection connection;
  OpenOptions options;
  int schema_version = 0;
};

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::Store(Store&&) noexcept = default;
Store::~Store() = default;

const std::string& Store::path() const { return impl_->connection.path(); }
int Store::schema_version() const { return impl_->schema_version; }
Connection& connection_of(const Store& store) { return store.impl_->connection; }

std::int64_t Store::now_unix_us() const {
  return impl_->options.clock_unix_us ? impl_->options.clock_unix_us() : system_clock_unix_us();
}

std::string Store::default_path() {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  if (xdg && *xdg) return std::string(xdg) + "/rig/rig.sqlite";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.local/share/rig/rig.sqlite";
}

Store Store::open(const std::string& path, OpenOptions options) {
  const bool read_only = options.read_only;
  auto parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) parent = ".";
  if (!read_only) {
    std::error_code error;
    std::filesystem::create_directories(parent, error);
    if (error) throw StoreError("store " + path + ": cannot create directory " + parent.string() + ": " + error.message(), 0);
    // SQLite needs to create the -wal and -shm files beside the database; say so instead of "unable to open".
    if (::access(parent.c_str(), W_OK) != 0) {
      throw StoreError("store " + path + ": cannot write in " + parent.string() + ": " + std::strerror(errno) +
                           " (the store needs a writable directory; use OpenOptions::reading() to only read)",
                       SQLITE_READONLY);
    }
  } else if (!std::filesystem::exists(path)) {
    throw StoreError("store " + path + ": no such database file", SQLITE_CANTOPEN);
  }
  // On a read-only filesystem nobody can change the file, and SQLite cannot create the WAL's shared memory there.
  const bool immutable = read_only && ::access(parent.c_str(), W_OK) != 0 && errno == EROFS;
  Store store(std::make_unique<Impl>(path, std::move(options), immutable));
  auto& db = store.impl_->connection;
  db.exec("PRAGMA busy_timeout = " + std::to_string(kBusyTimeoutMs), "set busy timeout");
  db.exec("PRAGMA foreign_keys = ON", "enable foreign keys");
  db.exec("PRAGMA cache_size = -" + std::to_string(std::max(64, store.impl_->options.cache_kib)), "set cache size");
  // The first read of the file: a corrupt or foreign file fails here with "file is not a database".
  bool versioned = false;
  {
    auto has_version_table = db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'schema_version'");
    has_version_table.step("read the schema");
    versioned = has_version_table.int64(0) != 0;
  }
  if (!read_only) {
    std::string journal_mode;
    {
      auto mode = db.prepare("PRAGMA journal_mode = WAL");
      mode.step("enable WAL");
      journal_mode = mode.text(0);
    }
    if (journal_mode != "wal") throw StoreError("store " + path + ": cannot enable WAL (journal mode " + journal_mode + ")", 0);
    db.exec("PRAGMA synchronous = FULL", "set synchronous");
    if (!versioned) db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at_utc TEXT NOT NULL)", "create schema_version");
  }
  int version = 0;
  if (versioned || !read_only) {
    auto current = db.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version");
    current.step("read the schema version");
    version = static_cast<int>(current.int64(0));
    current.run("read the schema version");
  }
  if (version > kSchemaVersion) {
    throw StoreError("store " + path + ": schema version " + std::to_string(version) +
                         " is newer than this rig program knows (" + std::to_string(kSchemaVersion) + "); upgrade rig",
                     0);
  }
  if (read_only && version < kSchemaVersion) {
    throw StoreError("store " + path + ": schema version " + std::to_string(version) + " needs migration to " +
                         std::to_string(kSchemaVersion) + "; open it once read-write (e.g. rig run)",
                     0);
  }
  for (const auto& migration : migrations()) {
    if (migration.version <= version) continue;
    const std::string what = "migrate to schema version " + std::to_string(migration.version);
    Transaction transaction(db, what);
    // Another process (rigd's lab pusher, a second `rig` command) may have opened the same new file at the same
    // time and applied this migration since the version was read: read it again under the write lock.
    {
      auto current = db.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version");
      current.step(what);
      version = static_cast<int>(current.int64(0));
    }
    if (migration.version <= version) continue;
    db.exec(migration.sql, what);
    db.prepare("INSERT INTO schema_version (version, applied_at_utc) VALUES (?, ?)")
        .bind(1, migration.version)
        .bind(2, utc_iso8601(store.now_unix_us()))
        .run(what);
    transaction.commit();
    version = migration.version;
  }
  store.impl_->schema_version = version;
  return store;
}

void Store::upsert_subject(const task::Subject& subject) {
  auto& db = impl_->connection;
  const std::string what = "store subject " + subject.id;
  Transaction transaction(db, what);
  // The columns in bind order; the first is the key.
  static const std::string kSql = [] {
    const char* columns[] = {"subject_id", "controllable_flavour", "stage", "daily_water_target_ml",
                             "daily_water_max_ml", "sex", "date_of_birth", "strain", "genotype", "updated_at_unix_us"};
    std::string names, values, updates;
    for (const char* column : columns) {
      names += std::string(names.empty() ? "" : ", ") + column;
      values += values.empty() ? "?" : ", ?";
      if (column != columns[0]) updates += std::string(updates.empty() ? "" : ", ") + column + " = excluded." + column;
    }
    return "INSERT INTO subjects (" + names + ") VALUES (" + values + ") ON CONFLICT (subject_id) DO UPDATE SET " +
           updates;
  }();
  db.prepare(kSql)
      .bind(1, subject.id)
      .bind(2, task::flavour_name(subject.controllable))
      .bind(3, subject.stage)
      .bind(4, subject.daily_water_target_ml)
      .bind(5, subject.daily_water_max_ml)
      .bind(6, model::name_of(task::kSexNames, subject.sex))
      .bind(7, subject.date_of_birth ? std::optional<std::string>(task::format_date(*subject.date_of_birth))
                                     : std::optional<std::string>())
      .bind(8, subject.strain)
      .bind(9, subject.genotype)
      .bind(10, now_unix_us())
      .run(what);
  transaction.commit();
}

std::int64_t Store::begin_session(const SessionStart& start) {
  upsert_subject(start.subject);
  auto& db = impl_->connection;
  const std::string what = "begin session of " + start.subject.id;
  Transaction transaction(db, what);
  db.prepare(
        "INSERT INTO sessions (subject_id, controllable_flavour, protocol_path, protocol_text, protocol_sha256, "
        "rig_config_path, rig_config_text, valve_calibration_json, device_kind, firmware_build_id, hardware_json, "
        "host_version, rng_seed, started_at_utc, started_at_unix_us, initial_state_json, session_uuid) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, " RIG_SQL_UUID4 ")")
      .bind(1, start.subject.id)
      .bind(2, task::flavour_name(start.subject.controllable))
      .bind(3, start.protocol_path)
      .bind(4, start.protocol_text)
      .bind(5, sha256_hex(start.protocol_text))
      .bind(6, start.rig_config_path)
      .bind(7, start.rig_config_text)
      .bind(8, start.valve_calibration_json)
      .bind(9, start.device_kind)
      .bind(10, start.firmware_build_id)
      .bind(11, start.hardware_json)
      .bind(12, start.host_version)
      .bind(13, std::to_string(start.rng_seed))
      .bind(14, utc_iso8601(start.started_at_unix_us))
      .bind(15, start.started_at_unix_us)
      .bind(16, start.initial_state_json)
      .run(what);
  const auto session_id = db.last_insert_rowid();
  db.prepare("INSERT INTO session_states (session_id, after_trial_number, state_json) VALUES (?, 0, ?)")
      .bind(1, session_id)
      .bind(2, start.initial_state_json)
      .run(what);
  transaction.commit();
  return session_id;
}

void Store::end_session(std::int64_t session_id, const std::string& reason, const std::string& summary_json) {
  auto& db = impl_->connection;
  const std::string what = "end session " + std::to_string(session_id);
  const auto now_us = now_unix_us();
  Transaction transaction(db, what);
  db.prepare(
        "UPDATE sessions SET ended_at_utc = ?, ended_at_unix_us = ?, end_reason = ?, summary_json = ?, "
        "interrupted = 0 WHERE session_id = ? AND ended_at_unix_us IS NULL")
      .bind(1, utc_iso8601(now_us))
      .bind(2, now_us)
      .bind(3, reason)
      .bind(4, summary_json)
      .bind(5, session_id)
      .run(what);
  if (db.changes() != 1) throw StoreError("store " + path() + ": " + what + ": no such running session", 0);
  record_session_water(db, session_id, now_us, what);
  transaction.commit();
}

std::vector<std::int64_t> Store::mark_interrupted_sessions() {
  auto& db = impl_->connection;
  const std::string what = "mark interrupted sessions";
  Transaction transaction(db, what);
  std::vector<std::pair<std::int64_t, std::int64_t>> open;  // session id, last sign of life
  auto select = db.prepare(
      "SELECT s.session_id, COALESCE((SELECT MAX(committed_at_unix_us) FROM trials t WHERE t.session_id = "
      "s.session_id), s.started_at_unix_us) FROM sessions s WHERE s.ended_at_unix_us IS NULL ORDER BY s.session_id");
  while (select.step(what)) open.emplace_back(select.int64(0), select.int64(1));
  std::vector<std::int64_t> ids;
  for (const auto& [session_id, last_us] : open) {
    db.prepare(
          "UPDATE sessions SET ended_at_utc = ?, ended_at_unix_us = ?, end_reason = ?, interrupted = 1 "
          "WHERE session_id = ?")
        .bind(1, utc_iso8601(last_us))
        .bind(2, last_us)
        .bind(3, kInterruptedReason)
        .bind(4, session_id)
        .run(what);
    record_session_water(db, session_id, last_us, what);
    ids.push_back(session_id);
  }
  transaction.commit();
  return ids;
}

namespace {

// `sql` (one `?`, the session's id) stepped to the session's row; StoreError "WHAT: no such session" without one.
Statement session_row(const Connection& db, const std::string& sql, std::int64_t session_id, const std::string& what) {
  auto select = db.prepare(sql);
  select.bind(1, session_id);
  if (!select.step(what)) throw StoreError("store " + db.path() + ": " + what + ": no such session", 0);
  return select;
}

// The subject of a session that is still running; StoreError when it does not exist or has ended.
std::string running_session_subject(const Connection& db, std::int64_t session_id, const std::string& what) {
  auto session = session_row(db, "SELECT subject_id, ended_at_unix_us FROM sessions WHERE session_id = ?", session_id, what);
  if (!session.is_null(1)) throw StoreError("store " + db.path() + ": " + what + ": the session has ended", 0);
  return session.text(0);
}

// INSERT INTO trials (every field of trial.def) VALUES (?, ...).
const std::string& trial_insert_sql() {
  static const std::string kSql = insert_sql("trials", model::kTrialFields);
  return kSql;
}

// The trial INSERT, prepared once per commit and reused for every row of a batch (preparing a 43-column
// statement costs more than running it).
Statement prepare_trial_insert(const Connection& db) { return db.prepare(trial_insert_sql()); }

void insert_trial_row(Statement& insert, std::int64_t session_id, const std::string& subject_id,
                      const model::TrialRecord& trial, std::int64_t committed_at_unix_us, const std::string& what) {
  model::TrialRecord row = trial;
  row.session_id = session_id;
  row.subject_id = subject_id;
  row.committed_at_unix_us = committed_at_unix_us;
  bind_and_run(insert, row, what);
}

void save_state(const Connection& db, std::int64_t session_id, std::uint32_t trial_number, const std::string& state_json,
                const std::string& what) {
  db.prepare(
        "INSERT INTO session_states (session_id, after_trial_number, state_json) VALUES (?, ?, ?) "
        "ON CONFLICT (session_id) DO UPDATE SET after_trial_number = excluded.after_trial_number, "
        "state_json = excluded.state_json")
      .bind(1, session_id)
      .bind(2, trial_number)
      .bind(3, state_json)
      .run(what);
}

}  // namespace

void Store::commit_trial(std::int64_t session_id, const model::TrialRecord& trial,
                         const std::vector<model::WheelSamples>& wheel, const task::EngineState& state_after,
                         const model::RecordingChunk& recording) {
  auto& db = impl_->connection;
  const std::string what =
      "commit trial " + std::to_string(trial.trial_number) + " of session " + std::to_string(session_id);
  const auto trace = encode_wheel_trace(wheel);
  const auto state_json = task::engine_state_to_json(state_after);
  Transaction transaction(db, what);
  const auto subject_id = running_session_subject(db, session_id, what);
  Statement insert = prepare_trial_insert(db);
  insert_trial_row(insert, session_id, subject_id, trial, now_unix_us(), what);
  if (trace.sample_count > 0) {
    db.prepare(
          "INSERT INTO wheel_traces (session_id, trial_number, t0_device_us, period_us, sample_count, encoding, data) "
          "VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(1, session_id)
        .bind(2, trial.trial_number)
        .bind(3, trace.t0_us)
        .bind(4, trace.period_us)
        .bind(5, trace.sample_count)
        .bind(6, kWheelEncodingVersion)
        .bind(7, trace.data)
        .run(what);
  }
  insert_recording_chunk(db, session_id, recording, what);
  save_state(db, session_id, trial.trial_number, state_json, what);
  transaction.commit();
}

void Store::record(std::int64_t session_id, const model::RecordingChunk& recording) {
  if (recording.empty()) return;
  auto& db = impl_->connection;
  const std::string what = "record licks, sync edges and camera runs of session " + std::to_string(session_id);
  Transaction transaction(db, what);
  running_session_subject(db, session_id, what);
  insert_recording_chunk(db, session_id, recording, what);
  transaction.commit();
}

template <class Record>
void Store::for_each_recording(std::int64_t session_id, const std::function<void(const Record&)>& visit) const {
  using Table = model::RecordingTable<Record>;
  auto select = impl_->connection.prepare(std::string("SELECT * FROM ") + Table::kName + " WHERE session_id = ? ORDER BY rowid");
  select.bind(1, session_id);
  const auto at = column_indices(select);
  const std::string what = std::string("read the ") + Table::kName + " of session " + std::to_string(session_id);
  while (select.step(what)) {
    visit(read_record<Record>(select, at, Table::kName));
  }
}

template void Store::for_each_recording<model::LickRecord>(std::int64_t,
                                                           const std::function<void(const model::LickRecord&)>&) const;
template void Store::for_each_recording<model::SyncRecord>(std::int64_t,
                                                           const std::function<void(const model::SyncRecord&)>&) const;
template void Store::for_each_recording<model::CameraRecord>(
    std::int64_t, const std::function<void(const model::CameraRecord&)>&) const;

void Store::commit_trials(std::int64_t session_id, const std::vector<model::TrialRecord>& trials,
                          const task::EngineState& state_after) {
  if (trials.empty()) return;
  auto& db = impl_->connection;
  const std::string what = "commit " + std::to_string(trials.size()) + " trials of session " + std::to_string(session_id);
  const auto state_json = task::engine_state_to_json(state_after);
  const auto committed_at_unix_us = now_unix_us();
  Transaction transaction(db, what);
  const auto subject_id = running_session_subject(db, session_id, what);
  Statement insert = prepare_trial_insert(db);
  for (const auto& trial : trials) insert_trial_row(insert, session_id, subject_id, trial, committed_at_unix_us, what);
  save_state(db, session_id, trials.back().trial_number, state_json, what);
  transaction.commit();
}

std::int64_t Store::log_event(std::optional<std::int64_t> session_id, const std::string& kind, std::int64_t t_us,
                              const std::string& detail_json) {
  if (!Json::accept(detail_json)) throw std::invalid_argument("event " + kind + ": detail is not JSON: " + detail_json);
  auto& db = impl_->connection;
  const std::string what = "log event " + kind;
  Transaction transaction(db, what);
  db.prepare("INSERT INTO events (session_id, kind, t_us, logged_at_unix_us, detail_json) VALUES (?, ?, ?, ?, ?)")
      .bind(1, session_id)
      .bind(2, kind)
      .bind(3, t_us)
      .bind(4, now_unix_us())
      .bind(5, detail_json)
      .run(what);
  const auto event_id = db.last_insert_rowid();
  transaction.commit();
  return event_id;
}

std::optional<SessionInfo> Store::latest_session(const std::string& subject_id) const {
  auto select = impl_->connection.prepare(std::string("SELECT ") + kSessionColumns +
                                          "WHERE s.subject_id = ? ORDER BY s.session_id DESC LIMIT 1");
  select.bind(1, subject_id);
  if (!select.step("find the latest session of " + subject_id)) return std::nullopt;
  return read_session(select);
}

std::optional<SessionInfo> Store::session(std::int64_t session_id) const {
  auto select = impl_->connection.prepare(std::string("SELECT ") + kSessionColumns + "WHERE s.session_id = ?");
  select.bind(1, session_id);
  if (!select.step("read session " + std::to_string(session_id))) return std::nullopt;
  return read_session(select);
}

std::vector<SessionInfo> Store::sessions(const std::string& subject_id) const {
  auto select = impl_->connection.prepare(std::string("SELECT ") + kSessionColumns +
                                          "WHERE ? = '' OR s.subject_id = ? ORDER BY s.session_id");
  select.bind(1, subject_id).bind(2, subject_id);
  std::vector<SessionInfo> out;
  while (select.step("list sessions")) out.push_back(read_session(select));
  return out;
}

SessionStart Store::session_start(std::int64_t session_id) const {
  const std::string what = "read the start of session " + std::to_string(session_id);
  auto select = session_row(
      impl_->connection,
      "SELECT s.subject_id, s.controllable_flavour, s.protocol_path, s.protocol_text, s.rig_config_path, "
      "s.rig_config_text, s.valve_calibration_json, s.device_kind, s.firmware_build_id, s.hardware_json, "
      "s.host_version, s.rng_seed, s.started_at_unix_us, s.initial_state_json, j.sex, j.date_of_birth, j.strain, "
      "j.genotype FROM sessions s JOIN subjects j USING (subject_id) WHERE s.session_id = ?",
      session_id, what);
  SessionStart start;
  start.subject.id = select.text(0);
  const auto* flavour = model::value_of(model::kFlavourNames, select.text(1));
  if (!flavour) throw StoreError("store " + path() + ": " + what + ": unknown flavour '" + select.text(1) + "'", 0);
  start.subject.controllable = *flavour;
  start.protocol_path = select.text(2);
  start.protocol_text = select.text(3);
  start.rig_config_path = select.text(4);
  start.rig_config_text = select.text(5);
  start.valve_calibration_json = select.text(6);
  start.device_kind = select.text(7);
  start.firmware_build_id = select.text(8);
  start.hardware_json = select.text(9);
  start.host_version = select.text(10);
  start.rng_seed = std::stoull(select.text(11));
  start.started_at_unix_us = select.int64(12);
  start.initial_state_json = select.text(13);
  if (const auto* sex = model::value_of(task::kSexNames, select.optional_text(14).value_or("U"))) {
    start.subject.sex = *sex;
  }
  if (const auto birth = select.optional_text(15)) start.subject.date_of_birth = task::parse_date(*birth);
  start.subject.strain = select.optional_text(16).value_or("");
  start.subject.genotype = select.optional_text(17).value_or("");
  return start;
}

ResumePoint Store::resume_point(std::int64_t session_id) const {
  const std::string what = "read the resume point of session " + std::to_string(session_id);
  auto select = session_row(
      impl_->connection,
      "SELECT s.subject_id, st.after_trial_number, st.state_json, s.rng_seed, s.protocol_path, s.protocol_text, "
      "s.protocol_sha256, s.rig_config_text FROM sessions s JOIN session_states st USING (session_id) "
      "WHERE s.session_id = ?",
      session_id, what);
  ResumePoint point;
  point.session_id = session_id;
  point.subject_id = select.text(0);
  point.last_trial_number = static_cast<std::uint32_t>(select.int64(1));
  point.state_json = select.text(2);
  point.rng_seed = std::stoull(select.text(3));
  point.protocol_path = select.text(4);
  point.protocol_text = select.text(5);
  point.protocol_sha256 = select.text(6);
  point.rig_config_text = select.text(7);
  return point;
}

void Store::resume_session(std::int64_t session_id, const ResumeInfo& info) {
  auto& db = impl_->connection;
  const std::string what = "resume session " + std::to_string(session_id);
  Transaction transaction(db, what);
  std::optional<std::string> previous_end;
  {
    auto select = db.prepare("SELECT end_reason FROM sessions WHERE session_id = ?");
    select.bind(1, session_id);
    if (!select.step(what)) throw StoreError("store " + path() + ": " + what + ": no such session", 0);
    previous_end = select.optional_text(0);
  }
  db.prepare(
        "UPDATE sessions SET ended_at_utc = NULL, ended_at_unix_us = NULL, end_reason = NULL, summary_json = NULL, "
        "interrupted = 0, resume_count = resume_count + 1 WHERE session_id = ?")
      .bind(1, session_id)
      .run(what);
  const Json detail{{"previous_end_reason", previous_end ? Json(*previous_end) : Json(nullptr)},
                    {"firmware_build_id", info.firmware_build_id},
                    {"hardware", Json::parse(info.hardware_json.empty() ? "null" : info.hardware_json)},
                    {"host_version", info.host_version}};
  const auto now_us = now_unix_us();
  db.prepare("INSERT INTO events (session_id, kind, t_us, logged_at_unix_us, detail_json) VALUES (?, ?, ?, ?, ?)")
      .bind(1, session_id)
      .bind(2, "session_resumed")
      .bind(3, now_us)
      .bind(4, now_us)
      .bind(5, detail.dump())
      .run(what);
  transaction.commit();
}

std::vector<StoredTrial> Store::trials(std::int64_t session_id) const {
  std::vector<StoredTrial> out;
  for_each_trial(session_id, [&](const StoredTrial& trial) { out.push_back(trial); });
  return out;
}

void Store::for_each_trial(std::int64_t session_id, const std::function<void(const StoredTrial&)>& visit,
                           std::int64_t after_trial_number, std::int64_t limit) const {
  auto select = impl_->connection.prepare(
      "SELECT * FROM trials WHERE session_id = ? AND trial_number > ? ORDER BY trial_number LIMIT ?");
  select.bind(1, session_id);
  select.bind(2, after_trial_number);
  select.bind(3, limit);
  const auto at = column_indices(select);
  while (select.step("read the trials of session " + std::to_string(session_id))) visit(read_trial(select, at));
}

namespace {

std::vector<model::WheelSamples> decode_stored_trace(const Statement& row, std::int64_t trial_number) {
  // Columns: t0_device_us, period_us, sample_count, encoding, data.
  if (row.int64(3) != kWheelEncodingVersion) {
    throw std::invalid_argument("wheel trace of trial " + std::to_string(trial_number) + ": unknown encoding " +
                                std::to_string(row.int64(3)));
  }
  return decode_wheel_trace({row.int64(0), row.int64(1), row.int64(2), row.blob(4)});
}

}  // namespace

std::vector<model::WheelSamples> Store::wheel_trace(std::int64_t session_id, std::uint32_t trial_number) const {
  auto select = impl_->connection.prepare(
      "SELECT t0_device_us, period_us, sample_count, encoding, data FROM wheel_traces "
      "WHERE session_id = ? AND trial_number = ?");
  select.bind(1, session_id).bind(2, trial_number);
  if (!select.step("read a wheel trace")) return {};
  return decode_stored_trace(select, trial_number);
}

void Store::for_each_wheel_trace(
    std::int64_t session_id,
    const std::function<void(std::uint32_t, const std::vector<model::WheelSamples>&)>& visit) const {
  auto select = impl_->connection.prepare(
      "SELECT t0_device_us, period_us, sample_count, encoding, data, trial_number FROM wheel_traces "
      "WHERE session_id = ? ORDER BY trial_number");
  select.bind(1, session_id);
  while (select.step("read the wheel traces of session " + std::to_string(session_id))) {
    const auto trial_number = static_cast<std::uint32_t>(select.int64(5));
    visit(trial_number, decode_stored_trace(select, trial_number));
  }
}

std::vector<StoredEvent> Store::events(std::int64_t session_id) const {
  auto select = impl_->connection.prepare(
      "SELECT event_id, session_id, kind, t_us, logged_at_unix_us, detail_json FROM events WHERE session_id = ? "
      "ORDER BY event_id");
  select.bind(1, session_id);
  std::vector<StoredEvent> out;
  while (select.step("read events")) {
    out.push_back({select.int64(0), select.optional_int64(1), select.text(2), select.int64(3), select.int64(4),
                   select.text(5)});
  }
  return out;
}

std::vector<SubjectTrial> Store::subject_trials(const std::string& subject_id) const {
  auto select = impl_->connection.prepare(
      "SELECT t.session_id, t.trial_number, t.choice, t.free_choice, t.controllable_delivered, "
      "t.distractor_delivered, t.p_controllable_left, t.p_controllable_right, t.p_distractor "
      "FROM sessions s INDEXED BY sessions_by_subject JOIN trials t ON t.session_id = s.session_id "
      "WHERE s.subject_id = ? ORDER BY s.session_id, t.trial_number");
  select.bind(1, subject_id);
  std::vector<SubjectTrial> out;
  while (select.step("read the trials of subject " + subject_id)) {
    SubjectTrial t;
    t.session_id = select.int64(0);
    t.trial_number = static_cast<std::uint32_t>(select.int64(1));
    t.choice = side_at(select, 2);
    t.free_choice = select.int64(3) != 0;
    t.controllable_delivered = select.int64(4) != 0;
    t.distractor_delivered = select.int64(5) != 0;
    t.p_controllable_by_side = {select.real(6), select.real(7)};
    t.p_distractor = select.real(8);
    out.push_back(t);
  }
  return out;
}

double Store::water_today_ul(const std::string& subject_id, std::chrono::year_month_day local_date) const {
  const auto next = std::chrono::year_month_day(std::chrono::sys_days(local_date) + std::chrono::days(1));
  auto select = impl_->connection.prepare(
      "SELECT COALESCE(SUM(t.delivered_cherry_ul + t.delivered_grape_ul), 0) "
      "FROM sessions s INDEXED BY sessions_by_subject JOIN trials t ON t.session_id = s.session_id "
      "WHERE s.subject_id = ?1 AND (s.ended_at_unix_us IS NULL OR s.ended_at_unix_us >= ?2) "
      "AND t.committed_at_unix_us >= ?2 AND t.committed_at_unix_us < ?3");
  // Sessions that ended before the day are not read (an interrupted or resumed one has no end yet).
  select.bind(1, subject_id).bind(2, local_midnight_unix_us(local_date)).bind(3, local_midnight_unix_us(next));
  select.step("sum today's water of " + subject_id);
  return select.real(0);
}

std::map<std::chrono::sys_days, double> Store::session_water_by_day(const std::string& subject_id,
                                                                  std::chrono::sys_days first,
                                                                  std::chrono::sys_days last) const {
  std::map<std::chrono::sys_days, double> by_day;
  for (auto day = first; day <= last; day += std::chrono::days(1)) {
    by_day[day] = water_today_ul(subject_id, std::chrono::year_month_day(day));
  }
  return by_day;
}

template <class Record>
void Store::add_welfare(const Record& row) {
  using Table = model::RecordingTable<Record>;
  auto& db = impl_->connection;
  const std::string what = std::string("add to ") + Table::kName + " of " + row.subject_id;
  Transaction transaction(db, what);
  static const std::string kInsert = insert_sql(Table::kName, Table::kFields);
  Statement insert = db.prepare(kInsert);
  bind_and_run(insert, row, what);
  transaction.commit();
}

template <class Record>
std::vector<Record> Store::welfare_rows(const std::string& subject_id) const {
  using Table = model::RecordingTable<Record>;
  // Rows are read in the order of their second column, the time they were taken (welfare.def).
  const std::string by = std::string(Table::kFields[0].name);
  auto select = impl_->connection.prepare(std::string("SELECT * FROM ") + Table::kName + " WHERE ?1 = '' OR " + by +
                                          " = ?1 ORDER BY " + Table::kFields[1].name + ", rowid");
  select.bind(1, subject_id);
  const auto at = column_indices(select);
  const std::string what = std::string("read the ") + Table::kName + (subject_id.empty() ? "" : " of " + subject_id);
  std::vector<Record> rows;
  while (select.step(what)) rows.push_back(read_record<Record>(select, at, Table::kName));
  return rows;
}

template void Store::add_welfare<model::Weighing>(const model::Weighing&);
template void Store::add_welfare<model::WaterGiven>(const model::WaterGiven&);
template std::vector<model::Weighing> Store::welfare_rows<model::Weighing>(const std::string&) const;
template std::vector<model::WaterGiven> Store::welfare_rows<model::WaterGiven>(const std::string&) const;

std::string Store::integrity_check() const {
  auto check = impl_->connection.prepare("PRAGMA integrity_check");
  std::string out;
  while (check.step("check integrity")) out += (out.empty() ? "" : "\n") + check.text(0);
  return out;
}

std::string utc_iso8601(std::int64_t unix_us) {
  const auto seconds = static_cast<std::time_t>(unix_us >= 0 ? unix_us / 1'000'000 : (unix_us - 999'999) / 1'000'000);
  const auto micros = unix_us - static_cast<std::int64_t>(seconds) * 1'000'000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[96];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(micros));
  return text;
}

std::string sha256_hex(const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed (OpenSSL EVP_Digest)");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

std::string calibration_json(const task::RigConfig& rig) {
  Json json = Json::object();
  for (const auto& [name, valve] : task::kFlavourNames) {
    const auto& table = rig.table(valve);
    Json points = Json::array();
    for (const auto& point : table.points) points.push_back({{"open_us", point.open_us}, {"volume_ul", point.volume_ul}});
    json[name] = {{"calibrated_on", task::format_date(table.calibrated_on)}, {"points", points}};
  }
  return json.dump();
}

}  // namespace rig::store
