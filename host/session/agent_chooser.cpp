#include "agent_chooser.hpp"

#include <stdexcept>

#include "host/analysis/agent_yaml.hpp"
#include "host/task/compatibility.hpp"

namespace rig::app {
namespace {

analysis::Choice to_analysis(sim::Choice c) {
  switch (c) {
    case sim::Choice::kLeft: return analysis::Choice::kLeft;
    case sim::Choice::kRight: return analysis::Choice::kRight;
    case sim::Choice::kMiss: return analysis::Choice::kMiss;
  }
  return analysis::Choice::kMiss;
}

}  // namespace

analysis::AgentParams agent_params_for(const task::Subject& subject, const std::string& subjects_file) {
  if (!subject.simulated_agent) return analysis::agent_preset(analysis::AgentPreset::kMixed);
  const task::AgentSpec& spec = *subject.simulated_agent;
  switch (spec.kind) {
    case task::AgentSpec::Kind::kPreset: {
      const auto preset = analysis::parse_agent_preset(spec.text);
      if (!preset) throw std::runtime_error("subject " + subject.id + ": unknown agent preset '" + spec.text + "' (naive, savvy, mixed)");
      return analysis::agent_preset(*preset);
    }
    case task::AgentSpec::Kind::kFile: {
      const auto loaded = analysis::load_agent_config_file(task::resolve_relative(subjects_file, spec.text));
      if (!loaded.ok()) {
        std::string message = "the agent file of subject " + subject.id + " is not valid:";
        for (const auto& d : loaded.diagnostics) message += "\n  " + task::format_diagnostic(d);
        throw std::runtime_error(message);
      }
      return analysis::validated(loaded.value->params);
    }
    case task::AgentSpec::Kind::kInline:
      try {
        // Its lines are those of the inline mapping re-emitted, not of the subjects file: name both.
        return analysis::agent_params_from_yaml_text(spec.text, subjects_file + " (simulated_agent of " + subject.id + ")");
      } catch (const std::exception& e) {
        throw std::runtime_error(e.what());
      }
  }
  throw std::logic_error("unknown agent spec kind");
}

AgentChooser::AgentChooser(const analysis::AgentParams& params, wire::Valve controllable, uint64_t seed)
    : agent_(params), controllable_(controllable), rng_(seed) {}

sim::Choice AgentChooser::choose(std::optional<sim::Choice> offered) {
  // On an instructed trial the rig offers one side, and the mouse takes it (or misses), as in `rig simulate`.
  std::optional<analysis::Side> only;
  if (offered == sim::Choice::kLeft) only = analysis::Side::kLeft;
  if (offered == sim::Choice::kRight) only = analysis::Side::kRight;
  switch (agent_.choose(only, rng_)) {
    case analysis::Choice::kLeft: return sim::Choice::kLeft;
    case analysis::Choice::kRight: return sim::Choice::kRight;
    case analysis::Choice::kMiss: return sim::Choice::kMiss;
  }
  return sim::Choice::kMiss;
}

void AgentChooser::observe(sim::Choice choice, bool cherry, bool grape) {
  const bool controllable = controllable_ == wire::Valve::kCherry ? cherry : grape;
  const bool distractor = controllable_ == wire::Valve::kCherry ? grape : cherry;
  agent_.learn(to_analysis(choice), controllable, distractor);
}

}  // namespace rig::app
