// Runs a command line the way the tests of the command-line programs need it: through /bin/sh, standard
// output captured, the exit code returned.
#pragma once

#include <array>
#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace rig::testing {

struct CommandRun {
  int exit_code = -1;  // -1: could not start, or ended by a signal
  std::string output;  // standard output (append "2>&1" to the command for standard error too)
};

// Runs `command` through /bin/sh and waits for it. Blocks; thread-safe.
inline CommandRun run_command(const std::string& command) {
  CommandRun run;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return run;
  std::array<char, 4096> buffer{};
  while (const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) run.output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

}  // namespace rig::testing
