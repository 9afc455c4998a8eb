// Shared by the tests of the built programs (rig, rigd): the end-to-end fixture files and a fresh directory
// per test.
#pragma once

#include <filesystem>
#include <gtest/gtest.h>
#include <string>
#include <unistd.h>

namespace rig::testing {

// A file of the end-to-end fixtures (tests/host/app/e2e/: rig.yaml, subjects.yaml, protocol.yaml).
inline std::string e2e(const std::string& file) { return std::string(RIG_SOURCE_DIR) + "/tests/host/app/e2e/" + file; }

// A fresh, empty directory for the running test: TMPDIR/PREFIX-PID-TESTNAME (what an earlier run left there is
// removed). Throws std::filesystem::filesystem_error.
inline std::filesystem::path fresh_test_dir(const std::string& prefix) {
  const auto dir = std::filesystem::temp_directory_path() /
                   (prefix + "-" + std::to_string(::getpid()) + "-" +
                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace rig::testing
