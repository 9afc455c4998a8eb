#include "host/lab/pg.hpp"

#include <algorithm>
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

PgConnection::PgConnection(const std::string& conninfo, int connect_timeout_s) : conn_(nullptr, &PQfinish) {
  check_conninfo(conninfo);
  const std::string timeout = std::to_string(connect_timeout_s);
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
}

void PgConnection::fail(std::string_view what, const PGresult* result) const {
  std::string reason = result ? PQresultErrorMessage(result) : "";
  if (reason.empty()) reason = PQerrorMessage(conn_.get());
  throw LabError("lab database " + server_ + ": " + std::string(what) + ": " + trimmed(reason));
}

PgResult PgConnection::exec(const std::string& sql, std::string_view what) {
  return exec(sql, {}, what);
}

PgResult PgConnection::exec(const std::string& sql, const std::vector<PgParam>& params, std::string_view what) {
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
  for (const auto& param : params) {
    values.push_back(param.bytes ? param.bytes->data() : nullptr);
    lengths.push_back(param.bytes ? static_cast<int>(param.bytes->size()) : 0);
    formats.push_back(param.binary ? 1 : 0);
  }
  PGresult* raw = params.empty() ? PQexec(conn_.get(), sql.c_str())
                                 : PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(params.size()), nullptr,
                                                values.data(), lengths.data(), formats.data(), 0);
  PgResult result(raw);
  const auto status = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(what, raw);
  return result;
}

void PgConnection::copy_in(const std::string& copy_sql, const std::string& data, std::string_view what) {
  {
    PgResult start(PQexec(conn_.get(), copy_sql.c_str()));
    if (!start.get() || PQresultStatus(start.get()) != PGRES_COPY_IN) fail(what, start.get());
  }
  constexpr std::size_t kChunk = 1 << 20;
  for (std::size_t at = 0; at < data.size(); at += kChunk) {
    const int n = static_cast<int>(std::min(kChunk, data.size() - at));
    if (PQputCopyData(conn_.get(), data.data() + at, n) != 1) fail(what, nullptr);
  }
  if (PQputCopyEnd(conn_.get(), nullptr) != 1) fail(what, nullptr);
  std::optional<std::string> failure;
  while (PGresult* raw = PQgetResult(conn_.get())) {
    PgResult result(raw);
    if (PQresultStatus(raw) != PGRES_COMMAND_OK && !failure) failure = PQresultErrorMessage(raw);
  }
  if (failure) throw LabError("lab database " + server_ + ": " + std::string(what) + ": " + trimmed(*failure));
}

PgTransaction::PgTransaction(PgConnection& connection, std::string_view what) : connection_(connection), what_(what) {
  connection_.exec("BEGIN", what_);
}

PgTransaction::~PgTransaction() {
  if (!open_) return;
  // A broken connection cannot roll back; the server does when the session ends.
  PQclear(PQexec(connection_.handle(), "ROLLBACK"));
}

void PgTransaction::commit() {
  open_ = false;
  connection_.exec("COMMIT", what_);
}

}  // namespace rig::lab
