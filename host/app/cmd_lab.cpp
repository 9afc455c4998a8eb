// `rig lab init --url URL`: creates or migrates the lab's PostgreSQL schema (docs/lab.md).
// `rig sync [--db DB] --lab URL [--config FILE]`: pushes the rig's outbox to the lab once (rigd pushes in the
// background; this is for a rig that was offline, or an old database).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "command_registry.hpp"
#include "host/lab/lab_schema.hpp"
#include "host/lab/lab_sync.hpp"
#include "run_support.hpp"

namespace rig::app {
namespace {

constexpr const char* kUrlHelp =
    "The lab database: a libpq URL or connection string (postgresql://rig@lab.example.org/lab?sslmode=verify-full, "
    "service=lab); its password comes from ~/.pgpass or a service file, never the command line (docs/lab.md)";

// Runs `body` with the lab's refusals of bad input as InputError (exit 2).
template <class Body>
int with_lab_input(Body&& body) {
  try {
    return body();
  } catch (const lab::LabInputError& e) {
    throw InputError(e.what());
  }
}

int lab_init(const std::string& url) {
  return with_lab_input([&] {
    // A migration may rewrite or index a large table: no limit on how long the server takes to answer.
    lab::PgConnection lab(url, lab::PgTimeouts{10, std::chrono::milliseconds(0)});
    const int before = lab::migrate_lab(lab);
    const int after = lab::lab_schema_version(lab);
    if (before == after) {
      std::printf("lab database %s is at schema version %d: nothing to do\n", lab.server().c_str(), after);
    } else if (before == 0) {
      std::printf("lab database %s created at schema version %d\n", lab.server().c_str(), after);
    } else {
      std::printf("lab database %s migrated from schema version %d to %d\n", lab.server().c_str(), before, after);
    }
    return kExitOk;
  });
}

struct SyncOptions {
  std::string db;
  std::string url;
  std::string config;
  std::size_t batch = 5000;
  bool all = false;
  bool quiet = false;
};

int sync(const SyncOptions& o) {
  return with_lab_input([&] {
    const auto rig = load_rig_config_checked(o.config.empty() ? default_rig_config_path() : o.config);
    const std::string path = o.db.empty() ? store::Store::default_path() : o.db;
    if (!std::filesystem::exists(path)) throw InputError("store " + path + ": no such database file");
    auto store = store::Store::open(path);
    lab::PgConnection lab(o.url, lab::PgTimeouts{10, std::chrono::milliseconds(static_cast<std::int64_t>(rig.value.lab.timeout_s * 1000.0))});
    if (o.all) std::fprintf(stderr, "rig sync: %lld rows queued again\n", static_cast<long long>(store.outbox_enqueue_all()));
    const auto start = std::chrono::steady_clock::now();
    lab::PushOptions options;
    options.batch_entries = o.batch;
    if (!o.quiet) {
      options.on_batch = [](const lab::PushResult& progress) {
        std::fprintf(stderr, "rig sync: %zu rows pushed, %lld outbox entries left\n", progress.rows,
                     static_cast<long long>(progress.backlog.entries));
      };
    }
    const auto result = lab::push_outbox(store, lab, rig.value.id, options);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::string tables;
    for (const auto& [table, rows] : result.rows_by_table) tables += (tables.empty() ? "" : ", ") + table + " " + std::to_string(rows);
    std::printf("pushed %zu rows of %s as rig %s to %s in %.1f s%s%s%s\n", result.rows, path.c_str(), rig.value.id.c_str(),
                lab.server().c_str(), seconds, tables.empty() ? "" : " (", tables.c_str(), tables.empty() ? "" : ")");
    return kExitOk;
  });
}

const CommandRegistration kLab{
    "lab", "The lab database: `rig lab init --url URL` creates or migrates its schema (docs/lab.md)",
    [](CLI::App& command) {
      auto url = std::make_shared<std::string>();
      command.require_subcommand(1);
      CLI::App* init = command.add_subcommand("init", "Create or migrate the lab's PostgreSQL schema");
      init->add_option("--url", *url, kUrlHelp)->required();
      return [url] { return run_with_errors("lab", [&] { return lab_init(*url); }); };
    }};

const CommandRegistration kSync{
    "sync", "Push this rig's stored sessions, trials and records to the lab database once (docs/lab.md)",
    [](CLI::App& command) {
      auto o = std::make_shared<SyncOptions>();
      command.add_option("--db", o->db, "Session database (default: $XDG_DATA_HOME/rig/rig.sqlite)");
      command.add_option("--lab", o->url, kUrlHelp)->required();
      command.add_option("--config", o->config,
                         "Rig config YAML, for rig.id (default: $RIG_CONFIG, ~/.config/rig/rig.yaml, or the simulated rig's example)");
      command.add_option("--batch", o->batch, "Outbox entries per lab transaction")->check(CLI::Range(1, 1000000));
      command.add_flag("--all", o->all,
                       "Send every row again, not only what the lab has not received (a lab restored from an older backup)");
      command.add_flag("--quiet", o->quiet, "No progress lines");
      return [o] { return run_with_errors("sync", [&] { return sync(*o); }); };
    }};

}  // namespace
}  // namespace rig::app
