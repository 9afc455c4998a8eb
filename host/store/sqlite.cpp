#include "host/store/sqlite.hpp"

#include <type_traits>
#include <variant>

#include <cstdio>
#include <utility>

namespace rig::store {

bool StoreError::cannot_open() const { return (sqlite_code_ & 0xff) == SQLITE_CANTOPEN; }

namespace {

std::string immutable_uri(const std::string& path) {
  std::string uri = "file:";
  for (char c : path) {
    if (c == '?' || c == '#' || c == '%') {
      char escaped[4];
      std::snprintf(escaped, sizeof escaped, "%%%02X", static_cast<unsigned char>(c));
      uri += escaped;
    } else {
      uri += c;
    }
  }
  return uri + "?immutable=1";
}

}  // namespace

Connection::Connection(const std::string& path, bool read_only, bool immutable) : path_(path) {
  // SQLite's memory statistics take a global mutex on every allocation; nothing here reads them. Must run
  // before SQLite initialises (the first open); later calls are refused harmlessly.
  static const int memstatus_off = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)memstatus_off;
  const int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  const std::string name = read_only && immutable ? immutable_uri(path) : path;
  const int rc = sqlite3_open_v2(name.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, nullptr);
  if (rc != SQLITE_OK) {
    const std::string reason = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw StoreError("store " + path + ": cannot open: " + reason, rc);
  }
  sqlite3_extended_result_codes(db_, 1);
}

Connection::~Connection() { sqlite3_close_v2(db_); }

void Connection::exec(const std::string& sql, std::string_view what) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    const std::string reason = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    throw StoreError("store " + path_ + ": " + std::string(what) + ": " + reason, rc);
  }
}

Statement Connection::prepare(const std::string& sql) const { return Statement(*this, sql); }

void Connection::fail(int code, std::string_view what) const {
  // errmsg can describe an older failure when `code` did not come from this connection's last call.
  const char* reason = sqlite3_extended_errcode(db_) == code ? sqlite3_errmsg(db_) : sqlite3_errstr(code);
  throw StoreError("store " + path_ + ": " + std::string(what) + ": " + reason, code);
}

Statement::Statement(const Connection& connection, const std::string& sql) : connection_(&connection) {
  const int rc = sqlite3_prepare_v2(connection.handle(), sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK) connection.fail(rc, "prepare \"" + sql.substr(0, 60) + "\"");
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement::Statement(Statement&& other) noexcept
    : connection_(other.connection_), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::bind(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}
Statement& Statement::bind(int index, double value) {
  sqlite3_bind_double(stmt_, index, value);
  return *this;
}
Statement& Statement::bind(int index, std::string_view text) {
  sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}
Statement& Statement::bind(int index, const std::vector<std::uint8_t>& blob) {
  sqlite3_bind_blob64(stmt_, index, blob.data(), blob.size(), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::bind_null(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Statement& Statement::bind(int index, const model::ColumnValue& value) {
  return std::visit(
      [&](const auto& v) -> Statement& {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::monostate>) {
          return bind_null(index);
        } else {
          return bind(index, v);
        }
      },
      value);
}

model::ColumnValue Statement::value(int column) const {
  switch (column_type(column)) {
    case SQLITE_NULL: return {};
    case SQLITE_INTEGER: return int64(column);
    case SQLITE_FLOAT: return real(column);
    default: return text(column);
  }
}

bool Statement::step(std::string_view what) {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3_reset(stmt_);
  connection_->fail(rc, what);
}

void Statement::run(std::string_view what) {
  while (step(what)) {
  }
}

std::string Statement::text(int column) const {
  const auto* data = sqlite3_column_text(stmt_, column);
  return data ? std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
              : std::string();
}

std::optional<std::int64_t> Statement::optional_int64(int column) const {
  if (is_null(column)) return std::nullopt;
  return int64(column);
}
std::optional<double> Statement::optional_real(int column) const {
  if (is_null(column)) return std::nullopt;
  return real(column);
}
std::optional<std::string> Statement::optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return text(column);
}

std::vector<std::uint8_t> Statement::blob(int column) const {
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, column));
  return data ? std::vector<std::uint8_t>(data, data + sqlite3_column_bytes(stmt_, column)) : std::vector<std::uint8_t>();
}

Transaction::Transaction(Connection& connection, std::string_view what) : connection_(connection), what_(what) {
  connection_.exec("BEGIN IMMEDIATE", what_);
}

Transaction::~Transaction() {
  if (open_) sqlite3_exec(connection_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  connection_.exec("COMMIT", what_);
  open_ = false;
}

}  // namespace rig::store
