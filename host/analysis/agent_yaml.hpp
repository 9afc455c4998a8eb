// Agent configuration in YAML (separate library rig_analysis_yaml, so rig_analysis needs no YAML parser), read
// with the same located diagnostics as protocols and rig configs (host/config/yaml_reader.hpp).
#pragma once

#include <string>
#include <string_view>

#include "host/analysis/agents.hpp"
#include "host/task/diagnostics.hpp"

namespace rig::analysis {

// An agent file as loaded: its parameters, and where each value was written.
struct AgentConfig {
  AgentParams params;
  std::string source_file;
  task::FieldLocations locations;
};

// Reads an agent from YAML text reported as `file_name`:
//   preset: naive | savvy | mixed     # optional base (default: the AgentParams defaults)
//   learning_rate: 0.5                # any AgentParams field overrides the base; this one sets both rates:
//   learning_rate_controllable: 0.5   # ... which these override, one flavour each
//   learning_rate_distractor: 0.1
//   inverse_temperature: 5
//   forgetting_rate: 0.1
//   perseveration: 0.2
//   lapse_rate: 0.02
//   miss_rate: 0.01
//   controllable_weight: 1
//   distractor_weight: 0.5
// The mapping may also sit under a top-level `agent:` key. Every problem (YAML syntax, an unknown key, an
// unknown preset, a value that is not a number or is out of range) is a diagnostic FILE:LINE:COL with its
// field path; the value is present only when there is none. Pure; thread-safe.
task::Loaded<AgentConfig> parse_agent_config(const std::string& text, const std::string& file_name);

// The same for the file at `path` (a file that cannot be read is a diagnostic too). Reads the file; thread-safe.
task::Loaded<AgentConfig> load_agent_config_file(const std::string& path);

// parse_agent_config() for text without a file of its own (a subject's inline agent): the parameters, or
// std::invalid_argument listing every diagnostic, reported as `file_name`. Pure; thread-safe.
AgentParams agent_params_from_yaml_text(std::string_view text, const std::string& file_name = "agent YAML");

}  // namespace rig::analysis
