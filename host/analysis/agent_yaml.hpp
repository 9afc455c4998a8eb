// Agent configuration in YAML (separate library rig_analysis_yaml, so rig_analysis needs no YAML parser).
#pragma once

#include <yaml-cpp/yaml.h>

#include <string_view>

#include "host/analysis/agents.hpp"

namespace rig::analysis {

// Reads an agent from a YAML mapping:
//   preset: naive | savvy | mixed     # optional base (default: the AgentParams defaults)
//   learning_rate: 0.5                # any AgentParams field overrides the base
//   inverse_temperature: 5
//   forgetting_rate: 0.1
//   perseveration: 0.2
//   lapse_rate: 0.02
//   miss_rate: 0.01
//   controllable_weight: 1
//   distractor_weight: 0.5
// The mapping may also sit under a top-level `agent:` key. Thread-safe (pure). Throws std::invalid_argument
// on an unknown key, a value that is not a number, an unknown preset or a parameter out of range.
AgentParams agent_params_from_yaml(const YAML::Node& node);

// The same from YAML text; parse errors become std::invalid_argument with the YAML message.
AgentParams agent_params_from_yaml_text(std::string_view text);

}  // namespace rig::analysis
