#include "host/lab/lab_schema.hpp"

#include <map>
#include <set>

#include "host/lab/lab_roles.hpp"
#include "host/store/store.hpp"

namespace rig::lab {
namespace {

std::string column_definition(const store::SyncedColumn& column) {
  return column.name + " " + lab_column_type(column.type) + (column.not_null ? " NOT NULL" : "");
}

// rig_id references rigs on the tables keyed by one column of their own (subjects, sessions). The others hold a
// row per trial or finer, pushed in the transaction that registers their rig: a foreign-key check on each of
// their rows (a lookup and a row lock on `rigs`) would cost the push about a fifth of its rate for nothing.
std::string create_table(const store::SyncedTable& table) {
  const bool references_rigs = table.key.size() == 1;
  std::string sql = "CREATE TABLE " + table.name + " (\n  rig_id text NOT NULL" + (references_rigs ? " REFERENCES rigs (rig_id)" : "");
  if (table.key.empty()) sql += ",\n  " + std::string(store::kRowIdColumn) + " bigint NOT NULL";
  for (const auto& column : table.columns) sql += ",\n  " + column_definition(column);
  std::string key = "rig_id";
  for (const auto& column : table.key.empty() ? std::vector<std::string>{store::kRowIdColumn} : table.key) key += ", " + column;
  return sql + ",\n  PRIMARY KEY (" + key + ")\n);\n";
}

// Row-level security (docs/lab.md, "Roles"): every role reads every row; a role writes only the rows whose
// rig_id is its own name, which is how a rig's role is named (`rig lab add-rig ID`). The tables' owner (the
// administrator who ran `rig lab init`) is not subject to it; what each role may do at all comes from its grants
// (grant_lab_privileges).
std::string row_security(const std::string& table) {
  return "ALTER TABLE " + table + " ENABLE ROW LEVEL SECURITY;\n" +
         "CREATE POLICY lab_read ON " + table + " FOR SELECT USING (true);\n" +
         "CREATE POLICY rig_insert ON " + table + " FOR INSERT WITH CHECK (rig_id = current_user);\n" +
         "CREATE POLICY rig_update ON " + table + " FOR UPDATE USING (rig_id = current_user) WITH CHECK (rig_id = current_user);\n" +
         "CREATE POLICY rig_delete ON " + table + " FOR DELETE USING (rig_id = current_user);\n";
}

std::vector<LabMigration> generate() {
  std::vector<LabMigration> migrations;
  std::map<std::string, std::set<std::string>> known;  // table -> columns created by earlier versions
  for (int version = store::kOutboxVersion; version <= store::kSchemaVersion; ++version) {
    std::string sql;
    if (version == store::kOutboxVersion) {
      sql += R"sql(CREATE TABLE lab_schema_version (
  version integer PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE rigs (
  rig_id text PRIMARY KEY,
  store_uuid text NOT NULL,
  store_schema_version integer NOT NULL,
  first_push_at timestamptz NOT NULL DEFAULT now(),
  )sql" + std::string(kRigLastPushAt) + " timestamptz NOT NULL DEFAULT now(),\n  " + kRigBacklogEntries +
             " bigint NOT NULL DEFAULT 0,\n  " + kRigBacklogOldestUnixUs + " bigint\n);\n";
      sql += row_security("rigs");
    }
    for (const auto& table : store::synced_tables(version)) {
      auto& columns = known[table.name];
      if (columns.empty()) {
        sql += create_table(table) + row_security(table.name);
        for (const auto& column : table.columns) columns.insert(column.name);
        continue;
      }
      for (const auto& column : table.columns) {
        if (columns.insert(column.name).second) {
          sql += "ALTER TABLE " + table.name + " ADD COLUMN " + column.name + " " + lab_column_type(column.type) + ";\n";
        }
      }
    }
    // The lab page's and the rigs' reads: a subject's sessions across rigs, then their trials by the trials'
    // primary key (rig_id, session_id, ...). No second index on the largest table: each costs every push.
    // The lab page's last alert of each rig: alerts are a few rows among many events, so a partial index.
    if (version == store::kOutboxVersion) {
      sql += "CREATE INDEX sessions_by_subject ON sessions (subject_id, started_at_unix_us);\n";
      sql += "CREATE INDEX events_alerts ON events (rig_id, logged_at_unix_us) WHERE kind = 'alert';\n";
    }
    migrations.push_back({version, sql});
  }
  return migrations;
}

}  // namespace

const char* lab_column_type(store::SqlType type) {
  switch (type) {
    case store::SqlType::kInteger: return "bigint";
    case store::SqlType::kReal: return "double precision";
    case store::SqlType::kBlob: return "bytea";
    case store::SqlType::kText: break;
  }
  return "text";
}

const std::vector<LabMigration>& lab_migrations() {
  static const std::vector<LabMigration> kMigrations = generate();
  return kMigrations;
}

int lab_schema_version(PgConnection& lab) {
  const auto exists = lab.exec("SELECT to_regclass('lab_schema_version') IS NOT NULL", "read the lab schema version");
  if (exists.text(0, 0) != "t") return 0;
  const auto version = lab.exec("SELECT COALESCE(MAX(version), 0) FROM lab_schema_version", "read the lab schema version");
  return static_cast<int>(version.int64(0, 0));
}

int migrate_lab(PgConnection& lab) {
  int before = -1;
  for (const auto& migration : lab_migrations()) {
    const std::string what = "migrate the lab schema to version " + std::to_string(migration.version);
    PgTransaction transaction(lab, what);
    // One migrator at a time: a second waits here, then finds the version applied.
    lab.exec("SELECT pg_advisory_xact_lock(7318001)", what);
    const int current = lab_schema_version(lab);
    if (before < 0) before = current;
    if (current > store::kSchemaVersion) {
      throw LabError("lab database " + lab.server() + ": schema version " + std::to_string(current) +
                     " is newer than this rig program knows (" + std::to_string(store::kSchemaVersion) + "); upgrade rig");
    }
    if (migration.version <= current) continue;
    lab.exec(migration.sql, what);
    lab.exec("INSERT INTO lab_schema_version (version) VALUES (" + std::to_string(migration.version) + ")", what);
    transaction.commit();
  }
  grant_lab_privileges(lab);
  return before < 0 ? 0 : before;
}

}  // namespace rig::lab
