// `rig run` killed with SIGKILL at random moments, then resumed: the database always opens and passes
// integrity_check, no completed trial is ever lost, numbering carries on, and the resumed session ends where an
// uninterrupted one would (same number of trials, the same per-trial draws).
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <random>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "host/store/store.hpp"
#include "program_test_support.hpp"
#include "support/child_process.hpp"

namespace {

using rig::testing::e2e;

pid_t start_rig(const std::string& db, bool resume, int max_trials) {
  std::vector<std::string> argv = {RIG_BINARY, "run", "--config", e2e("rig.yaml"), "--subjects", e2e("subjects.yaml"),
                                   "--subject", "SAVVY", "--device", "sim", "--speed", "50", "--max-trials",
                                   std::to_string(max_trials), "--seed", "5", "--crt", "0", "--quiet", "--db", db};
  if (resume) argv.push_back("--resume");
  return rig::testing::spawn_process(argv);
}

// How many trials the session has committed (0 before the database or the session exists): a cheap look while
// `rig run` writes.
size_t committed_trials(const std::string& db) {
  if (!std::filesystem::exists(db)) return 0;
  try {
    auto store = rig::store::Store::open(db, rig::store::OpenOptions::reading());
    const auto sessions = store.sessions("SAVVY");
    return sessions.empty() ? 0 : static_cast<size_t>(sessions.front().trial_count);
  } catch (const std::exception&) {
    return 0;  // created but not yet set up by `rig run`
  }
}

using rig::testing::wait_exit;

// No run of 200 trials at 50x comes near this on any machine; past it, `rig run` hangs.
constexpr std::chrono::seconds kHangLimit{300};

// How far a hung run on `db` got and the session's events, one per line: what it leaves to read.
std::string hang_report(const std::string& db) {
  std::string out = "with " + std::to_string(committed_trials(db)) + " trials; its events:\n";
  try {
    auto store = rig::store::Store::open(db, rig::store::OpenOptions::reading());
    const auto sessions = store.sessions("SAVVY");
    if (sessions.empty()) return out + "(no session)";
    for (const auto& e : store.events(sessions.front().session_id)) out += "  " + e.kind + " " + e.detail_json + "\n";
  } catch (const std::exception& e) {
    out += std::string("(unreadable: ") + e.what() + ")";
  }
  return out;
}

// Runs `rig run` on `db` to its end; 0 when it ended well. A run that hangs is killed and reported with the
// session's events.
int run_to_end(const std::string& db, bool resume, int max_trials) {
  const auto code = rig::testing::wait_exit_within(start_rig(db, resume, max_trials), kHangLimit);
  if (!code) {
    ADD_FAILURE() << "rig run on " << db << " hung (killed after " << kHangLimit.count() << " s) "
                  << hang_report(db);
    return -1;
  }
  return *code;
}

std::vector<rig::store::StoredTrial> session_trials(const std::string& db) {
  auto store = rig::store::Store::open(db, rig::store::OpenOptions::reading());
  EXPECT_EQ(store.integrity_check(), "ok");
  const auto sessions = store.sessions("SAVVY");
  EXPECT_LE(sessions.size(), 1u) << "a resume must continue the same session";
  if (sessions.empty()) return {};
  return store.trials(sessions.front().session_id);
}

}  // namespace

