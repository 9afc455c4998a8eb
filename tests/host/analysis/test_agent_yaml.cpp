#include "host/analysis/agent_yaml.hpp"

#include <gtest/gtest.h>

namespace rig::analysis {
namespace {

TEST(AgentYaml, APresetIsTheBaseAndKeysOverrideIt) {
  const AgentParams params = agent_params_from_yaml_text("preset: savvy\nlearning_rate: 0.3\nlapse_rate: 0\n");
  AgentParams expected = agent_preset(AgentPreset::kSavvy);
  expected.learning_rate = 0.3;
  expected.lapse_rate = 0.0;
  EXPECT_EQ(params.learning_rate, expected.learning_rate);
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
  EXPECT_EQ(p.learning_rate, 0.1);
  EXPECT_EQ(p.inverse_temperature, 3);
  EXPECT_EQ(p.forgetting_rate, 0.2);
  EXPECT_EQ(p.perseveration, -0.4);
  EXPECT_EQ(p.lapse_rate, 0.05);
  EXPECT_EQ(p.miss_rate, 0.03);
  EXPECT_EQ(p.controllable_weight, 2);
  EXPECT_EQ(p.distractor_weight, 0.7);
}

TEST(AgentYaml, RejectsUnknownKeysPresetsNonNumbersAndBadYaml) {
  EXPECT_THROW(agent_params_from_yaml_text("learning_rat: 0.3\n"), std::invalid_argument);
  EXPECT_THROW(agent_params_from_yaml_text("preset: clever\n"), std::invalid_argument);
  EXPECT_THROW(agent_params_from_yaml_text("learning_rate: fast\n"), std::invalid_argument);
  EXPECT_THROW(agent_params_from_yaml_text("learning_rate: 2\n"), std::invalid_argument);
  EXPECT_THROW(agent_params_from_yaml_text("[1, 2\n"), std::invalid_argument);
  EXPECT_THROW(agent_params_from_yaml_text("- 1\n- 2\n"), std::invalid_argument);
}

}  // namespace
}  // namespace rig::analysis
