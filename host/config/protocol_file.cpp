#include "host/config/protocol_file.hpp"

#include <yaml-cpp/yaml.h>

#include "host/config/yaml_reader.hpp"

namespace rig::config {

// The task's types, which these files describe.
using namespace rig::task;
namespace {

using yaml::Field;
using yaml::FieldKind;
using yaml::MapReader;
using yaml::Need;
using yaml::NumberRule;
using yaml::Shape;

constexpr std::int64_t kMaxTrialCount = 1000000;
constexpr NumberRule kDurationMs{0.0, yaml::kMaxWireDurationMs, false, false, "a duration in ms from 0 to 4294967"};
constexpr NumberRule kPositiveDurationMs{1.0, yaml::kMaxWireDurationMs, false, false,
                                         "a duration in ms from 1 to 4294967"};
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
constexpr NumberRule kWindowTrials{1.0, 10000.0, false, false, "a whole number of trials in [1, 10000]"};
constexpr NumberRule kBlockTrials{1.0, kMaxTrialCount, false, false, "a whole number of trials in [1, 1000000]"};

// The field tables of a protocol file: what the loader reads and what `rig schema protocol` writes.
constexpr Field kTrialFields[] = {
    {.key = "iti_ms", .kind = FieldKind::kInteger, .rule = kDurationMs,
     .doc = "From a trial's result to arming the next."},
    {.key = "quiescence_ms", .kind = FieldKind::kInteger, .rule = kDurationMs,
     .doc = "The wheel must stay still this long before the go cue."},
    {.key = "quiescence_tolerance_deg", .kind = FieldKind::kNumber, .rule = kToleranceDeg,
     .doc = "Movement tolerated while still, in degrees of wheel rotation."},
    {.key = "quiescence_timeout_ms", .kind = FieldKind::kInteger, .rule = kDurationMs,
     .doc = "Give up waiting for a still wheel (outcome no_quiescence); 0 waits for ever."},
    {.key = "response_window_ms", .kind = FieldKind::kInteger, .rule = kPositiveDurationMs,
     .doc = "Time after the go cue to cross a threshold; otherwise a miss."},
    {.key = "threshold_deg", .kind = FieldKind::kNullableNumber,
     .rule = {0.0, 360.0, true, false, "an angle in degrees in (0, 360], or ~ for the rig's default"},
     .doc = "Wheel rotation that counts as a choice; ~ uses the rig config's wheel.threshold_deg."},
    {.key = "cue_duration_ms", .kind = FieldKind::kInteger, .rule = kDurationMs, .doc = "Length of the go cue."},
    {.key = "go_cue", .kind = FieldKind::kText, .doc = "Name of a cue output in the rig config's cues."},
};
constexpr Shape kTrialShape{kTrialFields};

constexpr Field kRewardFields[] = {
    {.key = "controllable_volume_ul", .kind = FieldKind::kNumber, .rule = kVolumeUl,
     .doc = "One delivery of the controllable flavour."},
    {.key = "distractor_volume_ul", .kind = FieldKind::kNumber, .rule = kVolumeUl,
     .doc = "One delivery of the distractor flavour."},
};
constexpr Shape kRewardShape{kRewardFields};

constexpr auto kStartSides = yaml::names_of(kStartSideNames);
constexpr auto kReversalRules = yaml::names_of(kReversalRuleNames);
constexpr std::string_view kCriterionRules[] = {"criterion_then_hazard"};
constexpr std::string_view kHazardRules[] = {"criterion_then_hazard", "fixed_hazard"};
constexpr std::string_view kBlockRules[] = {"block_length"};
static_assert(name_of(kReversalRuleNames, ReversalSettings{}.rule) == std::string_view("criterion_then_hazard"));

constexpr Field kControllableFields[] = {
    {.key = "p_high", .kind = FieldKind::kNumber, .rule = yaml::kProbability,
     .doc = "Controllable reward probability for a choice of the high side."},
    {.key = "p_low", .kind = FieldKind::kNumber, .rule = yaml::kProbability,
     .doc = "Controllable reward probability for a choice of the low side (at most p_high)."},
};
constexpr Shape kControllableShape{kControllableFields};
constexpr Field kDistractorFields[] = {
    {.key = "p", .kind = FieldKind::kNumber, .rule = yaml::kProbability,
     .doc = "Distractor reward probability, the same whatever the choice."},
};
constexpr Shape kDistractorShape{kDistractorFields};
constexpr Field kReversalFields[] = {
    {.key = "rule", .kind = FieldKind::kChoice, .doc = "How the high side reverses.", .choices = kReversalRules},
    {.key = "window_free_trials", .kind = FieldKind::kInteger, .rule = kWindowTrials,
     .doc = "Window of free-choice \"chose the high side\" outcomes.", .applies_when = kCriterionRules},
    {.key = "criterion_high_fraction", .kind = FieldKind::kNumber, .rule = kCriterionFraction,
     .doc = "The window's mean must exceed this before reversals can happen.", .applies_when = kCriterionRules},
    {.key = "hazard_per_trial", .kind = FieldKind::kNumber, .rule = kReversalHazard,
     .doc = "Flip probability per trial with a choice.", .applies_when = kHazardRules},
    {.key = "block_min_trials", .kind = FieldKind::kInteger, .rule = kBlockTrials,
     .doc = "Shortest block, in trials with a choice.", .applies_when = kBlockRules},
    {.key = "block_max_trials", .kind = FieldKind::kInteger, .rule = kBlockTrials,
     .doc = "Longest block, in trials with a choice (at least block_min_trials).", .applies_when = kBlockRules},
};
constexpr Shape kReversalShape{kReversalFields, "rule", "criterion_then_hazard"};

constexpr Field kScheduleFields[] = {
    {.key = "free_choice_fraction", .kind = FieldKind::kNumber, .rule = kFreeChoiceFraction,
     .doc = "Probability that a trial is free; otherwise it is instructed, side drawn 50/50."},
    {.key = "start_side", .kind = FieldKind::kChoice, .doc = "High side of the first block.", .choices = kStartSides},
    {.key = "controllable", .kind = FieldKind::kMapping, .doc = "The controllable flavour's probabilities.",
     .shape = &kControllableShape},
    {.key = "distractor", .kind = FieldKind::kMapping, .doc = "The distractor flavour's probability.",
     .shape = &kDistractorShape},
    {.key = "reversal", .kind = FieldKind::kMapping, .doc = "When the high side reverses.", .shape = &kReversalShape},
};
constexpr Shape kScheduleShape{kScheduleFields};

constexpr Field kLimitFields[] = {
    {.key = "max_trials", .kind = FieldKind::kInteger,
     .rule = {1.0, kMaxTrialCount, false, false,
              "a whole number of trials in [1, 1000000] (a session always has a trial limit)"},
     .doc = "Trials armed and answered."},
    {.key = "max_minutes", .kind = FieldKind::kNumber, .rule = kMinutes, .doc = "Minutes since the first trial."},
    {.key = "max_volume_per_spout_ul", .kind = FieldKind::kNumber, .rule = kSpoutVolumeUl,
     .doc = "Total per spout; the session stops when one more trial's largest delivery would pass it."},
};
constexpr Shape kLimitShape{kLimitFields};

constexpr Field kWhenFields[] = {
    {.key = "min_choice_trials", .kind = FieldKind::kInteger,
     .rule = {0.0, kMaxTrialCount, false, false, "a whole number of trials in [0, 1000000]"},
     .doc = "Trials with a choice the subject must have done in this stage."},
    {.key = "min_high_fraction", .kind = FieldKind::kNumber, .rule = yaml::kProbability,
     .doc = "Fraction of the window's free choices of the high side needed to advance."},
    {.key = "window_free_trials", .kind = FieldKind::kInteger, .rule = kWindowTrials,
     .doc = "The window of free choices min_high_fraction is judged on."},
};
constexpr Shape kWhenShape{kWhenFields};
constexpr Field kAdvanceFields[] = {
    {.key = "to", .kind = FieldKind::kText, .need = Need::kRequired,
     .doc = "The protocol file of the next stage, relative to this one."},
    {.key = "when", .kind = FieldKind::kMapping, .need = Need::kRequired, .doc = "When the subject advances.",
     .shape = &kWhenShape},
};
constexpr Shape kAdvanceShape{kAdvanceFields};

constexpr Field kProtocolFields[] = {
    {.key = "name", .kind = FieldKind::kText, .need = Need::kRequired,
     .doc = "Shown in the session record and on the dashboard."},
    {.key = "description", .kind = FieldKind::kText, .doc = "Free text."},
    {.key = "trial", .kind = FieldKind::kMapping, .doc = "The timing of each trial.", .shape = &kTrialShape},
    {.key = "rewards", .kind = FieldKind::kMapping, .doc = "Reward volumes.", .shape = &kRewardShape},
    {.key = "schedule", .kind = FieldKind::kMapping,
     .doc = "Which trials are free, the reward probabilities and the reversal rule.", .shape = &kScheduleShape},
    {.key = "limits", .kind = FieldKind::kMapping, .doc = "When the session ends (each limit always applies).",
     .shape = &kLimitShape},
    {.key = "advance", .kind = FieldKind::kMapping, .doc = "The next training stage and when to move to it.",
     .shape = &kAdvanceShape},
};
constexpr Shape kProtocolShape{kProtocolFields};

void read_trial(MapReader& map, TrialSettings& trial) {
  map.read("iti_ms", trial.iti_ms);
  map.read("quiescence_ms", trial.quiescence_ms);
  map.read("quiescence_tolerance_deg", trial.quiescence_tolerance_deg);
  map.read("quiescence_timeout_ms", trial.quiescence_timeout_ms);
  map.read("response_window_ms", trial.response_window_ms);
  map.read("threshold_deg", trial.threshold_deg);
  map.read("cue_duration_ms", trial.cue_duration_ms);
  map.read("go_cue", trial.go_cue);
}

void read_reversal(MapReader& map, ReversalSettings& reversal) {
  map.read("rule", reversal.rule, kReversalRuleNames);
  map.read("window_free_trials", reversal.window_free_trials);
  map.read("criterion_high_fraction", reversal.criterion_high_fraction);
  map.read("hazard_per_trial", reversal.hazard_per_trial);
  map.read("block_min_trials", reversal.block_min_trials);
  if (map.read("block_max_trials", reversal.block_max_trials) &&
      reversal.block_max_trials < reversal.block_min_trials) {
    map.sink().error(map.location("block_max_trials"),
                     map.path("block_max_trials") + ": expected at least block_min_trials (" +
                         std::to_string(reversal.block_min_trials) + "), got " +
                         std::to_string(reversal.block_max_trials));
  }
}

void read_schedule(MapReader& map, ScheduleSettings& schedule) {
  map.read("free_choice_fraction", schedule.free_choice_fraction);
  map.read("start_side", schedule.start_side, kStartSideNames);
  if (auto controllable = map.mapping("controllable")) {
    controllable->read("p_high", schedule.p_high);
    if (controllable->read("p_low", schedule.p_low) && schedule.p_low > schedule.p_high) {
      map.sink().error(controllable->location("p_low"),
                       controllable->path("p_low") + ": expected at most p_high (" +
                           yaml::format_number(schedule.p_high) + "), got " + yaml::format_number(schedule.p_low));
    }
  }
  if (auto distractor = map.mapping("distractor")) distractor->read("p", schedule.p_distractor);
  if (auto reversal = map.mapping("reversal")) read_reversal(*reversal, schedule.reversal);
}

// Each limit left out gets its default; `~` is refused (a session always has all three).
void read_limits(MapReader& map, SessionLimits& limits) {
  std::int64_t trials = *limits.max_trials;
  if (map.read("max_trials", trials)) limits.max_trials = trials;
  double minutes = *limits.max_minutes;
  if (map.read("max_minutes", minutes)) limits.max_minutes = minutes;
  double volume_ul = *limits.max_volume_per_spout_ul;
  if (map.read("max_volume_per_spout_ul", volume_ul)) limits.max_volume_per_spout_ul = volume_ul;
}

AdvanceCriterion read_advance(MapReader& map) {
  AdvanceCriterion advance;
  map.read("to", advance.to);
  if (auto when = map.mapping("when")) {
    when->read("min_choice_trials", advance.min_choice_trials);
    when->read("min_high_fraction", advance.min_high_fraction);
    when->read("window_free_trials", advance.window_free_trials);
  }
  return advance;
}

Protocol read_protocol(yaml::Sink& sink, const YAML::Node& document) {
  Protocol protocol;
  MapReader root(sink, document, "", kProtocolShape);
  root.read("name", protocol.name);
  root.read("description", protocol.description);
  if (auto trial = root.mapping("trial")) read_trial(*trial, protocol.trial);
  if (auto rewards = root.mapping("rewards")) {
    rewards->read("controllable_volume_ul", protocol.rewards.controllable_volume_ul);
    rewards->read("distractor_volume_ul", protocol.rewards.distractor_volume_ul);
  }
  if (auto schedule = root.mapping("schedule")) read_schedule(*schedule, protocol.schedule);
  protocol.limits = SessionLimits{kDefaultMaxTrials, kDefaultMaxMinutes, kDefaultMaxVolumePerSpoutUl};
  if (auto limits = root.mapping("limits")) read_limits(*limits, protocol.limits);
  if (auto advance = root.mapping("advance")) protocol.advance = read_advance(*advance);
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

const yaml::Shape& protocol_file_shape() { return kProtocolShape; }

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
