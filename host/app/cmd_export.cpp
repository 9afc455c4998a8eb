// `rig export --session ID --format csv|jsonl [--table trials|wheel|licks|sync|frames] [--wheel] [--output FILE]
// [--db PATH]`: a stored session's trials (one row per trial), wheel traces (one row per sample; also --wheel),
// licks (one row per onset or offset), sync edges (one row per rising edge) or camera frames (one row per
// trigger); columns in docs/data-format.md.
// `rig export --format nwb --session ID --out FILE.nwb [--force] [--ephys-sync CSV]` or `--subject S
// --all-sessions --out-dir DIR`: the whole session as an NWB 2.6.0 file (docs/data-format.md, "NWB").
// Exit 2 for bad input (unknown session, missing database, an existing file without --force, an unwritable
// directory), 1 for runtime failures.
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "command_registry.hpp"
#include "ephys_alignment.hpp"
#include "store_access.hpp"
#include "host/analysis/history_regression.hpp"
#include "host/config/rig_config_file.hpp"
#include "host/session/run_support.hpp"
#include "host/store/export.hpp"
#include "host/store/nwb_export.hpp"
#include "host/store/store.hpp"

namespace {

struct ExportOptions {
  std::string db;
  std::int64_t session_id = 0;
  std::string format = "csv";
  bool wheel = false;
  std::string table = "trials";
  std::string output;
  std::string subject;
  bool all_sessions = false;
  std::string out_dir;
  bool force = false;
  std::string ephys_sync;
  std::string experimenter;
};

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

int run_table_export(const ExportOptions& options) {
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
  const auto table =
      options.wheel ? rig::store::ExportTable::kWheel : *rig::store::export_table_from_name(options.table);
  const auto rows = rig::store::export_table(*store, options.session_id, table, format, out);
  out.flush();
  if (!out) {
    std::fprintf(stderr, "rig export: writing %s failed\n", options.output.empty() ? "stdout" : options.output.c_str());
    return rig::app::kExitFailure;
  }
  if (!options.output.empty()) {
    const char* what = table == rig::store::ExportTable::kWheel    ? "wheel samples"
                       : table == rig::store::ExportTable::kLicks  ? "lick edges"
                       : table == rig::store::ExportTable::kSync   ? "sync edges"
                       : table == rig::store::ExportTable::kFrames ? "camera frames"
                                                                   : "trials";
    std::fprintf(stderr, "%lld %s of session %lld written to %s\n", static_cast<long long>(rows), what,
                 static_cast<long long>(options.session_id), options.output.c_str());
  }
  return rig::app::kExitOk;
}

double value_or_nan(const std::optional<rig::analysis::Estimate>& estimate, bool se) {
  if (!estimate) return kNaN;
  return se ? estimate->se : estimate->value;
}

// The session's own trial-history regression (the reference fit: default lags, no penalty) as two tables for
// /analysis: the weights by outcome type and lag, and the two indices.
std::vector<rig::store::NwbTable> regression_tables(const rig::store::Store& store,
                                                    const rig::store::SessionInfo& info) {
  // This session's trials only (not the subject's whole history: --all-sessions exports every session).
  std::vector<rig::analysis::TrialRecord> trials;
  store.for_each_trial(info.session_id,
                       [&](const rig::store::StoredTrial& trial) { trials.push_back(rig::app::to_analysis_record(trial)); });
  const rig::analysis::FitOptions fit_options;
  const auto fit = rig::analysis::fit_history(trials, fit_options);
  // Readable by the same rule as every other place that prints a fit (docs/analysis.md, "Readable fits").
  const auto readable = rig::analysis::estimability(fit);
  const bool estimable = readable.estimable;
  const std::string state = estimable ? "estimable" : readable.reason + "; values NaN";
  const std::string derived =
      "Derived (not recorded): the trial-history logistic regression of this session alone ("
      "docs/analysis.md), " +
      std::to_string(fit.n_trials) + " choice trials, " + std::to_string(fit.lags) + " lags, no penalty; " + state +
      ".";
  std::vector<std::string> terms{"bias"};
  std::vector<std::string> types{""};
  std::vector<double> lags{kNaN};
  std::vector<double> weights{estimable ? fit.bias.value : kNaN};
  std::vector<double> ses{estimable ? fit.bias.se : kNaN};
  for (const auto type : rig::analysis::kOutcomeTypes) {
    const auto& by_lag = fit.weights[static_cast<std::size_t>(type)];
    for (std::size_t k = 0; k < by_lag.size(); ++k) {
      const std::string name(rig::analysis::outcome_name(type));
      terms.push_back(name + "_lag" + std::to_string(k + 1));
      types.push_back(name);
      lags.push_back(static_cast<double>(k + 1));
      weights.push_back(estimable ? value_or_nan(by_lag[k], false) : kNaN);
      ses.push_back(estimable ? value_or_nan(by_lag[k], true) : kNaN);
    }
  }
  rig::store::NwbTable weights_table{
      "history_regression_weights",
      derived + " One row per regressor: log-odds of a right choice added by the outcome type k trials back.",
      {{"term", "the regressor: bias, or <outcome type>_lag<k>", terms},
       {"outcome_type", "none, controllable, distractor or both (empty for the bias)", types},
       {"lag", "k, trials back (NaN for the bias)", lags},
       {"weight", "the weight, log-odds of a right choice (NaN: not estimable or the outcome never occurred)", weights},
       {"se", "its standard error, log-odds", ses}}};
  rig::store::NwbTable indices_table{
      "credit_indices",
      derived +
          " The controllable index sums (w_controllable,k - w_none,k) over the lags, the distractor index "
          "(w_distractor,k - w_none,k): how much each flavour is credited to the choice that preceded it.",
      {{"index", "controllable or distractor", std::vector<std::string>{"controllable", "distractor"}},
       {"value", "the index, log-odds (NaN: not estimable)",
        std::vector<double>{estimable ? value_or_nan(fit.controllable_index, false) : kNaN,
                            estimable ? value_or_nan(fit.distractor_index, false) : kNaN}},
       {"se", "its standard error, log-odds",
        std::vector<double>{estimable ? value_or_nan(fit.controllable_index, true) : kNaN,
                            estimable ? value_or_nan(fit.distractor_index, true) : kNaN}}}};
  return {std::move(weights_table), std::move(indices_table)};
}

// One session to one NWB file. Returns an exit code; prints what it wrote or why not.
int export_one_nwb(const rig::store::Store& store, const rig::store::SessionInfo& info, const std::string& path,
                   const ExportOptions& options) {
  rig::store::NwbOptions nwb;
  nwb.force = options.force;
  nwb.experimenter = options.experimenter;
  const auto start = store.session_start(info.session_id);
  // The lab and institution come from the rig config the session ran with, as stored with it.
  const auto rig = rig::config::parse_rig_config(start.rig_config_text, start.rig_config_path);
  if (rig.ok()) {
    nwb.lab = rig.value->lab_name;
    nwb.institution = rig.value->institution;
  }
  std::optional<rig::analysis::SyncAlignment> alignment;
  if (!options.ephys_sync.empty()) {
    int exit_code = rig::app::kExitOk;
    alignment = rig::app::align_session_to_ephys("export", store, info.session_id, options.ephys_sync, exit_code);
    if (!alignment) return exit_code;
    nwb.device_to_ephys_s = [a = *alignment](std::int64_t device_us) { return a.to_ephys_s(device_us); };
    nwb.ephys_clock_description = "seconds of the recording whose sync edges are " + options.ephys_sync + " (" +
                                  std::to_string(alignment->matched) + " pulses matched, residual " +
                                  std::to_string(alignment->residual_us_max) + " us max)";
  }
  nwb.analysis = regression_tables(store, info);
  try {
    const auto summary = rig::store::export_nwb(store, info.session_id, path, nwb);
    std::fprintf(stderr,
                 "session %lld written to %s: %lld trials, %lld wheel samples, %lld lick edges, %lld valve "
                 "openings, %lld sync edges, %lld camera frames%s\n",
                 static_cast<long long>(info.session_id), path.c_str(), static_cast<long long>(summary.trials),
                 static_cast<long long>(summary.wheel_samples), static_cast<long long>(summary.lick_edges),
                 static_cast<long long>(summary.valve_openings), static_cast<long long>(summary.sync_edges),
                 static_cast<long long>(summary.camera_frames), alignment ? " (on the ephys clock)" : "");
    return rig::app::kExitOk;
  } catch (const rig::store::NwbInputError& e) {
    std::fprintf(stderr, "rig export: %s\n", e.what());
    return rig::app::kExitInvalid;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rig export: session %lld to %s: %s\n", static_cast<long long>(info.session_id), path.c_str(),
                 e.what());
    return rig::app::kExitFailure;
  }
}

