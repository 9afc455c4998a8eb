#include "host/lab/pg.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace rig::lab {
namespace {

std::string trimmed(std::string message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

}  // namespace

void check_conninfo(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (!options) {
    const std::string reason = error ? trimmed(error) : "out of memory";
    PQfreemem(error);
    throw LabInputError("lab URL \"" + conninfo + "\": " + reason);
  }
  bool has_password = false;
  for (PQconninfoOption* option = options; option->keyword; ++option) {
    if (std::string(option->keyword) == "password" && option->val && *option->val) has_password = true;
  }
  PQconninfoFree(options);
  if (has_password) {
    throw LabInputError(
        "lab URL: a password in the URL is refused (every user of this machine can read a command line); put it in "
        "~/.pgpass (mode 0600) or a service file in ~/.pg_service.conf, see docs/lab.md");
  }
}

PgConnection::PgConnection(const std::string& conninfo, PgTimeouts timeouts) : conn_(nullptr, &PQfinish), timeouts_(timeouts) {
  check_conninfo(conninfo);
  const std::string timeout = std::to_string(timeouts.connect_s);
  // Defaults first: what the URL says wins (expand_dbname expands `conninfo` where it stands).
  const char* keywords[] = {"connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
                            "keepalives_count", "application_name", "dbname", nullptr};
  const char* values[] = {timeout.c_str(), "1", "10", "5", "3", "rig", conninfo.c_str(), nullptr};
  conn_.reset(PQconnectdbParams(keywords, values, 1));
  if (!conn_) throw LabError("lab database: out of memory");
  const char* host = PQhost(conn_.get());
  const char* port = PQport(conn_.get());
  const char* db = PQdb(conn_.get());
  const char* user = PQuser(conn_.get());
  server_ = std::string(host ? host : "?") + ":" + (port ? port : "?") + "/" + (db ? db : "?") + " as " +
            (user ? user : "?");
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    throw LabError("lab database " + server_ + ": cannot connect: " + trimmed(PQerrorMessage(conn_.get())));
  }
  // The server's notices ("relation ... already exists, skipping") are not for the operator's terminal.
  PQsetNoticeProcessor(conn_.get(), [](void*, const char*) {}, nullptr);
  if (PQsetnonblocking(conn_.get(), 1) != 0) fail("set non-blocking mode", nullptr);
}

void PgConnection::fail(std::string_view what, const PGresult* result) {
  std::string reason = result ? PQresultErrorMessage(result) : "";
  if (reason.empty()) reason = PQerrorMessage(conn_.get());
  if (PQstatus(conn_.get()) != CONNECTION_OK) usable_ = false;
  const char* sqlstate = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  throw LabError("lab database " + server_ + ": " + std::string(what) + ": " + trimmed(reason), sqlstate ? sqlstate : "");
}

PgConnection::Deadline PgConnection::deadline() const {
  if (timeouts_.answer.count() <= 0) return std::nullopt;
  return std::chrono::steady_clock::now() + timeouts_.answer;
}

void PgConnection::wait_socket(bool write, const Deadline& deadline, std::string_view what) {
  for (;;) {
    int wait_ms = -1;
    if (deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        usable_ = false;
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%g", static_cast<double>(timeouts_.answer.count()) / 1000.0);
        throw LabError("lab database " + server_ + ": " + std::string(what) + ": no answer within " + seconds +
                       " s (the server or the network stopped answering; the connection is dropped)");
      }
      wait_ms = static_cast<int>(std::min<long long>(left.count(), 1000 * 60));
    }
    pollfd fds[2] = {{PQsocket(conn_.get()), static_cast<short>(POLLIN | (write ? POLLOUT : 0)), 0}, {abort_fd_, POLLIN, 0}};
    const int ready = ::poll(fds, abort_fd_ >= 0 ? 2 : 1, wait_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) {
      usable_ = false;
      throw LabError("lab database " + server_ + ": " + std::string(what) + ": poll: " + std::strerror(errno));
    }
    if (abort_fd_ >= 0 && (fds[1].revents & POLLIN)) {
      usable_ = false;
      throw LabError("lab database " + server_ + ": " + std::string(what) + ": stopped");
    }
    if (ready > 0 && fds[0].revents) return;
  }
}

void PgConnection::flush(const Deadline& deadline, std::string_view what) {
  for (;;) {
    const int pending = PQflush(conn_.get());
    if (pending == 0) return;
    if (pending < 0) fail(what, nullptr);
    wait_socket(true, deadline, what);
    // The server may answer (an error) before it has read everything: read to make room.
    if (PQconsumeInput(conn_.get()) == 0) fail(what, nullptr);
  }
}

PGresult* PgConnection::next_result(const Deadline& deadline, std::string_view what) {
  while (PQisBusy(conn_.get())) {
    wait_socket(false, deadline, what);
    if (PQconsumeInput(conn_.get()) == 0) fail(what, nullptr);
  }
  return PQgetResult(conn_.get());
}

