// The `rig` command line is a set of subcommands, one per cmd_<name>.cpp, each registering itself here.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace rig::app {

// Exit codes shared by every subcommand.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;  // a runtime failure (device lost, disk full, ...), reported on stderr
constexpr int kExitInvalid = 2;  // bad input (arguments, files); nothing was done

// Declares the subcommand's options on `command` (owned by the caller's CLI::App) and returns the function
// that runs it after parsing; the runner returns the process exit code. Options are typically bound to a
// std::shared_ptr captured by the runner.
using CommandSetup = std::function<std::function<int()>(CLI::App& command)>;

struct CommandSpec {
  std::string name;
  std::string description;
  CommandSetup setup;
};

// Registers a subcommand at static-initialisation time:
//   static const rig::app::CommandRegistration kFitRegistration{"fit", "Fit ...", [](CLI::App& cmd) {...}};
// Not thread-safe; only for namespace-scope objects in the `rig` executable.
struct CommandRegistration {
  CommandRegistration(std::string name, std::string description, CommandSetup setup);
};

// Every registered subcommand, sorted by name.
std::vector<CommandSpec> registered_commands();

}  // namespace rig::app
