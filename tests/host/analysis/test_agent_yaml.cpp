#include "host/analysis/agent_yaml.hpp"

#include <gtest/gtest.h>

#include <string>

namespace rig::analysis {
namespace {

TEST(AgentYaml, APresetIsTheBaseAndKeysOverrideIt) {
  const AgentParams params = agent_params_from_yaml_text("preset: savvy\nlearning_rate: 0.3\nlapse_rate: 0\n");
  AgentParams expected = agent_preset(AgentPreset::kSavvy);
  expected.lapse_rate = 0.0;
  EXPECT_EQ(params.learning_rate_controllable, 0.3);
  EXPECT_EQ(params.learning_rate_distractor, 0.3);
  EXPECT_EQ(params.lapse_rate, expected.lapse_rate);
  EXPECT_EQ(params.distractor_weight, expected.distractor_weight);
  EXPECT_EQ(params.inverse_temperature, expected.inverse_temperature);
}

TEST(AgentYaml, EveryParameterCanBeSetUnderAnAgentKey) {
  const AgentParams p = agent_params_from_yaml_text(R"(agent:
  learning_rate: 0.1
  inverse_temperature: 3
  forgetting_rate: 0.2
  perseveration: -0.4
  lapse_rate: 0.05
  miss_rate: 0.03
  controllable_weight: 2
  distractor_weight: 0.7
)");
  EXPECT_EQ(p.learning_rate_controllable, 0.1);
  EXPECT_EQ(p.learning_rate_distractor, 0.1);
  EXPECT_EQ(p.inverse_temperature, 3);
  EXPECT_EQ(p.forgetting_rate, 0.2);
  EXPECT_EQ(p.perseveration, -0.4);
  EXPECT_EQ(p.lapse_rate, 0.05);
  EXPECT_EQ(p.miss_rate, 0.03);
  EXPECT_EQ(p.controllable_weight, 2);
  EXPECT_EQ(p.distractor_weight, 0.7);
}

TEST(AgentYaml, EachFlavoursLearningRateOverridesTheSharedOneWhateverTheOrder) {
  const AgentParams p = agent_params_from_yaml_text("learning_rate_distractor: 0.05\nlearning_rate: 0.4\n");
  EXPECT_EQ(p.learning_rate_controllable, 0.4);
  EXPECT_EQ(p.learning_rate_distractor, 0.05);
}

TEST(AgentYaml, RejectsUnknownKeysPresetsNonNumbersAndBadYaml) {
  EXPECT_THROW(agent_params_from_yaml_text("learning_rat: 0.3\n"), std::invalid_argument);
  EXPECT_THROW(agent_params_from_yaml_text("preset: clever\n"), std::invalid_argument);
  EXPECT_THROW(agent_params_from_yaml_text("learning_rate: fast\n"), std::invalid_argument);
  EXPECT_THROW(agent_params_from_yaml_text("learning_rate: 2\n"), std::invalid_argument);
  EXPECT_THROW(agent_params_from_yaml_text("[1, 2\n"), std::invalid_argument);
  EXPECT_THROW(agent_params_from_yaml_text("- 1\n- 2\n"), std::invalid_argument);
}

// The only diagnostic of `text` read as agent.yaml, formatted (FILE:LINE:COL: path: message).
std::string only_diagnostic(const std::string& text) {
  const auto loaded = parse_agent_config(text, "agent.yaml");
  EXPECT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.diagnostics.size(), 1u);
  return loaded.diagnostics.empty() ? "" : task::format_diagnostic(loaded.diagnostics.front());
}

TEST(AgentYaml, ProblemsNameTheFileLineColumnAndField) {
  EXPECT_EQ(only_diagnostic("preset: savvy\nlearning_rate: 2\n"),
            "agent.yaml:2:16: learning_rate: expected a rate in [0, 1], got 2");
  EXPECT_EQ(only_diagnostic("agent:\n  miss_rate: fast\n"),
            "agent.yaml:2:14: agent.miss_rate: expected a rate in [0, 1), got fast");
  const auto unknown = only_diagnostic("learning_rat: 0.3\n");
  EXPECT_EQ(unknown.rfind("agent.yaml:1:1: ", 0), 0u) << unknown;
  EXPECT_NE(unknown.find("learning_rat"), std::string::npos) << unknown;
  const auto preset = only_diagnostic("preset: clever\n");
  EXPECT_EQ(preset.rfind("agent.yaml:1:9: preset: ", 0), 0u) << preset;
}

TEST(AgentYaml, AFileIsReadWithItsPathInEveryDiagnostic) {
  const auto loaded = load_agent_config_file("/nonexistent/agent.yaml");
  ASSERT_FALSE(loaded.ok());
  ASSERT_EQ(loaded.diagnostics.size(), 1u);
  EXPECT_EQ(task::format_diagnostic(loaded.diagnostics.front()).rfind("/nonexistent/agent.yaml:1:1: ", 0), 0u);
}

}  // namespace
}  // namespace rig::analysis
