#include "command_registry.hpp"

#include <algorithm>

namespace rig::app {
namespace {

// A function-local static avoids the static-initialisation-order problem between cmd_*.cpp files.
std::vector<CommandSpec>& registry() {
  static std::vector<CommandSpec> commands;
  return commands;
}

}  // namespace

CommandRegistration::CommandRegistration(std::string name, std::string description, CommandSetup setup) {
  registry().push_back(CommandSpec{std::move(name), std::move(description), std::move(setup)});
}

std::vector<CommandSpec> registered_commands() {
  auto commands = registry();
  std::sort(commands.begin(), commands.end(),
            [](const CommandSpec& a, const CommandSpec& b) { return a.name < b.name; });
  return commands;
}

}  // namespace rig::app
