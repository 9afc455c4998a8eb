// The simulated mouse's mind: a Q-learning agent (host/analysis) behind the sim::Chooser interface the
// simulated mouse uses, with the subject's flavour mapping (which of cherry/grape is controllable).
#pragma once

#include <memory>
#include <string>

#include "host/sim/sim_mouse.hpp"
#include "host/analysis/agents.hpp"
#include "host/task/subject.hpp"

namespace rig::app {

// The agent parameters for `subject`: its simulated_agent (a preset name, a YAML file relative to
// `subjects_file`, or an inline mapping), or the mouse-like "mixed" preset when it names none.
// Throws std::runtime_error naming the file or the preset on a bad spec.
analysis::AgentParams agent_params_for(const task::Subject& subject, const std::string& subjects_file);

// Thread-compatible (one owner: the simulated board's thread).
class AgentChooser final : public sim::Chooser {
 public:
  AgentChooser(const analysis::AgentParams& params, wire::Valve controllable, uint64_t seed);
  sim::Choice choose(std::optional<sim::Choice> offered) override;
  void observe(sim::Choice choice, bool cherry, bool grape) override;

 private:
  analysis::QLearningAgent agent_;
  wire::Valve controllable_;
  analysis::Rng rng_;
};

}  // namespace rig::app
