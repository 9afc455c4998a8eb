// A small RAII layer over Debian's libpq: a connection to the lab's PostgreSQL and its results, every failure a
// LabError naming the server and PostgreSQL's reason. Private to rig_lab and its tests.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace rig::lab {

// A failure to reach, read or write the lab database. Its message names the server (never a password).
class LabError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A refused connection string (a password on the command line, a malformed URL): bad input, not a failure.
class LabInputError : public LabError {
 public:
  using LabError::LabError;
};

// One query parameter: NULL (nullopt), text, or binary (bytea).
struct PgParam {
  std::optional<std::string> bytes;
  bool binary = false;
};

class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result, &PQclear) {}
  int rows() const { return PQntuples(result_.get()); }
  bool is_null(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  std::string text(int row, int column) const { return PQgetvalue(result_.get(), row, column); }
  std::int64_t int64(int row, int column) const { return std::stoll(text(row, column)); }
  std::string affected_rows() const { return PQcmdTuples(result_.get()); }
  const PGresult* get() const { return result_.get(); }

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> result_;
};

// One connection. Not thread-safe: one PgConnection per thread.
class PgConnection {
 public:
  // Connects with a libpq connection URI or key=value string (`postgresql://rig@lab.example.org/lab`,
  // `service=lab`). The password comes from ~/.pgpass, PGPASSFILE or a service file, never from `conninfo`: one
  // there is refused (LabInputError), as is a string libpq cannot parse. connect_timeout_s bounds the connection
  // attempt; TCP keepalives notice a server that went away. Throws LabError when the server cannot be reached or
  // refuses the login.
  explicit PgConnection(const std::string& conninfo, int connect_timeout_s = 10);
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs `sql` (one or more statements, no parameters). Throws LabError naming `what`.
  PgResult exec(const std::string& sql, std::string_view what);
  // Runs one statement with $1..$n. Throws LabError naming `what`.
  PgResult exec(const std::string& sql, const std::vector<PgParam>& params, std::string_view what);
  // Runs `copy_sql` (COPY ... FROM STDIN) and sends `data` (COPY's text format) to it. Throws LabError naming
  // `what`.
  void copy_in(const std::string& copy_sql, const std::string& data, std::string_view what);
  // "host:port/database as user", for messages.
  const std::string& server() const { return server_; }
  PGconn* handle() const { return conn_.get(); }

 private:
  [[noreturn]] void fail(std::string_view what, const PGresult* result) const;
  std::unique_ptr<PGconn, void (*)(PGconn*)> conn_;
  std::string server_;
};

// BEGIN on construction; ROLLBACK on destruction unless commit() ran. Not thread-safe.
class PgTransaction {
 public:
  PgTransaction(PgConnection& connection, std::string_view what);
  ~PgTransaction();
  PgTransaction(const PgTransaction&) = delete;
  PgTransaction& operator=(const PgTransaction&) = delete;
  void commit();

 private:
  PgConnection& connection_;
  std::string what_;
  bool open_ = true;
};

// Throws LabInputError when `conninfo` cannot be parsed or carries a password. Pure; thread-safe.
void check_conninfo(const std::string& conninfo);

}  // namespace rig::lab
