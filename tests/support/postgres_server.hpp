// A private PostgreSQL server for a test (issue 18: no mock of PostgreSQL): initdb into a fresh directory,
// started with pg_ctl on a Unix socket in that directory and on 127.0.0.1 at a free port, stopped and removed
// when the object goes. Debian's server binaries (RIG_PG_BINDIR, installed by scripts/setup); as root (CI) the
// server runs as the `postgres` user, since initdb refuses root. fsync is off: the tests check the rig's
// behaviour when the server stops, restarts or hangs, not PostgreSQL's durability.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <chrono>
#include <string>
#include <thread>

#include "support/free_port.hpp"
#include "support/run_command.hpp"

#ifndef RIG_PG_BINDIR
#error "RIG_PG_BINDIR: the directory of initdb and pg_ctl (tests/CMakeLists.txt)"
#endif

namespace rig::testing {

class PostgresServer {
 public:
  // Creates and starts the server in TMPDIR/rig-pg-NAME-PID. Throws std::runtime_error with the tools' output.
  explicit PostgresServer(const std::string& name)
      : dir_(std::filesystem::temp_directory_path() / ("rig-pg-" + name + "-" + std::to_string(::getpid()))),
        port_(unused_port()) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    if (::geteuid() == 0) as_user_ = "runuser -u postgres -- ";
    if (!as_user_.empty()) run_checked("chown postgres " + dir_.string(), "chown");
    run_checked(as_user_ + RIG_PG_BINDIR "/initdb -D " + data() + " -U postgres -A trust --no-sync -E UTF8 --locale=C",
                "initdb");
    start();
  }
  ~PostgresServer() {
    run_command(as_user_ + RIG_PG_BINDIR "/pg_ctl stop -D " + data() + " -m immediate -w >/dev/null 2>&1");
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // Starts (or restarts after stop()) the server and waits until it accepts connections.
  void start() {
    run_checked(as_user_ + RIG_PG_BINDIR "/pg_ctl start -w -t 60 -D " + data() + " -l " + (dir_ / "server.log").string() +
                    " -o \"-k " + dir_.string() + " -p " + std::to_string(port_) +
                    " -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=120\"",
                "pg_ctl start");
  }
  // Stops the server: `fast` ends its sessions (as a restart would), `immediate` as a crash.
  void stop(const std::string& mode = "fast") {
    run_checked(as_user_ + RIG_PG_BINDIR "/pg_ctl stop -w -D " + data() + " -m " + mode, "pg_ctl stop");
  }

  // A libpq URL for `database` as `user` over the Unix socket.
  std::string url(const std::string& database = "postgres", const std::string& user = "postgres") const {
    return "postgresql:///" + database + "?host=" + dir_.string() + "&port=" + std::to_string(port_) + "&user=" + user;
  }
  // The same over TCP to 127.0.0.1 (through a proxy, for instance).
  std::string tcp_url(int port, const std::string& database = "postgres", const std::string& user = "postgres") const {
    return "postgresql://" + user + "@127.0.0.1:" + std::to_string(port) + "/" + database;
  }
  // Runs SQL with psql as the superuser; returns its output (unaligned, tuples only). Throws on failure.
  std::string psql(const std::string& sql, const std::string& database = "postgres") const {
    const std::string sql_file = (dir_ / "query.sql").string();
    {
      std::FILE* f = std::fopen(sql_file.c_str(), "w");
      if (!f) throw std::runtime_error("cannot write " + sql_file);
      std::fputs(sql.c_str(), f);
      std::fclose(f);
    }
    const auto run = run_command("psql -X -q -A -t -v ON_ERROR_STOP=1 -d '" + url(database) + "' -f " + sql_file + " 2>&1");
    if (run.exit_code != 0) throw std::runtime_error("psql: " + run.output);
    return run.output;
  }
  // A fresh, empty database for the running test: PREFIX_testname in lower case (dropped first if an earlier run
  // left it). Returns its name.
  std::string fresh_database(const std::string& prefix) const {
    std::string name = prefix + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    psql("DROP DATABASE IF EXISTS " + name + "; CREATE DATABASE " + name + ";");
    return name;
  }
  // Serves TLS from now on (TCP clients may then ask for it; none must): `cert` and `key` (PEM files) are copied
  // into the data directory, readable by the server's user only, and the configuration reloaded. Throws
  // std::runtime_error with the tools' output.
  void enable_tls(const std::filesystem::path& cert, const std::filesystem::path& key) {
    for (const auto& [from, name] : {std::pair{cert, "server.crt"}, std::pair{key, "server.key"}}) {
      const std::string to = data() + "/" + name;
      run_checked("cp " + from.string() + " " + to + " && chmod 600 " + to + (as_user_.empty() ? "" : " && chown postgres " + to),
                  "copy " + std::string(name));
    }
    psql("ALTER SYSTEM SET ssl = on; ALTER SYSTEM SET ssl_cert_file = 'server.crt'; "
         "ALTER SYSTEM SET ssl_key_file = 'server.key'; SELECT pg_reload_conf();");
    // The reload is asynchronous: a new session shows `ssl` on once the server has read the files.
    for (int i = 0; i < 600 && psql("SHOW ssl").rfind("on", 0) != 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (psql("SHOW ssl").rfind("on", 0) != 0) {
      throw std::runtime_error("the server did not turn TLS on; its log: " + (dir_ / "server.log").string());
    }
  }
  int port() const { return port_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::string data() const { return (dir_ / "data").string(); }

  void run_checked(const std::string& command, const std::string& what) const {
    const auto run = run_command(command + " 2>&1");
    if (run.exit_code != 0) throw std::runtime_error(what + " failed (" + command + "):\n" + run.output);
  }

  std::filesystem::path dir_;
  int port_;
  std::string as_user_;
};

// A suite with a private server of its own (started before its first test, stopped after its last, named after the
// suite) and a fresh, empty database for each test (PREFIX_testname, see fresh_database).
class PostgresSuite : public ::testing::Test {
 protected:
  explicit PostgresSuite(std::string prefix) : prefix_(std::move(prefix)) {}
  static void SetUpTestSuite() {
    server_ = std::make_unique<PostgresServer>(::testing::UnitTest::GetInstance()->current_test_suite()->name());
  }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override { database_ = server_->fresh_database(prefix_); }
  // The test's database as the superuser, over the Unix socket.
  std::string url() const { return server_->url(database_); }

  inline static std::unique_ptr<PostgresServer> server_;
  std::string database_;

 private:
  std::string prefix_;
};

}  // namespace rig::testing
