// A small RAII layer over Debian's libsqlite3 C API: a connection and prepared statements whose every failure
// becomes a StoreError naming the database file and SQLite's reason. Private to rig_store: store.hpp does
// not include it; tests and tools that need raw SQL reach the connection through connection_of().
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "host/model/trial_record.hpp"
#include "host/store/store_error.hpp"

namespace rig::store {

class Statement;

// One open connection. Not thread-safe: one Connection per thread.
class Connection {
 public:
  // Opens (read_only: without creating or writing) the file at `path`. immutable (with read_only): the file
  // is on a read-only filesystem, so SQLite may skip the locks and shared memory it cannot create there.
  // Throws StoreError.
  Connection(const std::string& path, bool read_only, bool immutable = false);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements without results. Throws StoreError naming `what`.
  void exec(const std::string& sql, std::string_view what);
  Statement prepare(const std::string& sql) const;
  // A StoreError for the last failure, with `code` and `what`.
  [[noreturn]] void fail(int code, std::string_view what) const;
  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }
  std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  int changes() const { return sqlite3_changes(db_); }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

// A prepared statement. Parameters are bound by 1-based index; step() returns true while rows come.
// Not thread-safe.
class Statement {
 public:
  Statement(const Connection& connection, const std::string& sql);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const std::vector<std::uint8_t>& blob);
  Statement& bind_null(int index);
  // A model column value: NULL, INTEGER, REAL or TEXT.
  Statement& bind(int index, const model::ColumnValue& value);
  template <class T>
  Statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }
  Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind(int index, std::uint32_t value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind(int index, bool value) { return bind(index, static_cast<std::int64_t>(value ? 1 : 0)); }
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }

  // Advances to the next row; false when done. Throws StoreError naming `what`.
  bool step(std::string_view what);
  // Runs a statement that returns no rows. Throws StoreError naming `what`.
  void run(std::string_view what);
  // Makes the statement ready to run again (bindings are kept until rebound).
  void reset() { sqlite3_reset(stmt_); }

  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
  double real(int column) const { return sqlite3_column_double(stmt_, column); }
  std::string text(int column) const;
  std::optional<std::int64_t> optional_int64(int column) const;
  std::optional<double> optional_real(int column) const;
  std::optional<std::string> optional_text(int column) const;
  std::vector<std::uint8_t> blob(int column) const;
  // The column as a model column value (a BLOB reads as TEXT).
  model::ColumnValue value(int column) const;
  int column_count() const { return sqlite3_column_count(stmt_); }
  std::string column_name(int column) const { return sqlite3_column_name(stmt_, column); }
  int column_type(int column) const { return sqlite3_column_type(stmt_, column); }

 private:
  const Connection* connection_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit() ran. Not thread-safe.
class Transaction {
 public:
  Transaction(Connection& connection, std::string_view what);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  // COMMIT; throws StoreError (the transaction is then rolled back).
  void commit();

 private:
  Connection& connection_;
  std::string what_;
  bool open_ = true;
};

class Store;
// The connection under a Store, for tests and tools that run their own SQL (fault injection, checkpoints);
// stays owned by the Store. Not thread-safe (as the Store).
Connection& connection_of(const Store& store);

}  // namespace rig::store
