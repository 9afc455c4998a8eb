#include "host/config/protocol_file.hpp"

#include <yaml-cpp/yaml.h>

#include "host/config/yaml_reader.hpp"

namespace rig::config {

// The task's types, which these files describe.
using namespace rig::task;
namespace {

using yaml::MapReader;
using yaml::Need;
using yaml::NumberRule;

constexpr std::string_view kDurationMs = "a duration in ms from 0 to 4294967";
constexpr std::string_view kPositiveDurationMs = "a duration in ms from 1 to 4294967";
constexpr NumberRule kToleranceDeg{0.0, 360.0, false, false, "an angle in degrees in [0, 360]"};
constexpr NumberRule kVolumeUl{0.0, 50.0, true, false, "a volume in uL in (0, 50]"};
constexpr NumberRule kMinutes{0.0, 1440.0, true, false, "minutes in (0, 1440] (a session always has a time limit)"};
constexpr NumberRule kSpoutVolumeUl{0.0, 100000.0, true, false,
                                    "a volume in uL in (0, 100000] (a session always has a volume limit)"};
// Settings under which the schedule could never do what it is asked.
constexpr NumberRule kCriterionFraction{0.0, 1.0, false, true,
                                        "a fraction in [0, 1) (the window's mean must exceed it: 1 never can)"};
constexpr NumberRule kReversalHazard{0.0, 1.0, true, false,
                                     "a probability in (0, 1] (0 never reverses; use rule: none for no reversals)"};
constexpr NumberRule kFreeChoiceFraction{
    0.0, 1.0, true, false,
    "a fraction in (0, 1] (with 0 every trial is instructed: the regression and its tests have no choice to fit)"};
constexpr std::int64_t kMaxTrialCount = 1000000;

void read_trial(MapReader& map, TrialSettings& trial) {
  map.integer("iti_ms", trial.iti_ms, 0, yaml::kMaxWireDurationMs, kDurationMs);
  map.integer("quiescence_ms", trial.quiescence_ms, 0, yaml::kMaxWireDurationMs, kDurationMs);
  map.number("quiescence_tolerance_deg", trial.quiescence_tolerance_deg, kToleranceDeg);
  map.integer("quiescence_timeout_ms", trial.quiescence_timeout_ms, 0, yaml::kMaxWireDurationMs, kDurationMs);
  map.integer("response_window_ms", trial.response_window_ms, 1, yaml::kMaxWireDurationMs, kPositiveDurationMs);
  map.optional_number("threshold_deg", trial.threshold_deg,
                      {0.0, 360.0, true, false, "an angle in degrees in (0, 360], or ~ for the rig's default"});
  map.integer("cue_duration_ms", trial.cue_duration_ms, 0, yaml::kMaxWireDurationMs, kDurationMs);
  map.text("go_cue", trial.go_cue);
}

void read_rewards(MapReader& map, RewardSettings& rewards) {
  map.number("controllable_volume_ul", rewards.controllable_volume_ul, kVolumeUl);
  map.number("distractor_volume_ul", rewards.distractor_volume_ul, kVolumeUl);
}

void read_reversal(MapReader& map, ReversalSettings& reversal) {
  map.choice("rule", reversal.rule, kReversalRuleNames);
  const bool criterion = reversal.rule == ReversalRule::kCriterionThenHazard;
  const bool hazard = criterion || reversal.rule == ReversalRule::kFixedHazard;
  const bool blocks = reversal.rule == ReversalRule::kBlockLength;
  if (criterion) {
    map.integer("window_free_trials", reversal.window_free_trials, 1, 10000, "a whole number of trials in [1, 10000]");
    map.number("criterion_high_fraction", reversal.criterion_high_fraction, kCriterionFraction);
  } else {
    map.reject_if_present("window_free_trials", "it applies only to rule criterion_then_hazard");
    map.reject_if_present("criterion_high_fraction", "it applies only to rule criterion_then_hazard");
  }
  if (hazard) {
    map.number("hazard_per_trial", reversal.hazard_per_trial, kReversalHazard);
  } else {
    map.reject_if_present("hazard_per_trial", "it applies only to rules criterion_then_hazard and fixed_hazard");
  }
  if (blocks) {
    const std::string_view expected = "a whole number of trials in [1, 1000000]";
    map.integer("block_min_trials", reversal.block_min_trials, 1, kMaxTrialCount, expected);
    if (map.integer("block_max_trials", reversal.block_max_trials, 1, kMaxTrialCount, expected) &&
        reversal.block_max_trials < reversal.block_min_trials) {
      map.sink().error(map.location("block_max_trials"),
                       map.path("block_max_trials") + ": expected at least block_min_trials (" +
                           std::to_string(reversal.block_min_trials) + "), got " +
                           std::to_string(reversal.block_max_trials));
    }
  } else {
    map.reject_if_present("block_min_trials", "it applies only to rule block_length");
    map.reject_if_present("block_max_trials", "it applies only to rule block_length");
  }
}

void read_schedule(MapReader& map, ScheduleSettings& schedule) {
  map.number("free_choice_fraction", schedule.free_choice_fraction, kFreeChoiceFraction);
  map.choice("start_side", schedule.start_side, kStartSideNames);
  if (auto controllable = map.mapping("controllable", {"p_high", "p_low"})) {
    controllable->number("p_high", schedule.p_high, yaml::kProbability);
    if (controllable->number("p_low", schedule.p_low, yaml::kProbability) && schedule.p_low > schedule.p_high) {
      map.sink().error(controllable->location("p_low"),
                       controllable->path("p_low") + ": expected at most p_high (" +
                           yaml::format_number(schedule.p_high) + "), got " + yaml::format_number(schedule.p_low));
    }
  }
  if (auto distractor = map.mapping("distractor", {"p"})) {
    distractor->number("p", schedule.p_distractor, yaml::kProbability);
  }
  if (auto reversal = map.mapping("reversal", {"rule", "window_free_trials", "criterion_high_fraction",
                                               "hazard_per_trial", "block_min_trials", "block_max_trials"})) {
    read_reversal(*reversal, schedule.reversal);
  }
}

// Each limit left out gets its default; `~` is refused (a session always has all three).
void read_limits(MapReader& map, SessionLimits& limits) {
  std::int64_t trials = *limits.max_trials;
  if (map.integer("max_trials", trials, 1, kMaxTrialCount,
                  "a whole number of trials in [1, 1000000] (a session always has a trial limit)")) {
    limits.max_trials = trials;
  }
  double minutes = *limits.max_minutes;
  if (map.number("max_minutes", minutes, kMinutes)) limits.max_minutes = minutes;
  double volume_ul = *limits.max_volume_per_spout_ul;
  if (map.number("max_volume_per_spout_ul", volume_ul, kSpoutVolumeUl)) limits.max_volume_per_spout_ul = volume_ul;
}

AdvanceCriterion read_advance(MapReader& map) {
  AdvanceCriterion advance;
  map.text("to", advance.to, Need::kRequired);
  if (auto when = map.mapping("when", {"min_choice_trials", "min_high_fraction", "window_free_trials"},
                              Need::kRequired)) {
    when->integer("min_choice_trials", advance.min_choice_trials, 0, kMaxTrialCount,
                  "a whole number of trials in [0, 1000000]");
    when->number("min_high_fraction", advance.min_high_fraction, yaml::kProbability);
    when->integer("window_free_trials", advance.window_free_trials, 1, 10000,
                  "a whole number of trials in [1, 10000]");
  }
  return advance;
}

Protocol read_protocol(yaml::Sink& sink, const YAML::Node& document) {
  Protocol protocol;
  MapReader root(sink, document, "", {"name", "description", "trial", "rewards", "schedule", "limits", "advance"});
  root.text("name", protocol.name, Need::kRequired);
  root.text("description", protocol.description);
  if (auto trial = root.mapping("trial", {"iti_ms", "quiescence_ms", "quiescence_tolerance_deg", "quiescence_timeout_ms",
                                          "response_window_ms", "threshold_deg", "cue_duration_ms", "go_cue"})) {
    read_trial(*trial, protocol.trial);
  }
  if (auto rewards = root.mapping("rewards", {"controllable_volume_ul", "distractor_volume_ul"})) {
    read_rewards(*rewards, protocol.rewards);
  }
  if (auto schedule =
          root.mapping("schedule", {"free_choice_fraction", "start_side", "controllable", "distractor", "reversal"})) {
    read_schedule(*schedule, protocol.schedule);
  }
  protocol.limits = SessionLimits{kDefaultMaxTrials, kDefaultMaxMinutes, kDefaultMaxVolumePerSpoutUl};
  if (auto limits = root.mapping("limits", {"max_trials", "max_minutes", "max_volume_per_spout_ul"})) {
    read_limits(*limits, protocol.limits);
  }
  if (auto advance = root.mapping("advance", {"to", "when"})) protocol.advance = read_advance(*advance);
  return protocol;
}

// Emitter helpers: numbers in their shortest exact form, free text quoted so it never reads back as a number
// or a boolean.
void emit(YAML::Emitter& out, const char* key, double value) {
  out << YAML::Key << key << YAML::Value << yaml::format_number(value);
}
void emit(YAML::Emitter& out, const char* key, std::int64_t value) {
  out << YAML::Key << key << YAML::Value << std::to_string(value);
}
void emit(YAML::Emitter& out, const char* key, const std::string& value) {
  out << YAML::Key << key << YAML::Value << YAML::DoubleQuoted << value;
}
void emit_name(YAML::Emitter& out, const char* key, const char* value) {
  out << YAML::Key << key << YAML::Value << value;
}
template <class T>
void emit(YAML::Emitter& out, const char* key, const std::optional<T>& value, const char* when_null) {
  if (value) {
    emit(out, key, *value);
  } else {
    out << YAML::Key << key << YAML::Value << YAML::Null << YAML::Comment(when_null);
  }
}

}  // namespace

Loaded<Protocol> load_protocol_file(const std::string& path) { return yaml::load_file<Protocol>(path, read_protocol); }

Loaded<Protocol> parse_protocol(const std::string& text, const std::string& file_name) {
  return yaml::load_text<Protocol>(text, file_name, read_protocol);
}

std::string effective_protocol_yaml(const Protocol& protocol) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  emit(out, "name", protocol.name);
  if (!protocol.description.empty()) emit(out, "description", protocol.description);

