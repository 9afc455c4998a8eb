// The bounded reader: a regular file is read whole; a FIFO, a device or a directory is refused at once (a
// FIFO with no writer would block a plain open for ever); a file over the cap is refused without reading it.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "host/config/bounded_read.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using rig::config::read_bounded_file;

TEST(BoundedRead, ReadsARegularFileWhole) {
  const rig::testing::TempDir dir("rig-bounded");
  const std::string text = std::string("name: x\n") + std::string(5000, '#') + "\n";
  std::ofstream(dir.path / "p.yaml") << text;
  const auto read = read_bounded_file((dir.path / "p.yaml").string());
  ASSERT_TRUE(read.text) << read.error;
  EXPECT_EQ(*read.text, text);
  std::ofstream(dir.path / "empty.yaml");
  EXPECT_EQ(read_bounded_file((dir.path / "empty.yaml").string()).text, std::string());
}

TEST(BoundedRead, RefusesAFifoWithoutBlocking) {
  const rig::testing::TempDir dir("rig-bounded");
  const auto fifo = (dir.path / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Nobody writes to it: a blocking open would never return and the test would time out.
  const auto read = read_bounded_file(fifo);
  EXPECT_FALSE(read.text);
  EXPECT_EQ(read.error, "not a regular file (a FIFO)");
}

TEST(BoundedRead, RefusesDevicesAndDirectories) {
  EXPECT_EQ(read_bounded_file("/dev/zero").error, "not a regular file (a character device)");
  const rig::testing::TempDir dir("rig-bounded");
  EXPECT_EQ(read_bounded_file(dir.path.string()).error, "not a regular file (a directory)");
  EXPECT_EQ(read_bounded_file((dir.path / "missing.yaml").string()).error, "no such file");
}

TEST(BoundedRead, RefusesAFileOverTheCapAndAcceptsOneAtIt) {
  const rig::testing::TempDir dir("rig-bounded");
  std::ofstream(dir.path / "big.yaml") << std::string(2048, 'x');
  EXPECT_EQ(read_bounded_file((dir.path / "big.yaml").string(), 2047).error, "larger than 2047 bytes");
  EXPECT_EQ(read_bounded_file((dir.path / "big.yaml").string(), 2048).text->size(), 2048u);
}