int run_nwb_export(const ExportOptions& options) {
  int exit_code = rig::app::kExitOk;
  if (options.all_sessions) {
    auto store = rig::app::open_store_reading("export", options.db, exit_code);
    if (!store) return exit_code;
    const auto sessions = store->sessions(options.subject);
    if (sessions.empty()) {
      std::fprintf(stderr, "rig export: subject '%s' has no sessions in %s (`rig sessions` lists them)\n",
                   options.subject.c_str(), store->path().c_str());
      return rig::app::kExitInvalid;
    }
    std::error_code error;
    if (!std::filesystem::is_directory(options.out_dir, error)) {
      std::fprintf(stderr, "rig export: --out-dir %s is not a directory\n", options.out_dir.c_str());
      return rig::app::kExitInvalid;
    }
    std::size_t done = 0;
    for (const auto& info : sessions) {
      // <subject>_session-<id>_<uuid prefix>.nwb: sortable, and unique across rigs (the uuid).
      const auto name = info.subject_id + "_session-" + std::to_string(info.session_id) + "_" +
                        info.session_uuid.substr(0, 8) + ".nwb";
      const auto path = (std::filesystem::path(options.out_dir) / name).string();
      std::fprintf(stderr, "[%zu/%zu] ", ++done, sessions.size());
      const int code = export_one_nwb(*store, info, path, options);
      if (code != rig::app::kExitOk) return code;
    }
    return rig::app::kExitOk;
  }
  auto store = rig::app::open_store_reading("export", options.db, exit_code, options.session_id);
  if (!store) return exit_code;
  return export_one_nwb(*store, *store->session(options.session_id), options.output, options);
}

