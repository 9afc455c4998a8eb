// Runs a command line the way the tests of the command-line programs need it: through /bin/sh, standard
// output captured, the exit code returned; a command that has not ended after its patience is a failure with
// the threads' stacks of every process it started (a hung program says where it hangs instead of holding the
// suite until CTest's timeout with nothing to show).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace rig::testing {

struct CommandRun {
  int exit_code = -1;  // -1: could not start, ended by a signal, or killed after its patience
  std::string output;  // standard output (append "2>&1" to the command for standard error too)
  bool timed_out = false;
};

// How long a test waits for one command at most (far beyond any command's run under sanitizers and load).
inline constexpr std::chrono::seconds kCommandPatience{300};

// The processes of process group `group` (pids), read from /proc.
inline std::vector<pid_t> process_group_members(pid_t group) {
  std::vector<pid_t> members;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid pgrp ...: comm may hold spaces, so read after its closing parenthesis.
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    long parent = 0, pgrp = 0;
    if (std::sscanf(line.c_str() + close + 1, " %c %ld %ld", &state, &parent, &pgrp) == 3 && pgrp == group) {
      members.push_back(static_cast<pid_t>(std::stol(name)));
    }
  }
  return members;
}

// Every thread's stack of `pid` (gdb in batch mode), or a line saying why there is none.
inline std::string thread_stacks(pid_t pid) {
  std::string text;
  const std::string command = "gdb -batch -nx -p " + std::to_string(pid) + " -ex 'thread apply all bt' 2>&1";
  FILE* gdb = ::popen(command.c_str(), "r");
  if (!gdb) return "(no stacks: gdb did not start)\n";
  std::array<char, 4096> buffer{};
  while (const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), gdb)) text.append(buffer.data(), n);
  ::pclose(gdb);
  return text;
}

// Runs `command` through /bin/sh in a process group of its own and waits for it, at most `patience`: then the
// stacks of the group's processes are appended to the output and the group is killed. Blocks; thread-safe.
inline CommandRun run_command(const std::string& command, std::chrono::seconds patience = kCommandPatience) {
  CommandRun run;
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return run;
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(out[0]);
    ::close(out[1]);
    return run;
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    ::dup2(out[1], STDOUT_FILENO);
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here: whichever of parent and child runs first
  ::close(out[1]);
  const auto deadline = std::chrono::steady_clock::now() + patience;
  const auto give_up = [&] {
    run.timed_out = true;
    run.output += "\n[run_command: \"" + command + "\" had not ended after " + std::to_string(patience.count()) +
                  " s; the threads of its processes:]\n";
    for (const pid_t member : process_group_members(pid)) {
      run.output += "[process " + std::to_string(member) + "]\n" + thread_stacks(member);
    }
    ::kill(-pid, SIGKILL);
  };
  const auto left_ms = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
  };
  std::array<char, 4096> buffer{};
  for (;;) {
    if (left_ms() <= 0) {
      give_up();
      break;
    }
    pollfd readable{out[0], POLLIN, 0};
    if (::poll(&readable, 1, static_cast<int>(std::min<long long>(left_ms(), 1000))) <= 0) continue;
    const ssize_t n = ::read(out[0], buffer.data(), buffer.size());
    if (n <= 0) break;  // end of output: the command closed its standard output
    run.output.append(buffer.data(), static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  // The output has ended; the command itself may still be ending (or hanging with its output closed).
  for (pid_t ended = 0; !run.timed_out && (ended = ::waitpid(pid, &status, WNOHANG)) <= 0;) {
    if (ended < 0 && errno != EINTR) break;
    if (left_ms() <= 0) {
      give_up();
      break;
    }
    ::usleep(10000);
  }
  if (run.timed_out) {
    ::waitpid(pid, &status, 0);
  } else {
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  return run;
}

}  // namespace rig::testing
