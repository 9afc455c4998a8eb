// A small RAII layer over Debian's libpq: a connection to the lab's PostgreSQL and its results, every failure a
// LabError naming the server and PostgreSQL's reason. Private to rig_lab and its tests.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace rig::lab {

// A failure to reach, read or write the lab database. Its message names the server (never a password); an error
// the server reported carries its SQLSTATE (e.g. "23505", a unique key violated).
class LabError : public std::runtime_error {
 public:
  explicit LabError(const std::string& message, std::string sqlstate = {})
      : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}
  const std::string& sqlstate() const { return sqlstate_; }

 private:
  std::string sqlstate_;
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

// How long a connection waits for the lab. A server, proxy or network path that stops answering without closing
// the connection (TCP keepalives cannot tell: a proxy's kernel still answers them) would otherwise block a read
// forever; past `answer_timeout` the statement fails and the connection is dropped.
struct PgTimeouts {
  int connect_s = 10;                                  // the connection attempt (libpq's connect_timeout)
  std::chrono::milliseconds answer{std::chrono::seconds(60)};  // each statement's round trip; 0: no limit
};

// One connection, in libpq's non-blocking mode: every statement is sent and its answer awaited with poll(), so
// that it ends at its deadline, or at once when the abort descriptor becomes readable (a stopping daemon). Not
// thread-safe: one PgConnection per thread.
class PgConnection {
 public:
  // Connects with a libpq connection URI or key=value string (`postgresql://rig@lab.example.org/lab`,
  // `service=lab`). The password comes from ~/.pgpass, PGPASSFILE or a service file, never from `conninfo`: one
  // there is refused (LabInputError), as is a string libpq cannot parse. TCP keepalives notice a server that went
  // away. Throws LabError when the server cannot be reached or refuses the login.
  explicit PgConnection(const std::string& conninfo, PgTimeouts timeouts = {});
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs `sql` (one or more statements, no parameters). Throws LabError naming `what`.
  PgResult exec(const std::string& sql, std::string_view what);
  // Runs one statement with $1..$n. Throws LabError naming `what`.
  PgResult exec(const std::string& sql, const std::vector<PgParam>& params, std::string_view what);
  // Runs `copy_sql` (COPY ... FROM STDIN) and sends `data` (COPY's text format) to it. Throws LabError naming
  // `what`.
  void copy_in(const std::string& copy_sql, const std::string& data, std::string_view what);
  // Each statement's round trip from now on (0: no limit).
  void set_answer_timeout(std::chrono::milliseconds timeout) { timeouts_.answer = timeout; }
  // A descriptor whose readability ends any wait at once with a LabError ("stopped"); -1: none. The caller owns
  // it and keeps it open while this connection lives.
  void set_abort_fd(int fd) { abort_fd_ = fd; }
  // False once a wait timed out, was aborted or the connection failed: nothing more can be sent on it.
  bool usable() const { return usable_; }
  // "host:port/database as user", for messages.
  const std::string& server() const { return server_; }
  // `name` as a quoted SQL identifier, `text` as a quoted SQL literal (libpq's escaping, for DDL that takes no
  // parameters: CREATE ROLE, ALTER ROLE). Throw LabError.
  std::string identifier(std::string_view name) const;
  std::string literal(std::string_view text) const;
  // `password` hashed for `role` the way the server stores passwords (SCRAM-SHA-256 by default): ALTER ROLE ...
  // PASSWORD takes the hash, so the password never reaches the server, its logs or pg_stat_activity. Blocks for
  // one short query. Throws LabError.
  std::string encrypted_password(const std::string& password, const std::string& role);

 private:
  using Deadline = std::optional<std::chrono::steady_clock::time_point>;
  Deadline deadline() const;
  // Waits until the socket is readable (and writable when `write`), the deadline passes or the abort descriptor
  // fires; throws LabError naming `what` in the last two cases.
  void wait_socket(bool write, const Deadline& deadline, std::string_view what);
  // Sends what libpq has queued; then reads every result of the statement sent, returning the last (the first
  // failure's status wins).
  void flush(const Deadline& deadline, std::string_view what);
  PGresult* next_result(const Deadline& deadline, std::string_view what);
  PgResult finish(const Deadline& deadline, std::string_view what);
  [[noreturn]] void fail(std::string_view what, const PGresult* result);
  // `text` (allocated by libpq) as a string, freed; null: a LabError naming `what` with libpq's reason.
  std::string owned_text(char* text, std::string_view what) const;
  // Throws LabError when nothing can be sent on the connection any more.
  void require_usable(std::string_view what) const;
  // The server ended a COPY with an error: reads and throws it.
  [[noreturn]] void fail_copy(const Deadline& deadline, std::string_view what);
  std::unique_ptr<PGconn, void (*)(PGconn*)> conn_;
  std::string server_;
  PgTimeouts timeouts_;
  int abort_fd_ = -1;
  bool usable_ = true;
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
