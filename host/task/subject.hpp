// Subjects (config/subjects*.yaml, documented in docs/config.md): each mouse's controllable flavour,
// training stage and water budget.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "firmware/wire/messages.hpp"
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

struct Subject {
  std::string id;
  wire::Valve controllable = wire::Valve::kCherry;  // the other flavour is the distractor
  std::string stage;                                // protocol file, relative to the subjects file
  double daily_water_target_ml = 1.0;               // what the mouse should get per day (top-up after)
  std::optional<double> daily_water_max_ml;         // sessions stop before today's water would pass it
                                                    // (a subjects file always sets it: kDefaultDailyWaterMaxFactor)
  std::optional<AgentSpec> simulated_agent;

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
