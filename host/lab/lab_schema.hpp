// The lab database's schema (docs/lab.md): generated from the store's synced tables (host/store/outbox.hpp), so
// the lab carries the same field tables as every rig's SQLite, never a second copy.
//
// Every synced table becomes a lab table of the same name with `rig_id` first and the same columns (INTEGER ->
// bigint, REAL -> double precision, TEXT -> text, BLOB -> bytea, NOT NULL kept); its primary key is (rig_id,
// the store's primary key), or (rig_id, row_id) for a table keyed by SQLite's row id, so a re-sent row is an
// idempotent upsert. `rigs` holds each rig's identity (its store's uuid), its last push and its backlog then.
//
// Lab versions are the store's schema versions from store::kOutboxVersion on: version v creates the tables and
// columns the store's version v added (the first creates them all). A lab at version v takes pushes from rigs
// at any version up to v.
#pragma once

#include <string>
#include <vector>

#include "host/lab/pg.hpp"
#include "host/store/outbox.hpp"

namespace rig::lab {

// Columns of the lab's own `rigs` table (no store table has them) that the push writes and the lab page reads.
inline constexpr const char* kRigLastPushAt = "last_push_at";        // the server's time of the rig's last push
inline constexpr const char* kRigBacklogEntries = "backlog_entries";  // outbox entries waiting when it began
inline constexpr const char* kRigBacklogOldestUnixUs = "backlog_oldest_unix_us";  // when the oldest of them was queued (rig clock)

struct LabMigration {
  int version;
  std::string sql;
};

// Every lab migration in order. Pure; thread-safe (computed once).
const std::vector<LabMigration>& lab_migrations();

// The lab's schema version (0: an empty database). Throws LabError.
int lab_schema_version(PgConnection& lab);

// Creates or migrates the lab schema to the newest version, each migration in its own transaction (two rigs or
// operators running it at once wait for each other). Returns the version it was at before. Throws LabError
// (the failed migration is rolled back), also when the database is newer than this program.
int migrate_lab(PgConnection& lab);

// The lab's type for a store column. Pure; thread-safe.
const char* lab_column_type(store::SqlType type);

}  // namespace rig::lab
