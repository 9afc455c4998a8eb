// The atomic file writer: whole files only, permissions kept, failures named and leaving nothing behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "host/config/atomic_file.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using rig::config::write_file_atomically;

namespace {

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

size_t entries(const fs::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

TEST(AtomicFile, CreatesANewFileWithTheGivenMode) {
  const rig::testing::TempDir dir("rig-atomic");
  const fs::path file = dir.path / "rig.yaml";
  write_file_atomically(file, "a: 1\n", fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(read(file), "a: 1\n");
  EXPECT_EQ(fs::status(file).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(entries(dir.path), 1u) << "a temporary file was left behind";
}

TEST(AtomicFile, ReplacesAnExistingFileKeepingItsPermissions) {
  const rig::testing::TempDir dir("rig-atomic");
  const fs::path file = dir.path / "rig.yaml";
  std::ofstream(file) << "old content that is longer than the new one\n";
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  write_file_atomically(file, "new\n");
  EXPECT_EQ(read(file), "new\n");
  EXPECT_EQ(fs::status(file).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  EXPECT_EQ(entries(dir.path), 1u);
}

// The last step fails (a directory stands where the file should go: even root cannot rename over it).
TEST(AtomicFile, AFailedRenameNamesThePathAndLeavesNoTemporary) {
  const rig::testing::TempDir dir("rig-atomic");
  const fs::path target = dir.path / "rig.yaml";
  fs::create_directories(target / "inside");
  try {
    write_file_atomically(target, "new\n");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(target.string() + ": cannot write (rename"), std::string::npos) << what;
  }
  EXPECT_TRUE(fs::is_directory(target / "inside"));
  EXPECT_EQ(entries(dir.path), 1u) << "a temporary file was left behind";
}

TEST(AtomicFile, AMissingDirectoryIsAClearError) {
  const rig::testing::TempDir dir("rig-atomic");
  const fs::path file = dir.path / "no-such-dir" / "url";
  try {
    write_file_atomically(file, "http://127.0.0.1:8765/\n");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(file.string()), std::string::npos) << what;
    EXPECT_NE(what.find("No such file or directory"), std::string::npos) << what;
  }
}
