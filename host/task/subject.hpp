// Subjects (config/subjects*.yaml, documented in docs/config.md): each mouse's controllable flavour,
// training stage and water budget.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "firmware/wire/messages.hpp"
#include "host/model/names.hpp"
#include "host/task/diagnostics.hpp"

namespace rig::task {

// The simulated mouse that plays this subject on the simulated rig, stored uninterpreted for the analysis
// module that builds agents: a preset name, a path to an agent YAML file, or an inline mapping re-emitted as
// YAML text.
struct AgentSpec {
  enum class Kind { kPreset, kFile, kInline };
  Kind kind = Kind::kPreset;
  std::string text;  // preset name (naive|savvy|mixed), file path as written, or YAML text

  bool operator==(const AgentSpec&) const = default;
};

// A subjects file that leaves out daily_water_max_ml gets this times daily_water_target_ml (docs/config.md).
inline constexpr double kDefaultDailyWaterMaxFactor = 1.5;

// A subject's welfare rules (the subjects file's `welfare` mapping, docs/config.md).
struct WelfareSettings {
  std::optional<double> baseline_weight_g;  // stated; else the last `rig weigh --baseline`; else the mean of the
  std::int64_t baseline_weighings = 3;      // first this many weighings
  double min_weight_percent = 80.0;         // a session does not start below this % of the baseline
  std::optional<double> daily_water_target_ul_per_g;  // the day's target per gram of baseline (over the
                                                      // subject's daily_water_target_ml once a baseline is known)
  std::optional<double> daily_water_min_ml;           // the day's minimum; absent: daily_water_min_ul_per_g
  double daily_water_min_ul_per_g = 40.0;             //   per gram of baseline (the target before a baseline)
  double simulated_weight_g = 25.0;  // a simulated subject's body on the simulated rig (docs/config.md)
  bool operator==(const WelfareSettings&) const = default;
};

// A subject's sex as NWB spells it (F, M, U unknown, O other).
enum class Sex : std::uint8_t { kFemale, kMale, kUnknown, kOther };
inline constexpr model::Named<Sex> kSexNames[] = {
    {"F", Sex::kFemale}, {"M", Sex::kMale}, {"U", Sex::kUnknown}, {"O", Sex::kOther}};

struct Subject {
  std::string id;
  // Who the mouse is, for the data it leaves (the NWB export's /general/subject; docs/config.md).
  Sex sex = Sex::kUnknown;
  std::optional<std::chrono::year_month_day> date_of_birth;
  std::string strain;    // e.g. C57BL/6J; empty: not stated
  std::string genotype;  // e.g. wild type; empty: not stated
  wire::Valve controllable = wire::Valve::kCherry;  // the other flavour is the distractor
  std::string stage;                                // protocol file, relative to the subjects file
  double daily_water_target_ml = 1.0;               // what the mouse should get per day (top-up after)
  std::optional<double> daily_water_max_ml;         // sessions stop before today's water would pass it
                                                    // (a subjects file always sets it: kDefaultDailyWaterMaxFactor)
  std::optional<AgentSpec> simulated_agent;
  WelfareSettings welfare;

  wire::Valve distractor() const {
    return controllable == wire::Valve::kCherry ? wire::Valve::kGrape : wire::Valve::kCherry;
  }
};

struct SubjectList {
  std::vector<Subject> subjects;
  std::string source_file;
  FieldLocations locations;

  // The subject with `id`, or nullptr. Thread-safe for concurrent readers.
  const Subject* find(const std::string& id) const;
};


}  // namespace rig::task
