#include "host/analysis/agent_yaml.hpp"

#include <limits>
#include <stdexcept>
#include <string>

#include "host/config/yaml_reader.hpp"

namespace rig::analysis {
namespace {

using config::yaml::MapReader;
using config::yaml::NumberRule;

constexpr double kInfinity = std::numeric_limits<double>::infinity();
constexpr NumberRule kRate{0.0, 1.0, false, false, "a rate in [0, 1]"};
constexpr NumberRule kMissRate{0.0, 1.0, false, true, "a rate in [0, 1)"};
constexpr NumberRule kNonNegative{0.0, kInfinity, false, false, "a number >= 0"};
constexpr NumberRule kAnyNumber{-kInfinity, kInfinity, false, false, "a number"};

struct Field {
  const char* key;
  double AgentParams::*member;
  const NumberRule* rule;
};
constexpr Field kFields[] = {
    {"learning_rate_controllable", &AgentParams::learning_rate_controllable, &kRate},
    {"learning_rate_distractor", &AgentParams::learning_rate_distractor, &kRate},
    {"inverse_temperature", &AgentParams::inverse_temperature, &kNonNegative},
    {"forgetting_rate", &AgentParams::forgetting_rate, &kRate},
    {"perseveration", &AgentParams::perseveration, &kAnyNumber},
    {"lapse_rate", &AgentParams::lapse_rate, &kRate},
    {"miss_rate", &AgentParams::miss_rate, &kMissRate},
    {"controllable_weight", &AgentParams::controllable_weight, &kAnyNumber},
    {"distractor_weight", &AgentParams::distractor_weight, &kAnyNumber},
};

std::vector<std::string_view> allowed_keys() {
  std::vector<std::string_view> keys{"preset", "learning_rate"};
  for (const auto& field : kFields) keys.emplace_back(field.key);
  return keys;
}

void read_agent(MapReader& map, AgentParams& params) {
  // The preset is the base, whatever the order of the keys.
  AgentPreset preset{};
  if (map.choice("preset", preset, kAgentPresetNames)) params = agent_preset(preset);
  // learning_rate sets both flavours' rates; a flavour's own key overrides it, whatever the order of the keys.
  double both = 0.0;
  if (map.number("learning_rate", both, kRate)) params.learning_rate_controllable = params.learning_rate_distractor = both;
  for (const auto& field : kFields) map.number(field.key, params.*field.member, *field.rule);
}

AgentConfig read_agent_config(config::yaml::Sink& sink, const YAML::Node& document) {
  AgentConfig config;
  if (document.IsMap() && document["agent"]) {
    MapReader root(sink, document, "", {"agent"});
    if (auto agent = root.mapping("agent", allowed_keys(), config::yaml::Need::kRequired)) read_agent(*agent, config.params);
  } else {
    MapReader root(sink, document, "", allowed_keys());
    if (root.is_mapping()) read_agent(root, config.params);
  }
  return config;
}

}  // namespace

task::Loaded<AgentConfig> parse_agent_config(const std::string& text, const std::string& file_name) {
  return config::yaml::load_text<AgentConfig>(text, file_name, read_agent_config);
}

task::Loaded<AgentConfig> load_agent_config_file(const std::string& path) {
  return config::yaml::load_file<AgentConfig>(path, read_agent_config);
}

AgentParams agent_params_from_yaml_text(std::string_view text, const std::string& file_name) {
  auto loaded = parse_agent_config(std::string(text), file_name);
  if (!loaded.ok()) {
    std::string message;
    for (const auto& d : loaded.diagnostics) message += (message.empty() ? "" : "\n") + task::format_diagnostic(d);
    throw std::invalid_argument(message);
  }
  return validated(loaded.value->params);
}

}  // namespace rig::analysis
