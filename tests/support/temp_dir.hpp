// Fresh directories for tests: one per running test, so repeats and parallel binaries never share one.
#pragma once

#include <filesystem>
#include <gtest/gtest.h>
#include <string>
#include <system_error>
#include <unistd.h>

namespace rig::testing {

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

// fresh_test_dir() for the scope: removed when it ends, also when a test made it read-only.
struct TempDir {
  explicit TempDir(const std::string& prefix) : path(fresh_test_dir(prefix)) {}
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::permissions(path, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ignored);
    std::filesystem::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::filesystem::path path;
};

}  // namespace rig::testing
