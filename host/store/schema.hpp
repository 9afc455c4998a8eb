// The store's schema as versioned migrations (docs/data-format.md). Internal to rig_store.
#pragma once

#include <string>
#include <vector>

#include "host/store/outbox.hpp"

// A random (version 4) UUID, as SQLite computes it, e.g. 0f9c2d1e-8a3b-4c5d-9e6f-1a2b3c4d5e6f.
#define RIG_SQL_UUID4                                                                                         \
  "(lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) " \
  "|| '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || "      \
  "lower(hex(randomblob(6))))"

namespace rig::store {

struct Migration {
  int version;      // schema version after this migration
  std::string sql;  // applied in one transaction with the schema_version row
};

// Every migration in order; the last one's version is kSchemaVersion. Never edit a released migration: add one.
const std::vector<Migration>& migrations();

// INSERT INTO outbox an entry for every row of `table` (in key order): the migration that starts tracking a table
// queues what it already holds, and Store::outbox_enqueue_all() everything.
std::string enqueue_all_sql(const SyncedTable& table);

}  // namespace rig::store
