#include "host/analysis/agent_yaml.hpp"

#include <stdexcept>
#include <string>

namespace rig::analysis {
namespace {

double number(const YAML::Node& value, const std::string& key) {
  try {
    return value.as<double>();
  } catch (const YAML::Exception&) {
    throw std::invalid_argument("agent key '" + key + "' needs a number");
  }
}

}  // namespace

AgentParams agent_params_from_yaml(const YAML::Node& root) {
  const YAML::Node node = root.IsMap() && root["agent"] ? root["agent"] : root;
  if (!node.IsMap()) throw std::invalid_argument("an agent configuration must be a YAML mapping");
  AgentParams params;
  if (const auto preset_node = node["preset"]) {
    const auto preset = parse_agent_preset(preset_node.as<std::string>());
    if (!preset) throw std::invalid_argument("unknown agent preset '" + preset_node.as<std::string>() + "'");
    params = agent_preset(*preset);
  }
  const std::pair<const char*, double AgentParams::*> fields[] = {
      {"learning_rate", &AgentParams::learning_rate},
      {"inverse_temperature", &AgentParams::inverse_temperature},
      {"forgetting_rate", &AgentParams::forgetting_rate},
      {"perseveration", &AgentParams::perseveration},
      {"lapse_rate", &AgentParams::lapse_rate},
      {"miss_rate", &AgentParams::miss_rate},
      {"controllable_weight", &AgentParams::controllable_weight},
      {"distractor_weight", &AgentParams::distractor_weight},
  };
  for (const auto& entry : node) {
    const auto key = entry.first.as<std::string>();
    if (key == "preset") continue;
    bool known = false;
    for (const auto& [name, member] : fields) {
      if (key == name) {
        params.*member = number(entry.second, key);
        known = true;
      }
    }
    if (!known) throw std::invalid_argument("unknown agent key '" + key + "'");
  }
  return validated(params);
}

AgentParams agent_params_from_yaml_text(std::string_view text) {
  YAML::Node node;
  try {
    node = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    throw std::invalid_argument(std::string("agent YAML: ") + e.what());
  }
  return agent_params_from_yaml(node);
}

}  // namespace rig::analysis
