// `rig export --session ID --format csv|jsonl [--table trials|wheel|licks|sync|frames] [--wheel] [--output FILE]
// [--db PATH]`: a stored session's trials (one row per trial), wheel traces (one row per sample; also --wheel),
// licks (one row per onset or offset), sync edges (one row per rising edge) or camera frames (one row per
// trigger); columns in docs/data-format.md.
// Exit 2 for bad input (unknown session, missing database), 1 for runtime failures.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "command_registry.hpp"
#include "store_access.hpp"
#include "host/store/export.hpp"
#include "host/store/store.hpp"

namespace {

struct ExportOptions {
  std::string db;
  std::int64_t session_id = 0;
  std::string format = "csv";
  bool wheel = false;
  std::string table = "trials";
  std::string output;
};

int run_export(const ExportOptions& options) {
  int exit_code = rig::app::kExitOk;
  auto store = rig::app::open_store_reading("export", options.db, exit_code, options.session_id);
  if (!store) return exit_code;
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
  const auto table = options.wheel ? rig::store::ExportTable::kWheel : *rig::store::export_table_from_name(options.table);
  const auto rows = rig::store::export_table(*store, options.session_id, table, format, out);
  out.flush();
  if (!out) {
    std::fprintf(stderr, "rig export: writing %s failed\n", options.output.empty() ? "stdout" : options.output.c_str());
    return rig::app::kExitFailure;
  }
  if (!options.output.empty()) {
    const char* what = table == rig::store::ExportTable::kWheel   ? "wheel samples"
                       : table == rig::store::ExportTable::kLicks ? "lick edges"
                       : table == rig::store::ExportTable::kSync  ? "sync edges"
                       : table == rig::store::ExportTable::kFrames ? "camera frames"
                                                                    : "trials";
    std::fprintf(stderr, "%lld %s of session %lld written to %s\n", static_cast<long long>(rows), what,
                 static_cast<long long>(options.session_id),
                 options.output.c_str());
  }
  return rig::app::kExitOk;
}

const rig::app::CommandRegistration kExportRegistration{
    "export", "Export a session's trials, wheel, licks, sync edges or camera frames as CSV or JSON Lines",
    [](CLI::App& command) {
      auto options = std::make_shared<ExportOptions>();
      command.add_option("--db", options->db, "Store database (default: $XDG_DATA_HOME/rig/rig.sqlite)");
      command.add_option("--session", options->session_id, "Session id (see `rig sessions`)")->required();
      command.add_option("--format", options->format, "csv or jsonl")
          ->check(CLI::IsMember({"csv", "jsonl"}))
          ->capture_default_str();
      command.add_option("--table", options->table,
                         "trials (one row per trial), wheel (per sample), licks (per onset or offset), sync (per "
                         "rising edge of the sync output) or frames (per camera trigger)")
          ->check(CLI::IsMember({"trials", "wheel", "licks", "sync", "frames"}))
          ->capture_default_str();
      command.add_flag("--wheel", options->wheel, "Same as --table wheel");
      command.add_option("--output", options->output, "Write to FILE instead of stdout");
      return [options] { return run_export(*options); };
    }};

}  // namespace
