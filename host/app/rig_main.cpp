// `rig`: the command line a lab member uses. Wiring only: each subcommand is a cmd_<name>.cpp.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <functional>
#include <map>
#include <string>

#include "command_registry.hpp"

int main(int argc, char** argv) {
  CLI::App app{"rig: run, check and analyse distractor-rewards training sessions"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("rig ") + RIG_HOST_VERSION);

  std::map<CLI::App*, std::function<int()>> runners;
  for (const auto& spec : rig::app::registered_commands()) {
    CLI::App* command = app.add_subcommand(spec.name, spec.description);
    runners[command] = spec.setup(*command);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? rig::app::kExitOk : rig::app::kExitInvalid;
  }

  for (auto& [command, run] : runners) {
    if (command->parsed()) {
      try {
        return run();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "rig %s: %s\n", command->get_name().c_str(), e.what());
        return rig::app::kExitFailure;
      }
    }
  }
  return rig::app::kExitInvalid;
}