  const auto& trial = protocol.trial;
  out << YAML::Key << "trial" << YAML::Value << YAML::BeginMap;
  emit(out, "iti_ms", trial.iti_ms);
  emit(out, "quiescence_ms", trial.quiescence_ms);
  emit(out, "quiescence_tolerance_deg", trial.quiescence_tolerance_deg);
  emit(out, "quiescence_timeout_ms", trial.quiescence_timeout_ms);
  emit(out, "response_window_ms", trial.response_window_ms);
  emit(out, "threshold_deg", trial.threshold_deg, "the rig config's wheel.threshold_deg");
  emit(out, "cue_duration_ms", trial.cue_duration_ms);
  emit(out, "go_cue", trial.go_cue);
  out << YAML::EndMap;

  out << YAML::Key << "rewards" << YAML::Value << YAML::BeginMap;
  emit(out, "controllable_volume_ul", protocol.rewards.controllable_volume_ul);
  emit(out, "distractor_volume_ul", protocol.rewards.distractor_volume_ul);
  out << YAML::EndMap;

  const auto& schedule = protocol.schedule;
  out << YAML::Key << "schedule" << YAML::Value << YAML::BeginMap;
  emit(out, "free_choice_fraction", schedule.free_choice_fraction);
  emit_name(out, "start_side", name_of(kStartSideNames, schedule.start_side));
  out << YAML::Key << "controllable" << YAML::Value << YAML::BeginMap;
  emit(out, "p_high", schedule.p_high);
  emit(out, "p_low", schedule.p_low);
  out << YAML::EndMap;
  out << YAML::Key << "distractor" << YAML::Value << YAML::BeginMap;
  emit(out, "p", schedule.p_distractor);
  out << YAML::EndMap;
  const auto& reversal = schedule.reversal;
  out << YAML::Key << "reversal" << YAML::Value << YAML::BeginMap;
  emit_name(out, "rule", name_of(kReversalRuleNames, reversal.rule));
  if (reversal.rule == ReversalRule::kCriterionThenHazard) {
    emit(out, "window_free_trials", reversal.window_free_trials);
    emit(out, "criterion_high_fraction", reversal.criterion_high_fraction);
  }
  if (reversal.rule == ReversalRule::kCriterionThenHazard || reversal.rule == ReversalRule::kFixedHazard) {
    emit(out, "hazard_per_trial", reversal.hazard_per_trial);
  }
  if (reversal.rule == ReversalRule::kBlockLength) {
    emit(out, "block_min_trials", reversal.block_min_trials);
    emit(out, "block_max_trials", reversal.block_max_trials);
  }
  out << YAML::EndMap << YAML::EndMap;

