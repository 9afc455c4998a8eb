// The outbox: what the lab database (host/lab, DESIGN.md decision 12) has not yet received.
//
// From schema version 5 on, every synced table of the store has three triggers that append (table, key,
// deleted) to the `outbox` table in the same transaction as the row's insert, update or delete: whatever
// writes a row (a trial commit, a weighing, a session's end), its outbox entry is committed with it or not at
// all. The lab sync reads a batch (Store::outbox_batch), upserts it into PostgreSQL and only then acknowledges it
// here (Store::outbox_acknowledge); a batch re-sent after a lost acknowledgement is an idempotent upsert there.
//
// The synced tables and their columns are not listed by hand: they are read from the store's own schema (every
// table but its bookkeeping), so the lab schema (host/lab/lab_schema.cpp) follows the store's field tables and
// migrations.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace rig::store {

// The schema version that added the outbox (and sessions.session_uuid).
inline constexpr int kOutboxVersion = 5;
// The lab's column for the SQLite row id of a table without a primary key (licks, sync edges, welfare rows).
inline constexpr const char* kRowIdColumn = "row_id";

enum class SqlType { kInteger, kReal, kText, kBlob };

// A column's value as SQLite holds it.
using SqlValue = std::variant<std::monostate, std::int64_t, double, std::string, std::vector<std::uint8_t>>;

struct SyncedColumn {
  std::string name;
  SqlType type = SqlType::kText;  // from the declared type: INTEGER, REAL, TEXT, BLOB
  bool not_null = false;
};

// A table the outbox tracks.
struct SyncedTable {
  std::string name;
  std::vector<SyncedColumn> columns;  // in the table's column order
  std::vector<std::string> key;       // the primary key's columns; empty: keyed by the row id (kRowIdColumn)
};

// The tables the outbox tracks at schema `version` (kOutboxVersion .. kSchemaVersion): every table of the store
// except schema_version, session_states (the engine state a resume needs, private to the rig), the outbox and
// lab_sync_state, with the columns and primary key the store's migrations give them (read from SQLite's own
// description of a database migrated to that version). Thread-safe (computed once). Throws std::out_of_range
// for a version outside that range.
const std::vector<SyncedTable>& synced_tables(int version);

// One row of a synced table as the outbox hands it over.
struct OutboxRow {
  const SyncedTable* table = nullptr;  // an entry of synced_tables(kSchemaVersion)
  std::vector<SqlValue> key;           // the key's values (table->key's columns, or the row id)
  bool deleted = false;                // the row is gone: delete it by its key
  std::vector<SqlValue> values;        // the row's columns in table->columns' order (empty when deleted)
};

// A batch of the outbox: each changed row once (in the state it has when read), in the order of its last change.
struct OutboxBatch {
  std::vector<OutboxRow> rows;
  std::int64_t last_seq = 0;  // acknowledge with this once the lab has committed the batch (0: the outbox was empty)
  std::size_t entries = 0;    // outbox entries the batch covers (a row changed twice is one row, two entries)
};

// What waits to be pushed.
struct OutboxBacklog {
  std::int64_t entries = 0;
  std::optional<std::int64_t> oldest_queued_unix_us;  // nullopt when nothing waits
};

}  // namespace rig::store
