// The store's schema as versioned migrations (docs/data-format.md). Internal to rig_store.
#pragma once

#include <string>
#include <vector>

namespace rig::store {

struct Migration {
  int version;      // schema version after this migration
  std::string sql;  // applied in one transaction with the schema_version row
};

// Every migration in order; the last one's version is kSchemaVersion. Never edit a released migration: add one.
const std::vector<Migration>& migrations();

}  // namespace rig::store
