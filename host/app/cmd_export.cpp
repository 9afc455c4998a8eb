// `rig export --session ID --format csv|jsonl [--wheel] [--output FILE] [--db PATH]`: a stored session's trials
// (one row per trial) or, with --wheel, its wheel traces (one row per sample); columns in docs/data-format.md.
// Exit 2 for bad input (unknown session, missing database), 1 for runtime failures.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "command_registry.hpp"
#include "host/store/export.hpp"
#include "host/store/store.hpp"

namespace {

struct ExportOptions {
  std::string db;
  std::int64_t session_id = 0;
  std::string format = "csv";
  bool wheel = false;
  std::string output;
};

int run_export(const ExportOptions& options) {
  const auto path = options.db.empty() ? rig::store::Store::default_path() : options.db;
  std::optional<rig::store::Store> store;
  try {
    store.emplace(rig::store::Store::open(path, rig::store::OpenOptions::reading()));
  } catch (const rig::store::StoreError& e) {
    std::fprintf(stderr, "rig export: %s\n", e.what());
    return e.cannot_open() ? rig::app::kExitInvalid : rig::app::kExitFailure;
  }
  if (!store->session(options.session_id)) {
    std::fprintf(stderr, "rig export: no session %lld in %s (`rig sessions` lists them)\n",
                 static_cast<long long>(options.session_id), path.c_str());
    return rig::app::kExitInvalid;
  }
  const auto format = *rig::store::export_format_from_name(options.format);
  std::ofstream file;
  if (!options.output.empty()) {
    file.open(options.output, std::ios::binary | std::ios::trunc);
    if (!file) {
      std::fprintf(stderr, "rig export: cannot write %s\n", options.output.c_str());
      return rig::app::kExitFailure;
    }
  }
  std::ostream& out = options.output.empty() ? std::cout : file;
  const auto rows = options.wheel ? rig::store::export_wheel(*store, options.session_id, format, out)
                                  : rig::store::export_trials(*store, options.session_id, format, out);
  out.flush();
  if (!out) {
    std::fprintf(stderr, "rig export: writing %s failed\n", options.output.empty() ? "stdout" : options.output.c_str());
    return rig::app::kExitFailure;
  }
  if (!options.output.empty()) {
    std::fprintf(stderr, "%lld %s of session %lld written to %s\n", static_cast<long long>(rows),
                 options.wheel ? "wheel samples" : "trials", static_cast<long long>(options.session_id),
                 options.output.c_str());
  }
  return rig::app::kExitOk;
}

const rig::app::CommandRegistration kRegistration{
    "export", "Export a session's trials (or --wheel traces) as CSV or JSON Lines for pandas/R",
    [](CLI::App& command) {
      auto options = std::make_shared<ExportOptions>();
      command.add_option("--db", options->db, "Store database (default: $XDG_DATA_HOME/rig/rig.sqlite)");
      command.add_option("--session", options->session_id, "Session id (see `rig sessions`)")->required();
      command.add_option("--format", options->format, "csv or jsonl")
          ->check(CLI::IsMember({"csv", "jsonl"}))
          ->capture_default_str();
      command.add_flag("--wheel", options->wheel,
                       "Export the wheel traces, one row per sample (session_id, trial_number, t_us, position_ticks)");
      command.add_option("--output", options->output, "Write to FILE instead of stdout");
      return [options] { return run_export(*options); };
    }};

}  // namespace
