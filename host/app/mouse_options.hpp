// The simulated mouse's command-line options, shared by the simulated devices (rig-vmcu, rig-simavr serve).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "host/sim/sim_mouse.hpp"

namespace rig::app {

struct MouseOptions {
  std::string kind;  // "none" or "random"
  uint64_t seed = 1;
  double p_right = 0.5;
  double p_miss = 0.1;
};

// Adds --mouse, --seed, --p-right, --p-miss to `app`, with `default_kind` for --mouse.
inline void add_mouse_options(CLI::App& app, MouseOptions& options, const std::string& default_kind) {
  options.kind = default_kind;
  app.add_option("--mouse", options.kind, "Simulated mouse turning the wheel: none, random")
      ->capture_default_str()->check(CLI::IsMember({"none", "random"}));
  app.add_option("--seed", options.seed, "Seed of the mouse's randomness")->capture_default_str();
  app.add_option("--p-right", options.p_right, "Random mouse: probability of a right choice among responses")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--p-miss", options.p_miss, "Random mouse: probability of not responding to a go cue")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
}

// The chooser the options ask for; null for --mouse none.
inline std::unique_ptr<sim::Chooser> make_chooser(const MouseOptions& options) {
  if (options.kind != "random") return nullptr;
  return std::make_unique<sim::RandomChooser>(options.seed, options.p_right, options.p_miss);
}

}  // namespace rig::app
