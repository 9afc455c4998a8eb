#include "host/lab/lab_sync.hpp"

#include <cmath>
#include <cstdio>
#include <set>

#include "host/lab/lab_schema.hpp"

namespace rig::lab {
namespace {

// The lab's key columns for a synced table, after rig_id.
std::vector<std::string> key_columns(const store::SyncedTable& table) {
  return table.key.empty() ? std::vector<std::string>{store::kRowIdColumn} : table.key;
}

// The lab table's columns in order: rig_id, [row_id,] the store's columns.
std::string lab_columns(const store::SyncedTable& table) {
  std::string columns = table.key.empty() ? std::string("rig_id, ") + store::kRowIdColumn : "rig_id";
  for (const auto& column : table.columns) columns += ", " + column.name;
  return columns;
}

// A batch's rows of one table arrive by COPY straight into the table when they are all new to the lab (the
// usual case: trials, licks and edges are written once). When one is not (a session row updated at its end, a
// batch sent again), the COPY fails on the key and is rolled back to its savepoint, and the rows go by COPY into a
// temporary table like it (emptied at each commit) and become upserts in one statement: INSERT INTO table
// SELECT ... ON CONFLICT (rig_id, key) DO UPDATE SET ...
struct UpsertSql {
  std::string copy_direct, create_staging, copy, upsert;
};
constexpr const char* kUniqueViolation = "23505";

UpsertSql upsert_sql(const store::SyncedTable& table) {
  const std::string staging = "push_" + table.name;
  const std::string columns = lab_columns(table);
  std::string conflict = "rig_id", updates;
  for (const auto& key : key_columns(table)) conflict += ", " + key;
  const std::set<std::string> keys(table.key.begin(), table.key.end());
  for (const auto& column : table.columns) {
    if (!keys.contains(column.name)) updates += (updates.empty() ? "" : ", ") + column.name + " = EXCLUDED." + column.name;
  }
  return {"COPY " + table.name + " (" + columns + ") FROM STDIN",
          "CREATE TEMP TABLE IF NOT EXISTS " + staging + " (LIKE " + table.name + ") ON COMMIT DELETE ROWS",
          "COPY " + staging + " (" + columns + ") FROM STDIN",
          "INSERT INTO " + table.name + " (" + columns + ") SELECT " + columns + " FROM " + staging + " ON CONFLICT (" +
              conflict + ") " + (updates.empty() ? "DO NOTHING" : "DO UPDATE SET " + updates)};
}

// Appends `value` in COPY's text format: \N for NULL, text with backslash, tab, newline and return escaped, a
// blob as bytea's hex input (\\x...).
void append_copy_value(std::string& out, const store::SqlValue& value) {
  if (std::holds_alternative<std::monostate>(value)) {
    out += "\\N";
  } else if (const auto* text = std::get_if<std::string>(&value)) {
    for (const char c : *text) {
      switch (c) {
        case '\\': out += "\\\\"; break;
        case '\t': out += "\\t"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        default: out += c;
      }
    }
  } else if (const auto* blob = std::get_if<std::vector<std::uint8_t>>(&value)) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += "\\\\x";
    for (const auto b : *blob) {
      out += kHex[b >> 4];
      out += kHex[b & 0xf];
    }
  } else {
    out += *lab_param(value).bytes;
  }
}

std::string delete_sql(const store::SyncedTable& table) {
  std::string where = "rig_id = $1";
  int n = 1;
  for (const auto& key : key_columns(table)) where += " AND " + key + " = $" + std::to_string(++n);
  return "DELETE FROM " + table.name + " WHERE " + where;
}

// Registers the rig (or checks it is the one the lab knows) in the current transaction, with what will still wait
// once the batch up to `batch_last_seq` is in.
void register_rig(store::Store& store, PgConnection& lab, const std::string& rig_id, std::int64_t batch_last_seq) {
  const std::string store_uuid = store.store_uuid();
  const auto known = lab.exec("SELECT store_uuid FROM rigs WHERE rig_id = $1", {PgParam{rig_id}}, "read the rig");
  if (known.rows() > 0 && known.text(0, 0) != store_uuid) {
    throw LabInputError("lab database " + lab.server() + ": rig id \"" + rig_id + "\" belongs to another rig's store (" +
                        known.text(0, 0) + "; this one is " + store_uuid +
                        "): each rig needs its own rig.id in its config (docs/lab.md)");
  }
  // The lab page shows it: what the rig has not sent once this batch is in.
  static const std::string kUpsert = std::string("INSERT INTO rigs (rig_id, store_uuid, store_schema_version, ") +
                                     kRigBacklogEntries + ", " + kRigBacklogOldestUnixUs +
                                     ") VALUES ($1, $2, $3, $4, $5) ON CONFLICT (rig_id) DO UPDATE SET "
                                     "store_schema_version = EXCLUDED.store_schema_version, " + kRigLastPushAt + " = now(), " +
                                     kRigBacklogEntries + " = EXCLUDED." + kRigBacklogEntries + ", " + kRigBacklogOldestUnixUs +
                                     " = EXCLUDED." + kRigBacklogOldestUnixUs;
  const auto backlog = store.outbox_backlog(batch_last_seq);
  lab.exec(kUpsert,
           {PgParam{rig_id}, PgParam{store_uuid}, PgParam{std::to_string(store.schema_version())},
            PgParam{std::to_string(backlog.entries)},
            backlog.oldest_queued_unix_us ? PgParam{std::to_string(*backlog.oldest_queued_unix_us)} : PgParam{}},
           "register the rig");
}

}  // namespace