// Which arguments go with which format; a clear message and exit 2 for a combination that does not.
int run_export(const ExportOptions& options) {
  const bool nwb = options.format == "nwb";
  const auto refuse = [](const char* why) {
    std::fprintf(stderr, "rig export: %s (rig export --help)\n", why);
    return rig::app::kExitInvalid;
  };
  if (options.all_sessions != !options.subject.empty()) return refuse("--subject and --all-sessions go together");
  if (options.all_sessions && options.session_id != 0) return refuse("--session or --subject --all-sessions, not both");
  if (!options.all_sessions && options.session_id == 0) return refuse("--session is required");
  if (!nwb) {
    if (options.all_sessions) return refuse("--all-sessions writes NWB files: add --format nwb");
    if (!options.out_dir.empty() || options.force || !options.ephys_sync.empty() || !options.experimenter.empty()) {
      return refuse("--out-dir, --force, --ephys-sync and --experimenter are for --format nwb");
    }
    return run_table_export(options);
  }
  if (options.wheel || options.table != "trials")
    return refuse("an NWB file holds every table: leave out --table and --wheel");
  if (options.all_sessions) {
    if (options.out_dir.empty()) return refuse("--all-sessions needs --out-dir DIR");
    if (!options.output.empty()) return refuse("--all-sessions writes into --out-dir, not --out");
    if (!options.ephys_sync.empty()) return refuse("--ephys-sync aligns one session: use it with --session");
  } else {
    if (options.output.empty()) return refuse("--format nwb needs --out FILE.nwb");
    if (!options.out_dir.empty()) return refuse("--out-dir goes with --subject S --all-sessions");
  }
  return run_nwb_export(options);
}

const rig::app::CommandRegistration kExportRegistration{
    "export",
    "Export a session's trials, wheel, licks, sync edges or camera frames as CSV or JSON Lines, or whole sessions "
    "as NWB files",
    [](CLI::App& command) {
      auto options = std::make_shared<ExportOptions>();
      command.add_option("--db", options->db, "Store database (default: $XDG_DATA_HOME/rig/rig.sqlite)");
      command.add_option("--session", options->session_id, "Session id (see `rig sessions`)");
      command
          .add_option("--format", options->format,
                      "csv or jsonl (one table), or nwb (the whole session, NWB 2.6.0 on HDF5)")
          ->check(CLI::IsMember({"csv", "jsonl", "nwb"}))
          ->capture_default_str();
      command
          .add_option("--table", options->table,
                      "trials (one row per trial), wheel (per sample), licks (per onset or offset), sync (per "
                      "rising edge of the sync output) or frames (per camera trigger)")
          ->check(CLI::IsMember({"trials", "wheel", "licks", "sync", "frames"}))
          ->capture_default_str();
      command.add_flag("--wheel", options->wheel, "Same as --table wheel");
      command.add_option("--output,--out", options->output,
                         "Write to FILE instead of stdout (required for nwb: the .nwb file to write)");
      command.add_option("--subject", options->subject, "With --all-sessions: every session of this subject");
      command.add_flag("--all-sessions", options->all_sessions,
                       "With --subject and --format nwb: one file per session in --out-dir");
      command.add_option("--out-dir", options->out_dir,
                         "With --all-sessions: the directory for the files (<subject>_session-<id>_<uuid>.nwb)");
      command.add_flag("--force", options->force, "nwb: replace files that exist");
      command.add_option("--ephys-sync", options->ephys_sync,
                         "nwb: put the session on a recording's clock: a CSV of the sync line's rising edges as the "
                         "recording saw them (a time_s column; as for `rig align`)");
      command.add_option("--experimenter", options->experimenter,
                         "nwb: who ran the session (default: who weighed the mouse that day)");
      return [options] { return run_export(*options); };
    }};

}  // namespace