TEST(RigRunKill, KilledAtRandomPointsLosesNoTrialAndResumesExactly) {
  const auto dir = std::filesystem::temp_directory_path() / ("rig-kill-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string db = (dir / "rig.sqlite").string();
  const std::string reference_db = (dir / "reference.sqlite").string();
  constexpr int kTrials = 200;

  // Each run is killed once it has committed a few more trials (so the kills land whatever the machine's
  // speed), then after a random extra moment (so they land at any phase of a trial).
  std::mt19937 rng(2026);
  std::uniform_int_distribution<int> extra_ms(0, 400);
  size_t committed = 0;
  int kills = 0;
  for (int k = 0; k < 8; ++k) {
    bool has_session = false;
    if (std::filesystem::exists(db)) {
      auto store = rig::store::Store::open(db, rig::store::OpenOptions::reading());
      has_session = !store.sessions("SAVVY").empty();
    }
    const pid_t pid = start_rig(db, has_session, kTrials);
    const size_t target = committed + 15;
    int status = 0;
    bool exited = false;
    const auto hang_at = std::chrono::steady_clock::now() + kHangLimit;
    while (!exited && committed_trials(db) < target) {
      if (std::chrono::steady_clock::now() > hang_at) {
        ::kill(pid, SIGKILL);
        wait_exit(pid);
        FAIL() << "rig run hung at kill " << k << " " << hang_report(db);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      exited = ::waitpid(pid, &status, WNOHANG) == pid;
    }
    if (!exited) {
      std::this_thread::sleep_for(std::chrono::milliseconds(extra_ms(rng)));
      const bool killed = ::kill(pid, SIGKILL) == 0;
      kills += killed && wait_exit(pid) == -SIGKILL;
    }
    const auto trials = session_trials(db);
    ASSERT_GE(trials.size(), committed) << "a committed trial was lost at kill " << k;
    for (size_t i = 0; i < trials.size(); ++i) ASSERT_EQ(trials[i].trial_number, i + 1) << "numbering gap";
    committed = trials.size();
    if (committed >= kTrials) break;
  }
  EXPECT_GE(kills, 6);
  // Let the last resume run to the end.
  if (committed < kTrials) {
    ASSERT_EQ(run_to_end(db, true, kTrials), 0);
  }
  const auto trials = session_trials(db);
  ASSERT_EQ(trials.size(), static_cast<size_t>(kTrials));
  {
    auto store = rig::store::Store::open(db, rig::store::OpenOptions::reading());
    const auto s = store.sessions("SAVVY").front();
    ASSERT_TRUE(s.end_reason.has_value());
    EXPECT_EQ(*s.end_reason, "max_trials reached");
    EXPECT_GE(s.resume_count, 1);
  }

  // The same seed, uninterrupted: the draws that do not depend on the mouse are the same trial by trial (they
  // depend only on the seed and n). The controllable draw per side also depends on which side is high, which
  // follows the mouse's choices, and a restarted simulated mouse chooses differently.
  ASSERT_EQ(run_to_end(reference_db, false, kTrials), 0);
  const auto reference = session_trials(reference_db);
  ASSERT_EQ(reference.size(), trials.size());
  for (size_t i = 0; i < trials.size(); ++i) {
    EXPECT_EQ(trials[i].free_choice, reference[i].free_choice) << "trial " << i + 1;
    EXPECT_EQ(trials[i].instructed_side, reference[i].instructed_side) << "trial " << i + 1;
    EXPECT_EQ(trials[i].distractor_drawn, reference[i].distractor_drawn) << "trial " << i + 1;
  }
  std::filesystem::remove_all(dir);
}

// Ctrl-C (SIGINT) ends the session cleanly: the trial in flight recorded, the summary printed, exit 0. Before
// issue 20's fix, nothing kept the io context busy while the end-of-session report was computed after a
// Ctrl-C, so `rig run` could end with "the session ended without a result" (exit 1).
TEST(RigRunKill, CtrlCEndsTheSessionCleanlyWithItsSummary) {
  const rig::testing::TempDir dir("rig-ctrl-c");
  const std::string db = (dir.path / "rig.sqlite").string();
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round);
    const pid_t pid = start_rig(db, round > 0, 1000000);
    ASSERT_GT(pid, 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    const size_t before = committed_trials(db);
    while (committed_trials(db) < before + 3 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid, SIGINT);
    EXPECT_EQ(wait_exit(pid), 0);
    auto store = rig::store::Store::open(db, rig::store::OpenOptions::reading());
    const auto sessions = store.sessions("SAVVY");
    ASSERT_EQ(sessions.size(), 1u);
    EXPECT_EQ(sessions[0].end_reason, "stopped by the operator");
    EXPECT_FALSE(sessions[0].interrupted);
  }
}