PgParam lab_param(const store::SqlValue& value) {
  return std::visit(
      [](const auto& v) -> PgParam {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return PgParam{};
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          return PgParam{std::to_string(v)};
        } else if constexpr (std::is_same_v<T, double>) {
          if (std::isnan(v)) return PgParam{"NaN"};
          if (std::isinf(v)) return PgParam{v > 0 ? "Infinity" : "-Infinity"};
          char text[32];
          std::snprintf(text, sizeof text, "%.17g", v);
          return PgParam{std::string(text)};
        } else if constexpr (std::is_same_v<T, std::string>) {
          return PgParam{v};
        } else {
          return PgParam{std::string(v.begin(), v.end()), true};
        }
      },
      value);
}

PushResult push_outbox(store::Store& store, PgConnection& lab, const std::string& rig_id, const PushOptions& options) {
  if (rig_id.empty()) throw LabInputError("lab sync: the rig config has no rig.id");
  const auto pushed_as = store.lab_rig_id();
  if (pushed_as && *pushed_as != rig_id) {
    throw LabInputError("store " + store.path() + " was pushed to the lab as rig \"" + *pushed_as +
                        "\"; this rig config says \"" + rig_id + "\" (a database belongs to one rig: docs/lab.md)");
  }
  const int lab_version = lab_schema_version(lab);
  if (lab_version < store.schema_version()) {
    throw LabError("lab database " + lab.server() + ": schema version " + std::to_string(lab_version) +
                   " is older than this rig's store (" + std::to_string(store.schema_version()) +
                   "); run `rig lab init --url URL` to create or migrate it");
  }
  // A rig's own role (docs/lab.md, "Roles") is bound by row-level security: it may write only rows under its
  // name, and PostgreSQL refuses it COPY into the tables (every row goes through the staging upsert).
  const auto access = lab.exec("SELECT row_security_active('rigs'), current_user", "read the lab role and its row security");
  const bool row_security = access.text(0, 0) == "t";
  if (row_security) {
    const std::string role = access.text(0, 1);
    if (role != rig_id) {
      throw LabInputError("lab database " + lab.server() + ": this rig's id is \"" + rig_id + "\" but it connects as role \"" +
                          role + "\", which may write only rig \"" + role + "\"'s rows: connect as the rig's own role (`rig lab add-rig " +
                          rig_id + "`, docs/lab.md)");
    }
  }
  PushResult result;
  std::map<std::string, UpsertSql> sql_by_table;
  bool registered = false;
  for (;;) {
    const auto batch = store.outbox_batch(options.batch_entries);
    if (batch.entries == 0 && registered) break;
    {
      PgTransaction transaction(lab, "push the outbox");
      register_rig(store, lab, rig_id, batch.last_seq);
      // Upserts table by table (one COPY and one statement each), then deletions (rare: a replaced water row).
      std::map<const store::SyncedTable*, std::string> copy_data;
      std::vector<const store::OutboxRow*> deletions;
      for (const auto& row : batch.rows) {
        ++result.rows_by_table[row.table->name];
        if (row.deleted) {
          deletions.push_back(&row);
          continue;
        }
        std::string& out = copy_data[row.table];
        append_copy_value(out, rig_id);
        if (row.table->key.empty()) {
          out += '\t';
          append_copy_value(out, row.key.at(0));
        }
        for (const auto& value : row.values) {
          out += '\t';
          append_copy_value(out, value);
        }
        out += '\n';
      }
      for (const auto& [table, data] : copy_data) {
        auto sql = sql_by_table.find(table->name);
        if (sql == sql_by_table.end()) sql = sql_by_table.emplace(table->name, upsert_sql(*table)).first;
        const std::string what = "upsert into " + table->name;
        if (!row_security) {
          lab.exec("SAVEPOINT new_rows", what);
          try {
            lab.copy_in(sql->second.copy_direct, data, what);
            lab.exec("RELEASE SAVEPOINT new_rows", what);
            continue;
          } catch (const LabError& e) {
            if (e.sqlstate() != kUniqueViolation) throw;
          }
          lab.exec("ROLLBACK TO SAVEPOINT new_rows", what);
        }
        lab.exec(sql->second.create_staging, what);
        lab.copy_in(sql->second.copy, data, what);
        lab.exec(sql->second.upsert, what);
      }
      for (const auto* row : deletions) {
        std::vector<PgParam> params{PgParam{rig_id}};
        for (const auto& key : row->key) params.push_back(lab_param(key));
        lab.exec(delete_sql(*row->table), params, "delete from " + row->table->name);
      }
      transaction.commit();
    }
    if (!registered) {
      store.set_lab_rig_id(rig_id);
      registered = true;
    }
    if (batch.entries == 0) break;
    if (options.after_lab_commit) options.after_lab_commit();
    store.outbox_acknowledge(batch.last_seq);
    ++result.batches;
    result.rows += batch.rows.size();
    result.entries += batch.entries;
    if (options.on_batch) {
      result.backlog = store.outbox_backlog();
      options.on_batch(result);
    }
  }
  result.backlog = store.outbox_backlog();
  return result;
}

}  // namespace rig::lab
