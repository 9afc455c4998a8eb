#include "host/config/subjects_file.hpp"
#include "host/config/rig_config_file.hpp"
#include "host/config/protocol_file.hpp"
#include "run_support.hpp"
#include "welfare_support.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "host/analysis/crt.hpp"
#include "store_recorder.hpp"
#include "host/analysis/fit_json.hpp"
#include "host/analysis/history_regression.hpp"
#include "host/task/compatibility.hpp"
#include "host/task/diagnostics.hpp"

namespace rig::app {
namespace {

template <typename T>
T take(task::Loaded<T> loaded, const std::string& what) {
  if (loaded.ok()) return std::move(*loaded.value);
  std::string message = "invalid " + what + ":";
  for (const auto& d : loaded.diagnostics) message += "\n  " + task::format_diagnostic(d);
  throw InputError(message);
}

}  // namespace

std::string read_file(const std::string& path, std::size_t max_bytes) {
  config::BoundedRead read = config::read_bounded_file(path, max_bytes);
  if (!read.text) throw InputError(path + ": cannot read (" + read.error + ")");
  return std::move(*read.text);
}

CheckedFile<task::RigConfig> load_rig_config_checked(const std::string& path) {
  CheckedFile<task::RigConfig> file{path, read_file(path), {}};
  file.value = take(config::parse_rig_config(file.text, path), "rig config");
  return file;
}

CheckedFile<task::Protocol> load_protocol_checked(const std::string& path, const task::RigConfig& rig) {
  CheckedFile<task::Protocol> file{path, read_file(path, rig.max_file_bytes), {}};
  file.value = take(config::parse_protocol(file.text, path), "protocol");
  const auto problems = task::check_compatibility(file.value, rig);
  if (!problems.empty()) {
    std::string message = "the protocol cannot run on this rig:";
    for (const auto& d : problems) message += "\n  " + task::format_diagnostic(d);
    throw InputError(message);
  }
  return file;
}

std::vector<analysis::TrialRecord> subject_history(const store::Store& db, const std::string& subject_id,
                                                   const store::SubjectElsewhere* elsewhere) {
  std::vector<analysis::TrialRecord> history;
  if (elsewhere) {
    for (const auto& session : elsewhere->sessions) {
      for (const auto& t : session.trials) {
        history.push_back(to_analysis_record(t));
        history.back().session_id = session.rig_id + "/" + std::to_string(session.session_id);
      }
    }
  }
  for (const auto& t : db.subject_trials(subject_id)) history.push_back(to_analysis_record(t));
  return history;
}

std::string default_rig_config_path() {
  if (const char* env = std::getenv("RIG_CONFIG"); env && *env) return env;
  if (const char* home = std::getenv("HOME"); home && *home) {
    const std::string user = std::string(home) + "/.config/rig/rig.yaml";
    if (std::filesystem::exists(user)) return user;
  }
  // An installed rig has the package's conffile; a build tree has the simulated rig's example.
  if (config::installed_data("") && std::filesystem::exists(config::kSystemRigConfig)) return config::kSystemRigConfig;
  return std::string(RIG_SOURCE_DIR) + "/config/rig.sim.yaml";
}

const task::Subject& subject_in(const task::SubjectList& list, const std::string& subjects_path,
                                const std::string& subject_id) {
  const task::Subject* subject = list.find(subject_id);
  if (!subject) {
    std::string known;
    for (const auto& s : list.subjects) known += (known.empty() ? "" : ", ") + s.id;
    throw InputError(subjects_path + ": no subject '" + subject_id + "' (known: " + known + ")");
  }
  return *subject;
}

RigFiles load_rig_files(const std::string& config, const std::string& subjects) {
  RigFiles files;
  auto rig = load_rig_config_checked(config.empty() ? default_rig_config_path() : config);
  files.rig_path = std::move(rig.path);
  files.rig_text = std::move(rig.text);
  files.rig = std::move(rig.value);
  files.subjects_path = subjects.empty()
                            ? (std::filesystem::path(files.rig_path).parent_path() / "subjects.yaml").string()
                            : subjects;
  files.subjects = load_subjects_checked(files.subjects_path, files.rig.max_file_bytes);
  return files;
}

task::SubjectList load_subjects_checked(const std::string& path, std::size_t max_bytes) {
  return take(config::parse_subjects(read_file(path, max_bytes), path), "subjects file");
}

std::vector<std::filesystem::path> protocol_dirs(const RigFiles& files) {
  std::vector<std::string> named;
  for (const auto& dir : files.rig.protocol_dirs) named.push_back(task::resolve_relative(files.rig_path, dir));
  if (named.empty()) {
    for (const auto& s : files.subjects.subjects) {
      named.push_back(std::filesystem::path(task::resolve_relative(files.subjects_path, s.stage)).parent_path().string());
    }
  }
  std::vector<std::filesystem::path> dirs;
  for (const auto& dir : named) {
    std::error_code ec;
    auto canonical = std::filesystem::canonical(dir.empty() ? "." : dir, ec);
    if (ec || !std::filesystem::is_directory(canonical, ec)) continue;
    if (std::find(dirs.begin(), dirs.end(), canonical) == dirs.end()) dirs.push_back(std::move(canonical));
  }
  return dirs;
}

std::string protocol_in_protocol_dirs(const RigFiles& files, const std::string& requested) {
  const auto dirs = protocol_dirs(files);
  const std::filesystem::path asked(requested);
  for (const auto& dir : dirs) {
    std::error_code ec;
    const auto candidate = std::filesystem::canonical(asked.is_absolute() ? asked : dir / asked, ec);
    if (ec) continue;
    const auto inside = candidate.lexically_relative(dir);
    if (inside.empty() || *inside.begin() == ".." || inside == ".") continue;
    return candidate.string();  // what it is (a FIFO, too large) is the bounded reader's to refuse
  }
  std::string allowed;
  for (const auto& dir : dirs) allowed += (allowed.empty() ? "" : ", ") + dir.string();
  throw InputError("protocol \"" + requested + "\": not a protocol file in the rig's protocol directories (" +
                   (allowed.empty() ? std::string("none exist") : allowed) +
                   "); a request may only name those (rig config files.protocol_dirs)");
}

RunInputs load_run_inputs(const std::string& config, const std::string& subjects, const std::string& subject_id,
                          const std::string& protocol, bool confine_protocol) {
  RigFiles files = load_rig_files(config, subjects);
  const std::string protocol_path =
      protocol.empty() || !confine_protocol ? protocol : protocol_in_protocol_dirs(files, protocol);
  RunInputs in;
  in.rig_path = std::move(files.rig_path);
  in.rig_text = std::move(files.rig_text);
  in.rig = std::move(files.rig);
  in.subjects_path = std::move(files.subjects_path);
  in.subject = subject_in(files.subjects, in.subjects_path, subject_id);
  auto loaded = load_protocol_checked(
      protocol_path.empty() ? task::resolve_relative(in.subjects_path, in.subject.stage) : protocol_path, in.rig);
  in.protocol_path = std::move(loaded.path);
  in.protocol_text = std::move(loaded.text);
  in.protocol = std::move(loaded.value);
  return in;
}

DeviceRequest device_request(const std::string& device, const task::RigConfig& rig, double speed, uint64_t seed) {
  DeviceRequest r;
  r.speed = speed;
  r.seed = seed;
  std::string kind = device;
  if (kind.empty()) {
    switch (rig.device_kind) {
      case task::DeviceKind::kSim: kind = "sim"; break;
      case task::DeviceKind::kSimavr: kind = "simavr"; break;
      case task::DeviceKind::kSerial: kind = "serial:" + rig.port; break;
    }
  }
  if (kind == "sim") {
    r.kind = DeviceChoice::kSim;
  } else if (kind == "simavr") {
    r.kind = DeviceChoice::kSimavr;
  } else if (kind == "serial" || kind.rfind("serial:", 0) == 0) {
    r.kind = DeviceChoice::kSerial;
    r.serial_port = kind.size() > 7 ? kind.substr(7) : rig.port;
    if (r.serial_port.empty()) throw InputError("--device serial needs a port: serial:/dev/ttyACM0 (see `rig ports`)");
    r.speed = 1.0;
  } else {
    throw InputError("--device: '" + device + "' is not sim, simavr or serial[:PATH]");
  }
  return r;
}

const char* device_kind_name(DeviceChoice kind) {
  switch (kind) {
    case DeviceChoice::kSim: return "sim";
    case DeviceChoice::kSimavr: return "simavr";
    case DeviceChoice::kSerial: return "serial";
  }
  return "unknown";
}

std::chrono::year_month_day today() {
  const auto now_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return std::chrono::year_month_day(local_day_of(now_us));
}

namespace {

// One analysis record from a stored trial's columns, whichever projection of the row they came in.
analysis::TrialRecord analysis_record(std::int64_t session_id, std::optional<wire::Side> choice, bool free_choice,
                                      bool controllable_delivered, bool distractor_delivered, double p_left,
                                      double p_right, double p_distractor) {
  analysis::TrialRecord r;
  r.session_id = std::to_string(session_id);
  r.choice = analysis::choice_of(choice);
  r.free_choice = free_choice;
  r.controllable_delivered = controllable_delivered;
  r.distractor_delivered = distractor_delivered;
  r.p_controllable_left = p_left;
  r.p_controllable_right = p_right;
  r.p_distractor = p_distractor;
  return r;
}

}  // namespace

analysis::TrialRecord to_analysis_record(const store::SubjectTrial& t) {
  return analysis_record(t.session_id, t.choice, t.free_choice, t.controllable_delivered, t.distractor_delivered,
                         t.p_controllable_by_side[0], t.p_controllable_by_side[1], t.p_distractor);
}

analysis::TrialRecord to_analysis_record(const store::StoredTrial& t) {
  return analysis_record(t.session_id, t.choice, t.free_choice, t.controllable_delivered, t.distractor_delivered,
                         t.p_controllable_left, t.p_controllable_right, t.p_distractor);
}

nlohmann::json session_report(const SessionEnd& end, const std::vector<analysis::TrialRecord>& trials,
                              int crt_surrogates, uint64_t seed, const std::string& subject_id, int64_t session_id,
                              const std::string& db_path) {
  nlohmann::json r = session_end_counts_json(end);
  r["subject"] = subject_id;
  r["session_id"] = session_id;
  r["db"] = db_path;
  r["end_reason"] = end.reason;
  r["error"] = end.error;
  r["link"] = {{"dropped_frames", end.link.dropped_total}, {"retransmitted", end.link.retransmitted},
               {"replayed", end.link.replayed}, {"reconnects", end.link.reconnects},
               {"device_resets", end.link.device_resets}};
  r["fit_trials"] = trials.size();
  r["controllable_index"] = nullptr;
  r["distractor_index"] = nullptr;
  r["crt"] = nullptr;
  try {
    analysis::FitOptions options;
    const analysis::HistoryFit fit = analysis::fit_history(trials, options);
    const analysis::Estimability state = analysis::estimability(fit);
    r["estimable"] = state.estimable;
    if (state.estimable) {
      r["controllable_index"] = analysis::estimate_to_json(fit.controllable_index);
      r["distractor_index"] = analysis::estimate_to_json(fit.distractor_index);
    } else {
      r["reason"] = state.reason;
    }
    r["fit_converged"] = fit.model.converged;
    if (crt_surrogates > 0 && !r["controllable_index"].is_null()) {
      analysis::CrtOptions crt;
      crt.surrogates = crt_surrogates;
      crt.seed = seed;
      crt.fit = options;
      const analysis::CrtResult result = analysis::conditional_randomization_test(trials, crt);
      auto p = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
      r["crt"] = {{"surrogates", result.surrogates}, {"controllable_p", p(result.controllable_p)},
                  {"distractor_p", p(result.distractor_p)}, {"structure_p", p(result.structure_p)}};
    }
  } catch (const std::exception& e) {
    r["fit_error"] = e.what();
  }
  return r;
}

void print_report(const nlohmann::json& r) {
  auto index = [&](const nlohmann::json& e) {
    if (e.is_null()) return r.value("reason", std::string("not estimable (an outcome type never occurred)"));
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%+.3f +- %.3f", e["value"].get<double>(), e["se"].get<double>());
    return std::string(buf);
  };
  auto pvalue = [&](const char* key) {
    if (r["crt"].is_null() || r["crt"][key].is_null()) return std::string("");
    return "  (randomization test " +
           analysis::format_p_value(r["crt"][key].get<double>(), r["crt"]["surrogates"].get<int>()) + ")";
  };
  std::printf("Session %lld of %s ended: %s\n", r["session_id"].get<long long>(), r["subject"].get<std::string>().c_str(),
              r["end_reason"].get<std::string>().c_str());
  std::printf("  trials %d (choices %d, misses %d), reversals %d, high side chosen %.0f%%\n", r["trials"].get<int>(),
              r["choices"].get<int>(), r["misses"].get<int>(), r["reversals"].get<int>(),
              100.0 * r["high_side_fraction"].get<double>());
  if (const int before = r.value("resumed_after_trials", 0); before > 0) {
    std::printf("  (resumed after trial %d: this run added %d trials; every count here is the whole session's)\n",
                before, r["trials"].get<int>() - before);
  }
  std::printf("  rewards: cherry %d (%.1f uL), grape %d (%.1f uL)\n", r["rewards"]["cherry"].get<int>(),
              r["volume_ul"]["cherry"].get<double>(), r["rewards"]["grape"].get<int>(),
              r["volume_ul"]["grape"].get<double>());
  if (r.contains("water") && r["water"].is_object()) {
    const auto& w = r["water"];
    std::printf("  water: %.0f uL earned; %.0f uL today of a minimum of %.0f uL (target %.0f uL)", w["session_ul"].get<double>(),
                w["today_ul"].get<double>(), w["minimum_ul"].get<double>(), w["target_ul"].get<double>());
    if (const double owed = w["topup_owed_ul"].get<double>(); owed > 0.0) {
      std::printf(": give a top-up of %.0f uL and record it (rig water %s %.0f)\n", std::ceil(owed),
                  r["subject"].get<std::string>().c_str(), std::ceil(owed));
    } else {
      std::printf(": no top-up owed\n");
    }
    if (!w.value("note", std::string()).empty()) std::printf("  (water %s)\n", w["note"].get<std::string>().c_str());
  }
  std::printf("  controllable index %s%s\n", index(r["controllable_index"]).c_str(), pvalue("controllable_p").c_str());
  std::printf("  distractor index   %s%s\n", index(r["distractor_index"]).c_str(), pvalue("distractor_p").c_str());
  if (const auto structure = pvalue("structure_p"); !structure.empty()) {
    std::printf("  controllable > distractor%s\n", structure.c_str());
  }
  std::printf("  (fit pooled over %d trials of this subject)\n", r["fit_trials"].get<int>());
  std::printf("  stage: %s\n", r["stage_decision"]["reason"].get<std::string>().c_str());
  std::printf("  link: %d dropped frames, %d retransmissions, %d reconnects, %d device resets\n",
              r["link"]["dropped_frames"].get<int>(), r["link"]["retransmitted"].get<int>(),
              r["link"]["reconnects"].get<int>(), r["link"]["device_resets"].get<int>());
  std::printf("  data: %s (rig export --db %s --session %lld --format csv)\n", r["db"].get<std::string>().c_str(),
              r["db"].get<std::string>().c_str(), r["session_id"].get<long long>());
}

int run_with_errors(const std::string& command, const std::function<int()>& body) {
  try {
    return body();
  } catch (const InputError& e) {
    std::fprintf(stderr, "rig %s: %s\n", command.c_str(), e.what());
    return 2;
  } catch (const task::ConfigError& e) {
    std::fprintf(stderr, "rig %s: %s\n", command.c_str(), e.what());
    for (const auto& d : e.diagnostics()) std::fprintf(stderr, "  %s\n", task::format_diagnostic(d).c_str());
    return 2;
  } catch (const WelfareRefusal& e) {
    std::fprintf(stderr, "rig %s: %s\n", command.c_str(), e.what());
    return kExitWelfareRefused;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rig %s: %s\n", command.c_str(), e.what());
    return 1;
  }
}

}  // namespace rig::app
