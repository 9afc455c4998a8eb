// `rig align --session N --ephys-sync FILE [--db PATH] [--json] [--out ALIGNED.csv]`: puts a stored session on
// a recording's clock. FILE lists the rising edges of the rig's sync line as the acquisition system (SpikeGLX,
// Open Ephys) saw them; the aligner (host/analysis/sync_align.hpp, docs/analysis.md) matches them to the sync
// edges the rig stored, reports the fit, and with --out writes every trial event and lick on the ephys clock.
// Exit 2 for bad input (no such session, no sync edges, a malformed file, too few pulses matched), 1 for
// runtime failures.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "command_registry.hpp"
#include "ephys_alignment.hpp"
#include "store_access.hpp"
#include "host/analysis/sync_align.hpp"
#include "host/config/bounded_read.hpp"
#include "host/model/enums.hpp"
#include "host/store/store.hpp"

namespace {

struct AlignOptions {
  std::string db;
  std::int64_t session_id = 0;
  std::string ephys_sync;
  bool json = false;
  std::string out;
};

// An event of the session on the device clock, for --out.
struct TimedEvent {
  std::int64_t device_us;
  std::uint32_t trial_number;
  const char* event;
  std::string spout;  // empty when the event has none
};

std::vector<TimedEvent> session_events(const rig::store::Store& store, std::int64_t session_id) {
  std::vector<TimedEvent> events;
  store.for_each_trial(session_id, [&](const rig::store::StoredTrial& t) {
    if (t.go_cue_device_us) events.push_back({*t.go_cue_device_us, t.trial_number, "go_cue", ""});
    if (t.choice_device_us) events.push_back({*t.choice_device_us, t.trial_number, "choice", ""});
    if (t.valve_open_device_us) {
      for (const auto valve : {rig::wire::Valve::kCherry, rig::wire::Valve::kGrape}) {
        const auto open_us = rig::model::delivered_open_us(t, valve);
        if (open_us == 0) continue;
        const std::string spout(rig::model::flavour_name(valve));
        events.push_back({*t.valve_open_device_us, t.trial_number, "valve_open", spout});
        events.push_back({*t.valve_open_device_us + open_us, t.trial_number, "valve_close", spout});
      }
    }
  });
  store.for_each_recording<rig::model::LickRecord>(session_id, [&](const rig::model::LickRecord& lick) {
    events.push_back({lick.device_us, lick.trial_number, lick.onset ? "lick_onset" : "lick_offset",
                      std::string(rig::model::flavour_name(lick.spout))});
  });
  std::stable_sort(events.begin(), events.end(),
                   [](const TimedEvent& a, const TimedEvent& b) { return a.device_us < b.device_us; });
  return events;
}

nlohmann::json alignment_json(std::int64_t session_id, const std::string& file, const rig::analysis::SyncAlignment& a,
                              std::size_t rig_edges, std::size_t ephys_edges) {
  return {{"session_id", session_id},
          {"ephys_sync", file},
          {"rig_edges", rig_edges},
          {"ephys_edges", ephys_edges},
          {"matched", a.matched},
          {"missing_rig", a.missing_rig},
          {"missing_ephys", a.missing_ephys},
          {"slope", a.slope},
          {"drift_ppm", (a.slope - 1.0) * 1e6},
          {"offset_s", a.offset_s},
          {"piecewise", a.piecewise},
          {"segments", a.segments.size()},
          {"residual_us_rms", a.residual_us_rms},
          {"residual_us_max", a.residual_us_max}};
}

int run_align(const AlignOptions& options) {
  int exit_code = rig::app::kExitOk;
  auto store = rig::app::open_store_reading("align", options.db, exit_code, options.session_id);
  if (!store) return exit_code;
  std::size_t device_edges = 0;
  std::size_t ephys_edges = 0;
  const auto alignment = rig::app::align_session_to_ephys("align", *store, options.session_id, options.ephys_sync,
                                                          exit_code, &device_edges, &ephys_edges);
  if (!alignment) return exit_code;
  const auto json = alignment_json(options.session_id, options.ephys_sync, *alignment, device_edges, ephys_edges);
  if (!options.out.empty()) {
    std::ofstream out(options.out, std::ios::binary | std::ios::trunc);
    if (!out) {
      std::fprintf(stderr, "rig align: cannot write %s\n", options.out.c_str());
      return rig::app::kExitFailure;
    }
    out << "trial_number,event,spout,device_us,ephys_s\n";
    std::size_t rows = 0;
    char ephys[40];
    for (const TimedEvent& e : session_events(*store, options.session_id)) {
      std::snprintf(ephys, sizeof ephys, "%.9f", alignment->to_ephys_s(e.device_us));
      out << e.trial_number << ',' << e.event << ',' << e.spout << ',' << e.device_us << ',' << ephys << '\n';
      ++rows;
    }
    out.flush();
    if (!out) {
      std::fprintf(stderr, "rig align: writing %s failed\n", options.out.c_str());
      return rig::app::kExitFailure;
    }
    std::fprintf(stderr, "%zu events of session %lld on the ephys clock written to %s\n", rows,
                 static_cast<long long>(options.session_id), options.out.c_str());
  }
  if (options.json) {
    std::cout << json.dump(2) << '\n';
  } else {
    std::printf(
        "session %lld aligned to %s: %zu of %zu rig pulses matched (%zu missing on the rig, %zu in the recording)\n"
        "  ephys_s = %.9f + %.12f * device_s (drift %+.2f ppm%s)\n"
        "  residual %.1f us rms, %.1f us max\n",
        static_cast<long long>(options.session_id), options.ephys_sync.c_str(), alignment->matched, device_edges,
        alignment->missing_rig, alignment->missing_ephys, alignment->offset_s, alignment->slope,
        (alignment->slope - 1.0) * 1e6,
        alignment->piecewise ? (", piecewise over " + std::to_string(alignment->segments.size()) + " segments").c_str() : "",
        alignment->residual_us_rms, alignment->residual_us_max);
  }
  return rig::app::kExitOk;
}

const rig::app::CommandRegistration kAlignRegistration{
    "align", "Put a session on a Neuropixels recording's clock from the sync pulses both recorded",
    [](CLI::App& command) {
      auto options = std::make_shared<AlignOptions>();
      command.add_option("--db", options->db, "Store database (default: $XDG_DATA_HOME/rig/rig.sqlite)");
      command.add_option("--session", options->session_id, "Session id (see `rig sessions`)")->required();
      command.add_option("--ephys-sync", options->ephys_sync,
                         "CSV of the sync line's rising edges on the recording's clock: a header with a time_s "
                         "column (seconds), one edge per line (SpikeGLX / Open Ephys export)")
          ->required();
      command.add_flag("--json", options->json, "Print the alignment as JSON");
      command.add_option("--out", options->out,
                         "Write every go cue, choice, valve opening and closing and lick of the session with its "
                         "ephys time (CSV: trial_number,event,spout,device_us,ephys_s)");
      return [options] { return run_align(*options); };
    }};

}  // namespace
