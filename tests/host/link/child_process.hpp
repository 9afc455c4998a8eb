// Starts a helper program (rig-vmcu, rig-simavr serve) for a test and stops it at the end.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <spawn.h>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "serial_port.hpp"

extern char** environ;

namespace rig::test {

// A unique temporary directory for one test.
inline std::filesystem::path temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("rig-test-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

class ChildProcess {
 public:
  explicit ChildProcess(std::vector<std::string> argv) : argv_(std::move(argv)) { start(); }
  ~ChildProcess() { stop(SIGTERM); }

  void start() {
    std::vector<char*> args;
    for (auto& a : argv_) args.push_back(a.data());
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], nullptr, nullptr, args.data(), environ) != 0) {
      throw std::runtime_error("cannot start " + argv_[0]);
    }
  }

  // Sends `signal` and waits for the exit. Returns the exit status (or -signal).
  int stop(int signal) {
    if (pid_ <= 0) return 0;
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }

  bool running() const { return pid_ > 0; }

 private:
  std::vector<std::string> argv_;
  pid_t pid_ = -1;
};

// Waits until `file` holds a path (a simulated device published its pty). Throws after `timeout`.
inline std::string wait_for_path_file(const std::string& file, std::chrono::seconds timeout = std::chrono::seconds(20)) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    const std::string path = rig::link::read_path_file(file);
    if (!path.empty()) return path;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw std::runtime_error("no pty path appeared in " + file);
}

}  // namespace rig::test
