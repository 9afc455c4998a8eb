// Shared by the tests of the built programs (rig, rigd): the end-to-end fixture files and a fresh directory
// per test (support/temp_dir.hpp).
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <gtest/gtest.h>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>

#include "support/temp_dir.hpp"

namespace rig::testing {

// A file of the end-to-end fixtures (tests/host/app/e2e/: rig.yaml, subjects.yaml, protocol.yaml).
inline std::string e2e(const std::string& file) { return std::string(RIG_SOURCE_DIR) + "/tests/host/app/e2e/" + file; }

// How long a test waits for a program to do something at most: a guard against a hang, not a measure of speed.
inline constexpr auto kPatience = std::chrono::seconds(60);

// The whole file (empty when it cannot be read).
inline std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Polls `done` every 50 ms until it is true (then true) or kPatience has passed (then false).
inline bool wait_for(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

}  // namespace rig::testing
