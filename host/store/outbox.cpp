// The Store's outbox methods (outbox.hpp); the outbox's tables and triggers are in schema.cpp.
#include "host/store/outbox.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "host/store/schema.hpp"
#include "host/store/sqlite.hpp"
#include "host/store/store.hpp"

namespace rig::store {
namespace {

const SyncedTable& synced_table(const std::string& name) {
  for (const auto& table : synced_tables(kSchemaVersion)) {
    if (table.name == name) return table;
  }
  throw StoreError("store: the outbox names a table it does not track: " + name, 0);
}

SqlValue column_value(const Statement& row, int column) {
  switch (row.column_type(column)) {
    case SQLITE_NULL: return {};
    case SQLITE_INTEGER: return row.int64(column);
    case SQLITE_FLOAT: return row.real(column);
    case SQLITE_BLOB: return row.blob(column);
    default: return row.text(column);
  }
}

SqlValue json_value(const nlohmann::json& value) {
  if (value.is_null()) return {};
  if (value.is_number_integer()) return value.get<std::int64_t>();
  if (value.is_number()) return value.get<double>();
  return value.get<std::string>();
}

void bind_value(Statement& statement, int index, const SqlValue& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          statement.bind_null(index);
        } else {
          statement.bind(index, v);
        }
      },
      value);
}

// SELECT every column FROM the table WHERE its key = ?.
std::string select_by_key_sql(const SyncedTable& table) {
  std::string columns, where;
  for (const auto& column : table.columns) columns += (columns.empty() ? "" : ", ") + column.name;
  for (const auto& column : table.key) where += (where.empty() ? "" : " AND ") + column + " = ?";
  return "SELECT " + columns + " FROM " + table.name + " WHERE " + (table.key.empty() ? "rowid = ?" : where);
}

// A read transaction: one snapshot and one file lock for a batch's many reads (each read outside a transaction
// takes and releases SQLite's lock: two fcntl calls per row, a fifth of a push's time).
class ReadTransaction {
 public:
  explicit ReadTransaction(Connection& db) : db_(db) { db_.exec("BEGIN", "read the outbox"); }
  ~ReadTransaction() {
    try {
      db_.exec("COMMIT", "read the outbox");
    } catch (const StoreError&) {
    }
  }
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

 private:
  Connection& db_;
};

}  // namespace

OutboxBatch Store::outbox_batch(std::size_t max_entries) const {
  Connection& db = connection_of(*this);
  ReadTransaction snapshot(db);
  OutboxBatch batch;
  struct Latest {
    std::int64_t seq;
    bool deleted;
  };
  // The last entry of each (table, key) in the batch: the row's state is read once, as it is now.
  std::map<std::pair<std::string, std::string>, Latest> latest;
  auto entries = db.prepare("SELECT seq, table_name, row_key, deleted FROM outbox ORDER BY seq LIMIT ?");
  entries.bind(1, static_cast<std::int64_t>(max_entries));
  while (entries.step("read the outbox")) {
    batch.last_seq = entries.int64(0);
    ++batch.entries;
    latest[{entries.text(1), entries.text(2)}] = Latest{entries.int64(0), entries.int64(3) != 0};
  }
  std::vector<std::pair<std::int64_t, OutboxRow>> rows;
  std::map<std::string, Statement> selects;
  for (const auto& [id, last] : latest) {
    const auto& [table_name, key_json] = id;
    OutboxRow row;
    row.table = &synced_table(table_name);
    row.deleted = last.deleted;
    const auto key = nlohmann::json::parse(key_json, nullptr, false);
    if (!key.is_array()) throw StoreError("store " + path() + ": outbox entry " + std::to_string(last.seq) + " has a malformed key: " + key_json, 0);
    for (const auto& value : key) row.key.push_back(json_value(value));
    if (!row.deleted) {
      auto select = selects.find(table_name);
      if (select == selects.end()) select = selects.emplace(table_name, db.prepare(select_by_key_sql(*row.table))).first;
      Statement& statement = select->second;
      for (std::size_t i = 0; i < row.key.size(); ++i) bind_value(statement, static_cast<int>(i) + 1, row.key[i]);
      const bool found = statement.step("read " + table_name + " for the outbox");
      if (found) {
        for (int c = 0; c < statement.column_count(); ++c) row.values.push_back(column_value(statement, c));
      }
      statement.reset();
      if (!found) continue;  // deleted after this entry: a later entry deletes it in the lab
    }
    rows.emplace_back(last.seq, std::move(row));
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [seq, row] : rows) batch.rows.push_back(std::move(row));
  return batch;
}

void Store::outbox_acknowledge(std::int64_t last_seq) {
  Connection& db = connection_of(*this);
  Transaction transaction(db, "acknowledge the outbox");
  db.prepare("DELETE FROM outbox WHERE seq <= ?").bind(1, last_seq).run("acknowledge the outbox");
  transaction.commit();
}

std::int64_t Store::outbox_enqueue_all() {
  Connection& db = connection_of(*this);
  Transaction transaction(db, "queue every row for the lab");
  std::int64_t queued = 0;
  for (const auto& table : synced_tables(kSchemaVersion)) {
    db.exec(enqueue_all_sql(table), "queue " + table.name + " for the lab");
    queued += db.changes();
  }
  transaction.commit();
  return queued;
}

OutboxBacklog Store::outbox_backlog(std::int64_t after_seq) const {
  auto count = connection_of(*this).prepare("SELECT COUNT(*), MIN(queued_at_unix_us) FROM outbox WHERE seq > ?");
  count.bind(1, after_seq);
  count.step("count the outbox");
  return {count.int64(0), count.optional_int64(1)};
}

std::string Store::store_uuid() const {
  auto select = connection_of(*this).prepare("SELECT value FROM lab_sync_state WHERE key = 'store_uuid'");
  if (!select.step("read the store's uuid")) throw StoreError("store " + path() + ": has no store_uuid", 0);
  return select.text(0);
}

std::optional<std::string> Store::lab_rig_id() const {
  auto select = connection_of(*this).prepare("SELECT value FROM lab_sync_state WHERE key = 'rig_id'");
  if (!select.step("read the lab rig id")) return std::nullopt;
  return select.text(0);
}

void Store::set_lab_rig_id(const std::string& rig_id) {
  Connection& db = connection_of(*this);
  Transaction transaction(db, "record the lab rig id");
  db.prepare("INSERT INTO lab_sync_state (key, value) VALUES ('rig_id', ?) ON CONFLICT (key) DO NOTHING")
      .bind(1, rig_id)
      .run("record the lab rig id");
  transaction.commit();
}

}  // namespace rig::store