  out << YAML::Key << "limits" << YAML::Value << YAML::BeginMap;
  emit(out, "max_trials", protocol.limits.max_trials, "no limit");
  emit(out, "max_minutes", protocol.limits.max_minutes, "no limit");
  emit(out, "max_volume_per_spout_ul", protocol.limits.max_volume_per_spout_ul, "no limit");
  out << YAML::EndMap;

  if (protocol.advance) {
    const auto& advance = *protocol.advance;
    out << YAML::Key << "advance" << YAML::Value << YAML::BeginMap;
    emit(out, "to", advance.to);
    out << YAML::Key << "when" << YAML::Value << YAML::BeginMap;
    emit(out, "min_choice_trials", advance.min_choice_trials);
    emit(out, "min_high_fraction", advance.min_high_fraction);
    emit(out, "window_free_trials", advance.window_free_trials);
    out << YAML::EndMap << YAML::EndMap;
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

namespace {

void flatten(const YAML::Node& node, const std::string& path, std::vector<EffectiveSetting>& out) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      for (const auto& entry : node) {
        const std::string key = entry.first.as<std::string>();
        flatten(entry.second, path.empty() ? key : path + "." + key, out);
      }
      break;
    case YAML::NodeType::Sequence:
      for (std::size_t i = 0; i < node.size(); ++i) flatten(node[i], path + "[" + std::to_string(i) + "]", out);
      break;
    case YAML::NodeType::Scalar:
      out.push_back({path, node.Scalar()});
      break;
    default:
      out.push_back({path, "~"});
      break;
  }
}

}  // namespace

std::vector<EffectiveSetting> effective_settings(const Protocol& protocol) {
  // Read back from the effective YAML itself, so the settings are exactly what `rig check --effective` shows.
  std::vector<EffectiveSetting> settings;
  flatten(YAML::Load(effective_protocol_yaml(protocol)), "", settings);
  return settings;
}

std::vector<SettingDifference> protocol_differences(const Protocol& a, const Protocol& b) {
  const auto in_a = effective_settings(a), in_b = effective_settings(b);
  auto find = [](const std::vector<EffectiveSetting>& settings, const std::string& path) -> std::optional<std::string> {
    for (const auto& s : settings) {
      if (s.path == path) return s.value;
    }
    return std::nullopt;
  };
  std::vector<SettingDifference> out;
  for (const auto& s : in_a) {
    const auto other = find(in_b, s.path);
    if (other != s.value) out.push_back({s.path, s.value, other});
  }
  for (const auto& s : in_b) {
    if (!find(in_a, s.path)) out.push_back({s.path, std::nullopt, s.value});
  }
  return out;
}

}  // namespace rig::config
