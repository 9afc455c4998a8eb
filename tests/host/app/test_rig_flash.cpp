// `rig flash` end to end (issue 22): the built `rig` asks a board over the rig's link before writing it. A
// virtual MCU (rig-vmcu, this build's firmware core) stands for a board that already runs this protocol version;
// a pseudo-terminal with nothing behind it (socat) for a board without rig firmware, where the real avrdude runs
// and fails to find a bootloader. No board is written: there is none in a test.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "program_test_support.hpp"
#include "support/child_process.hpp"
#include "support/run_command.hpp"

namespace rig::app {
namespace {

using rig::testing::read_all;
using rig::testing::wait_for;
using Child = rig::testing::ChildProcess;

class RigFlash : public ::testing::Test {
 protected:
  // rig-vmcu without a mouse; returns its pty once published.
  std::string start_vmcu() {
    const std::string pty_file = (dir_.path / "vmcu.pty").string();
    vmcu_ = std::make_unique<Child>(
        std::vector<std::string>{RIG_VMCU_BINARY, "--mouse", "none", "--seed", "1", "--pty-file", pty_file},
        (dir_.path / "vmcu.log").string());
    EXPECT_TRUE(vmcu_->started());
    EXPECT_TRUE(wait_for([&] { return !read_all(pty_file).empty(); }));
    std::string pty = read_all(pty_file);
    while (!pty.empty() && (pty.back() == '\n' || pty.back() == ' ')) pty.pop_back();
    return pty;
  }

  rig::testing::CommandRun flash(const std::string& arguments) {
    return rig::testing::run_command(std::string(RIG_BINARY) + " flash " + arguments + " 2>&1");
  }

  rig::testing::TempDir dir_{"rig-flash"};
  std::unique_ptr<Child> vmcu_;  // declared after dir_: stopped before its directory goes
};

TEST_F(RigFlash, LeavesABoardThatAlreadySpeaksThisProtocolVersionAlone) {
  const std::string pty = start_vmcu();
  // An avrdude that does not exist: had rig flash tried to run it, it would have failed.
  const auto run = flash("--port " + pty + " --avrdude /nonexistent/avrdude");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("the board runs 'rig-sim-"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("nothing to do: it already matches (--force writes"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("running: "), std::string::npos) << run.output;
}

TEST_F(RigFlash, ForceWritesTheShippedImageWithAvrdudesMegaBootloaderSettings) {
  const std::string pty = start_vmcu();
  const auto run = flash("--port " + pty + " --force --dry-run");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  const std::string hex = std::string(RIG_FIRMWARE_HEX);
  EXPECT_NE(run.output.find("would run: avrdude -p atmega2560 -c wiring -P " + pty + " -b 115200 -D -U flash:w:" +
                            hex + ":i"),
            std::string::npos)
      << run.output;
}

TEST_F(RigFlash, ABoardWithoutRigFirmwareIsFlashedAndAvrdudesFailureIsReported) {
  const std::string a = (dir_.path / "board").string(), b = (dir_.path / "nothing").string();
  Child socat({"/usr/bin/socat", "pty,raw,echo=0,link=" + a, "pty,raw,echo=0,link=" + b}, (dir_.path / "socat.log").string());
  ASSERT_TRUE(socat.started());
  ASSERT_TRUE(wait_for([&] { return std::filesystem::exists(a); }));
  // Nothing answers the rig's handshake, so the real avrdude runs; nothing answers it either.
  const auto run = flash("--port " + a);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("no rig firmware answered"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("running: avrdude -p atmega2560 -c wiring -P " + a), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("rig flash: avrdude exited 1: the board was not written"), std::string::npos) << run.output;
}

TEST_F(RigFlash, BadInputNamesWhatIsWrongAndWritesNothing) {
  auto run = flash("--port " + (dir_.path / "no-such-port").string() + " --avrdude /nonexistent/avrdude");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("no-such-port: no such port (is the board plugged in?"), std::string::npos) << run.output;
  run = flash("--port /dev/null --firmware " + std::string(RIG_SOURCE_DIR) + "/README.md");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("README.md: expected an Intel HEX image (.hex)"), std::string::npos) << run.output;
  run = flash("--port /dev/null --firmware " + (dir_.path / "missing.hex").string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("missing.hex: firmware image not found"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace rig::app
