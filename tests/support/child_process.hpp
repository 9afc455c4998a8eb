// Child processes for the tests of the built programs: started with posix_spawn, and (ChildProcess) killed and
// reaped when the test ends unless it was waited for, also when an assertion ends the test early.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace rig::testing {

// Starts argv[0] with `argv`: stdin from `input` (a file, or a terminal's path), stdout to `output` (created or
// truncated), stderr there too when `with_stderr` (else the test's). Returns the pid, or -1 when it could not start.
inline pid_t spawn_process(std::vector<std::string> argv, const std::string& output = "/dev/null", bool with_stderr = false,
                           const std::string& input = "/dev/null") {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, input.c_str(), input == "/dev/null" ? O_RDONLY : O_RDWR, 0);
  posix_spawn_file_actions_addopen(&actions, 1, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (with_stderr) posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

// A waitpid status as an exit code, or minus the signal that ended the process.
inline int exit_code_of(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status); }

// The exit code of `pid` once it has ended, or minus the signal that ended it. Blocks.
inline int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return exit_code_of(status);
}

// wait_exit(), but for at most `limit`: a child still running then is killed (SIGKILL) and reaped, and the
// answer is empty. A hang guard for tests, never a measure of speed: give it minutes.
inline std::optional<int> wait_exit_within(pid_t pid, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) != pid) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return exit_code_of(status);
}

class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, const std::string& output, bool with_stderr = true,
               const std::string& input = "/dev/null")
      : pid_(spawn_process(std::move(argv), output, with_stderr, input)) {}
  ~ChildProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }
  void signal(int number) const { ::kill(pid_, number); }
  // wait_exit() of the child; it is not killed afterwards.
  int wait() {
    const int code = wait_exit(pid_);
    pid_ = -1;
    return code;
  }

 private:
  pid_t pid_ = -1;
};

}  // namespace rig::testing