PgResult PgConnection::finish(const Deadline& deadline, std::string_view what) {
  flush(deadline, what);
  PgResult last(nullptr);
  std::optional<PgResult> failure;
  while (PGresult* raw = next_result(deadline, what)) {
    const auto status = PQresultStatus(raw);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && !failure) {
      failure.emplace(raw);
    } else {
      last = PgResult(raw);
    }
  }
  if (failure) fail(what, failure->get());
  if (!last.get()) fail(what, nullptr);
  return last;
}

PgResult PgConnection::exec(const std::string& sql, std::string_view what) {
  return exec(sql, {}, what);
}

void PgConnection::require_usable(std::string_view what) const {
  if (!usable_) throw LabError("lab database " + server_ + ": " + std::string(what) + ": the connection was dropped");
}

void PgConnection::fail_copy(const Deadline& deadline, std::string_view what) {
  finish(deadline, what);  // the server ended the COPY with an error: this reports it
  fail(what, nullptr);
}

std::string PgConnection::owned_text(char* text, std::string_view what) const {
  const std::unique_ptr<char, void (*)(void*)> owned(text, &PQfreemem);
  if (!owned) throw LabError("lab database " + server_ + ": cannot " + std::string(what) + ": " + trimmed(PQerrorMessage(conn_.get())));
  return owned.get();
}

std::string PgConnection::identifier(std::string_view name) const {
  return owned_text(PQescapeIdentifier(conn_.get(), name.data(), name.size()), "quote \"" + std::string(name) + "\"");
}

std::string PgConnection::literal(std::string_view text) const {
  return owned_text(PQescapeLiteral(conn_.get(), text.data(), text.size()), "quote a literal");
}

std::string PgConnection::encrypted_password(const std::string& password, const std::string& role) {
  // Blocking: it asks the server for password_encryption, a short query this connection's deadline does not
  // cover; called only by `rig lab add-rig`, an administrator's command.
  return owned_text(PQencryptPasswordConn(conn_.get(), password.c_str(), role.c_str(), nullptr), "hash the password");
}

PgResult PgConnection::exec(const std::string& sql, const std::vector<PgParam>& params, std::string_view what) {
  require_usable(what);
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
  for (const auto& param : params) {
    values.push_back(param.bytes ? param.bytes->data() : nullptr);
    lengths.push_back(param.bytes ? static_cast<int>(param.bytes->size()) : 0);
    formats.push_back(param.binary ? 1 : 0);
  }
  const int sent = params.empty() ? PQsendQuery(conn_.get(), sql.c_str())
                                  : PQsendQueryParams(conn_.get(), sql.c_str(), static_cast<int>(params.size()), nullptr,
                                                      values.data(), lengths.data(), formats.data(), 0);
  if (sent != 1) fail(what, nullptr);
  return finish(deadline(), what);
}

void PgConnection::copy_in(const std::string& copy_sql, const std::string& data, std::string_view what) {
  require_usable(what);
  const auto until = deadline();
  if (PQsendQuery(conn_.get(), copy_sql.c_str()) != 1) fail(what, nullptr);
  flush(until, what);
  {
    PGresult* raw = next_result(until, what);
    PgResult start(raw);
    if (!raw || PQresultStatus(raw) != PGRES_COPY_IN) {
      // An error result is followed by the end of the statement's results.
      while (PGresult* rest = next_result(until, what)) PQclear(rest);
      fail(what, raw);
    }
  }
  constexpr std::size_t kChunk = 1 << 20;
  for (std::size_t at = 0; at < data.size();) {
    const int n = static_cast<int>(std::min(kChunk, data.size() - at));
    const int queued = PQputCopyData(conn_.get(), data.data() + at, n);
    if (queued < 0) fail_copy(until, what);
    if (queued == 0) {
      wait_socket(true, until, what);  // libpq's buffer is full: the socket must drain first
      if (PQconsumeInput(conn_.get()) == 0 || PQflush(conn_.get()) < 0) fail(what, nullptr);
      continue;
    }
    at += static_cast<std::size_t>(n);
  }
  for (;;) {
    const int ended = PQputCopyEnd(conn_.get(), nullptr);
    if (ended < 0) fail_copy(until, what);
    if (ended == 1) break;
    wait_socket(true, until, what);
    if (PQflush(conn_.get()) < 0) fail(what, nullptr);
  }
  finish(until, what);
}

PgTransaction::PgTransaction(PgConnection& connection, std::string_view what) : connection_(connection), what_(what) {
  connection_.exec("BEGIN", what_);
}

PgTransaction::~PgTransaction() {
  if (!open_ || !connection_.usable()) return;  // a dropped connection's transaction ends with it, on the server
  try {
    connection_.exec("ROLLBACK", what_);
  } catch (const LabError&) {
    // The server rolls back when the session ends.
  }
}

void PgTransaction::commit() {
  open_ = false;
  connection_.exec("COMMIT", what_);
}

}  // namespace rig::lab
