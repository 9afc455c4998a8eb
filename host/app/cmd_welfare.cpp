// The animal's record (docs/operator-guide.md, "The animal's day"):
//   rig weigh SUBJECT GRAMS [--baseline] [--force REASON]   a weighing
//   rig water SUBJECT UL [--kind topup|gel|free]           water given by hand
//   rig subject SUBJECT [--json]                           today's weight, water and the last 14 days
//   rig subjects [--json]                                  every subject, one line each, with what needs doing
// Exit 2 for bad input (an unknown subject names the subjects file; nothing is stored), 1 for runtime failures.
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "command_registry.hpp"
#include "host/store/store.hpp"
#include "run_support.hpp"
#include "welfare_support.hpp"

namespace rig::app {
namespace {

// Where the subjects and the records are: the options every welfare command takes.
struct RecordOptions {
  std::string config;
  std::string subjects;
  std::string db;
  std::string who;

  std::string db_path() const { return db.empty() ? store::Store::default_path() : db; }
};

void add_record_options(CLI::App& command, RecordOptions& o, bool writes) {
  command.add_option("--config", o.config, "Rig config YAML (default: $RIG_CONFIG, ~/.config/rig/rig.yaml, installed: /etc/rig/rig.yaml, else the simulated rig's example)");
  command.add_option("--subjects", o.subjects, "Subjects YAML (default: subjects.yaml beside the rig config)");
  command.add_option("--db", o.db, "Session database (default: " + store::Store::default_path() + ")");
  if (writes) command.add_option("--who", o.who, "Who did it (default: your login name)");
}

// `text` as a positive number, or an InputError naming `what`.
double parse_amount(const std::string& text, const std::string& what) {
  errno = 0;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || errno != 0 || !std::isfinite(value)) {
    throw InputError(what + ": '" + text + "' is not a number");
  }
  return value;
}

std::string grams(std::optional<double> g) {
  if (!g) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.1f g", *g);
  return text;
}

std::string percent(std::optional<double> p) {
  if (!p) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.0f%%", *p);
  return text;
}

// One sentence on the day's water: "today 650 of a minimum of 1000 uL: top-up owed 350 uL".
std::string water_sentence(const task::WelfareStatus& s) {
  char text[200];
  std::snprintf(text, sizeof text, "today %.0f uL (sessions %.0f, by hand %.0f) of a minimum of %.0f uL, target %.0f uL",
                s.total_today_ul(), s.session_today_ul, s.by_hand_today_ul, s.minimum_ul, s.target_ul);
  return std::string(text) + (s.owed_ul > 0.0 ? ": top-up owed " + std::to_string(std::lround(std::ceil(s.owed_ul))) + " uL"
                                              : ": nothing owed");
}

int weigh(const RecordOptions& o, const std::string& subject_id, const std::string& grams_text, bool baseline,
          const std::string& force) {
  const double weight_g = parse_amount(grams_text, "GRAMS");
  const RigFiles files = load_rig_files(o.config, o.subjects);
  const task::Subject& subject = subject_in(files.subjects, files.subjects_path, subject_id);
  store::Store db = store::Store::open(o.db_path());
  const model::Weighing row = record_weighing(db, subject, weight_g, baseline, o.who, force);
  const auto s = read_welfare(db, subject, local_today());
  std::printf("recorded %s for %s%s (by %s)", grams(row.weight_g).c_str(), subject.id.c_str(),
              row.baseline ? " as its baseline" : "", row.who.c_str());
  if (s.baseline && s.percent_of_baseline) {
    std::printf(": %s of its baseline %s (%s)", percent(s.percent_of_baseline).c_str(), grams(s.baseline->weight_g).c_str(),
                s.baseline->source.c_str());
  }
  std::printf("\n");
  if (s.under_threshold) {
    std::printf("warning: %s is under its threshold of %.0f%% of its baseline: it must not train today\n",
                subject.id.c_str(), s.min_weight_percent);
  }
  return kExitOk;
}

int water(const RecordOptions& o, const std::string& subject_id, const std::string& ul_text, const std::string& kind) {
  const double volume_ul = parse_amount(ul_text, "UL");
  const RigFiles files = load_rig_files(o.config, o.subjects);
  const task::Subject& subject = subject_in(files.subjects, files.subjects_path, subject_id);
  store::Store db = store::Store::open(o.db_path());
  const model::WaterGiven row = record_water(db, subject, volume_ul, kind, o.who);
  const auto s = read_welfare(db, subject, local_today());
  std::printf("recorded %.0f uL (%s) for %s (by %s); %s\n", volume_ul, kind.c_str(), subject.id.c_str(), row.who.c_str(),
              water_sentence(s).c_str());
  return kExitOk;
}

int subject(const RecordOptions& o, const std::string& subject_id, bool json) {
  const RigFiles files = load_rig_files(o.config, o.subjects);
  const task::Subject& subject = subject_in(files.subjects, files.subjects_path, subject_id);
  const auto s = welfare_at(o.db_path(), subject);
  if (json) {
    std::cout << welfare_json(s).dump(2) << std::endl;
    return kExitOk;
  }
  std::printf("%s: weight today %s", subject.id.c_str(), grams(s.weight_today_g).c_str());
  if (s.baseline) {
    std::printf(", %s of its baseline %s (%s%s)", percent(s.percent_of_baseline).c_str(), grams(s.baseline->weight_g).c_str(),
                s.baseline->source.c_str(), s.baseline->provisional ? ", provisional" : "");
  } else {
    std::printf(" (no baseline yet: the first weighings make it)");
  }
  std::printf("; threshold %.0f%%\n", s.min_weight_percent);
  std::printf("  water %s\n", water_sentence(s).c_str());
  for (const auto& flag : welfare_flags(s)) std::printf("  ! %s\n", flag.c_str());
  std::printf("\n  %-10s %9s %6s %11s %11s %9s\n", "day", "weight", "%base", "session uL", "by hand uL", "total uL");
  for (const auto& d : s.days) {
    const std::optional<double> p =
        d.weight_g && s.baseline ? std::optional<double>(100.0 * *d.weight_g / s.baseline->weight_g) : std::nullopt;
    std::printf("  %-10s %9s %6s %11.0f %11.0f %9.0f\n", task::day_text(d.day).c_str(), grams(d.weight_g).c_str(),
                percent(p).c_str(), d.session_ul, d.by_hand_ul, d.session_ul + d.by_hand_ul);
  }
  return kExitOk;
}

int subjects(const RecordOptions& o, bool json) {
  const RigFiles files = load_rig_files(o.config, o.subjects);
  nlohmann::json list = nlohmann::json::array();
  if (!json) {
    std::printf("%-10s %9s %6s %9s %9s %8s  %s\n", "subject", "weight", "%base", "water uL", "min uL", "owed uL", "attention");
  }
  for (const auto& subject : files.subjects.subjects) {
    const auto s = welfare_at(o.db_path(), subject);
    if (json) {
      list.push_back(welfare_json(s));
      continue;
    }
    std::string flags;
    for (const auto& flag : welfare_flags(s)) flags += (flags.empty() ? "" : ", ") + flag;
    std::printf("%-10s %9s %6s %9.0f %9.0f %8.0f  %s\n", subject.id.c_str(), grams(s.weight_today_g).c_str(),
                percent(s.percent_of_baseline).c_str(), s.total_today_ul(), s.minimum_ul, std::ceil(s.owed_ul),
                flags.empty() ? "ok" : flags.c_str());
  }
  if (json) std::cout << nlohmann::json{{"subjects", list}}.dump(2) << std::endl;
  return kExitOk;
}

const CommandRegistration kWeigh{
    "weigh", "Record a subject's weight (grams); --baseline makes it the baseline weight",
    [](CLI::App& command) {
      auto o = std::make_shared<RecordOptions>();
      auto subject_id = std::make_shared<std::string>();
      auto grams_text = std::make_shared<std::string>();
      auto baseline = std::make_shared<bool>(false);
      auto force = std::make_shared<std::string>();
      command.add_option("SUBJECT", *subject_id, "Subject id (from the subjects file)")->required();
      command.add_option("GRAMS", *grams_text, "The weight in grams")->required();
      command.add_flag("--baseline", *baseline, "This weighing is the subject's baseline weight (before restriction)");
      command.add_option("--force", *force,
                         "Record a weight more than 50% away from the last one; the reason is kept with it");
      add_record_options(command, *o, true);
      return [=] { return run_with_errors("weigh", [&] { return weigh(*o, *subject_id, *grams_text, *baseline, *force); }); };
    }};

const CommandRegistration kWater{
    "water", "Record water given by hand (microlitres): a top-up, gel or free water",
    [](CLI::App& command) {
      auto o = std::make_shared<RecordOptions>();
      auto subject_id = std::make_shared<std::string>();
      auto ul_text = std::make_shared<std::string>();
      auto kind = std::make_shared<std::string>("topup");
      command.add_option("SUBJECT", *subject_id, "Subject id (from the subjects file)")->required();
      command.add_option("UL", *ul_text, "The volume in microlitres")->required();
      command.add_option("--kind", *kind, "topup | gel | free")
          ->capture_default_str()
          ->check(CLI::IsMember({"topup", "gel", "free"}));
      add_record_options(command, *o, true);
      return [=] { return run_with_errors("water", [&] { return water(*o, *subject_id, *ul_text, *kind); }); };
    }};

const CommandRegistration kSubject{
    "subject", "A subject's day: weight and % of baseline, water and top-up owed, the last 14 days",
    [](CLI::App& command) {
      auto o = std::make_shared<RecordOptions>();
      auto subject_id = std::make_shared<std::string>();
      auto json = std::make_shared<bool>(false);
      command.add_option("SUBJECT", *subject_id, "Subject id (from the subjects file)")->required();
      command.add_flag("--json", *json, "Print it as one JSON object");
      add_record_options(command, *o, false);
      return [=] { return run_with_errors("subject", [&] { return subject(*o, *subject_id, *json); }); };
    }};

const CommandRegistration kSubjects{
    "subjects", "Every subject, one line each, flagging anyone under threshold, unweighed today or owed water",
    [](CLI::App& command) {
      auto o = std::make_shared<RecordOptions>();
      auto json = std::make_shared<bool>(false);
      command.add_flag("--json", *json, "Print them as one JSON object");
      add_record_options(command, *o, false);
      return [=] { return run_with_errors("subjects", [&] { return subjects(*o, *json); }); };
    }};

}  // namespace
}  // namespace rig::app
