// The tests' command runner: output and exit code; a command that outlives its patience is killed, with the
// stacks of its processes in the output, instead of holding the suite until CTest's timeout.
#include <gtest/gtest.h>

#include "support/run_command.hpp"

namespace rig::testing {
namespace {

TEST(RunCommand, CapturesStandardOutputAndTheExitCode) {
  const CommandRun run = run_command("echo out; echo err >&2; exit 3");
  EXPECT_EQ(run.output, "out\n");
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_FALSE(run.timed_out);
}

TEST(RunCommand, ACommandThatOutlivesItsPatienceIsKilledWithItsStacksShown) {
  // 300 s of sleep against 1 s of patience: no machine is slow enough to make this pass by finishing.
  const CommandRun run = run_command("echo started; sleep 300", std::chrono::seconds(1));
  EXPECT_TRUE(run.timed_out);
  EXPECT_EQ(run.exit_code, -1);
  EXPECT_EQ(run.output.rfind("started\n", 0), 0u) << run.output;
  EXPECT_NE(run.output.find("had not ended after 1 s"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("nanosleep"), std::string::npos) << "the sleeping thread's stack\n" << run.output;
  const auto mine = process_group_members(::getpgrp());
  EXPECT_NE(std::find(mine.begin(), mine.end(), ::getpid()), mine.end()) << "this test is in its own group";
}

TEST(RunCommand, AProgramThatClosesItsOutputButGoesOnIsStillWaitedForAndKilled) {
  const CommandRun run = run_command("exec >&-; sleep 300", std::chrono::seconds(1));
  EXPECT_TRUE(run.timed_out);
  EXPECT_NE(run.output.find("had not ended after 1 s"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace rig::testing
