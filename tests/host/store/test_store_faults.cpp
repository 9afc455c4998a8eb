// The store under faults: a full disk, a read-only filesystem, and kill -9 at random points of a session.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <sstream>
#include <thread>

#include "store_test_support.hpp"

namespace rig::store {
namespace {

using testing::TempDir;

// A tmpfs of `size` mounted on a fresh directory for the test (needs root: mounting is how a full disk and a
// read-only filesystem are made real), unmounted at the end.
class SmallFilesystem {
 public:
  SmallFilesystem(const TempDir& dir, const std::string& size) : mount_point_(dir.file("mnt")) {
    std::filesystem::create_directories(mount_point_);
    mounted_ = ::mount("tmpfs", mount_point_.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~SmallFilesystem() {
    if (mounted_) ::umount2(mount_point_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  std::string file(const std::string& name) const { return mount_point_ + "/" + name; }
  bool remount_read_only() {
    return ::mount("tmpfs", mount_point_.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY, nullptr) == 0;
  }

 private:
  std::string mount_point_;
  bool mounted_ = false;
  std::string error_;
};

TEST(StoreFaults, DiskFullFailsTheCommitCleanlyAndKeepsEveryEarlierTrial) {
  TempDir dir;
  SmallFilesystem fs(dir, "512k");
  if (!fs.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (" << fs.error() << "); needs root";
  const auto path = fs.file("rig.sqlite");
  std::int64_t session_id = 0;
  std::uint32_t committed = 0;
  {
    auto store = Store::open(path);
    synthetic::Session session(4, "M1");
    session_id = store.begin_session(testing::session_start("M1", 4, session.state()));
    bool full = false;
    for (int i = 0; i < 10'000 && !full; ++i) {
      const auto trial = session.next();
      try {
        testing::commit(store, session_id, trial);
        committed = trial.plan.trial_number;
      } catch (const StoreError& e) {
        full = true;
        EXPECT_EQ(e.sqlite_code() & 0xff, SQLITE_FULL) << e.what();
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("disk is full"), std::string::npos) << e.what();
      }
    }
    ASSERT_TRUE(full) << "the 512 kB filesystem never filled";
    ASSERT_GT(committed, 0u);
  }
  auto store = Store::open(path);
  EXPECT_EQ(store.integrity_check(), "ok");
  const auto trials = store.trials(session_id);
  ASSERT_EQ(trials.size(), committed);
  for (std::uint32_t i = 0; i < committed; ++i) EXPECT_EQ(trials[i].trial_number, i + 1);
  EXPECT_EQ(store.resume_point(session_id).last_trial_number, committed);
}

TEST(StoreFaults, ReadOnlyFilesystemIsAClearErrorAndLosesNothing) {
  TempDir dir;
  SmallFilesystem fs(dir, "4m");
  if (!fs.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (" << fs.error() << "); needs root";
  const auto path = fs.file("rig.sqlite");
  const auto session_id = testing::store_unended_session(path, 1);
  ASSERT_TRUE(fs.remount_read_only()) << std::strerror(errno);
  try {
    auto store = Store::open(path);
    testing::commit(store, session_id, testing::hand_trial(2));
    FAIL() << "wrote to a read-only filesystem";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Read-only file system"), std::string::npos) << e.what();
    EXPECT_EQ(e.sqlite_code(), SQLITE_READONLY) << e.what();
  }
  auto reader = Store::open(path, OpenOptions::reading());
  EXPECT_EQ(reader.trials(session_id).size(), 1u);
}

// The child side of the kill test: resumes the subject's session (or starts one) and commits trials forever,
// writing "B n" before and "A n" after each commit into `report`.
[[noreturn]] void commit_until_killed(const std::string& path, int report) {
  auto say = [report](const std::string& line) {
    const auto text = line + "\n";
    if (::write(report, text.data(), text.size()) != static_cast<ssize_t>(text.size())) ::_exit(3);
  };
  try {
    auto store = Store::open(path);
    store.mark_interrupted_sessions();
    std::optional<synthetic::Session> session;
    std::int64_t session_id = 0;
    if (const auto latest = store.latest_session("M1")) {
      session_id = latest->session_id;
      const auto saved = task::engine_state_from_json(store.resume_point(session_id).state_json);
      store.resume_session(session_id, {"fw", "{}", "test"});
      session.emplace(31, "M1", &saved);
    } else {
      session.emplace(31, "M1");
      session_id = store.begin_session(testing::session_start("M1", 31, session->state()));
    }
    for (;;) {
      const auto trial = session->next();
      say("B " + std::to_string(trial.plan.trial_number));
      testing::commit(store, session_id, trial);
      say("A " + std::to_string(trial.plan.trial_number));
    }
  } catch (const std::exception& e) {
    say(std::string("E ") + e.what());
    ::_exit(2);
  }
}

TEST(StoreFaults, CompletedTrialSurvivesKillNine) {
  TempDir dir;
  const auto path = dir.file("rig.sqlite");
  std::mt19937 random(20250106);
  std::uniform_int_distribution<int> delay_us(0, 120'000);
  std::uint32_t last_acknowledged = 0;
  int kills_during_commit = 0;
  for (int kill_point = 0; kill_point < 50; ++kill_point) {
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(pipe_fds[0]);
      commit_until_killed(path, pipe_fds[1]);
    }
    ::close(pipe_fds[1]);
    // Each life commits at least one trial before the kill (so the session grows whatever the machine's speed),
    // then runs a random while longer (so the kill lands anywhere, often inside a commit).
    std::string report;
    char buffer[4096];
    while (report.find("A ") == std::string::npos && report.find("E ") == std::string::npos) {
      const ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
      if (n <= 0) break;
      report.append(buffer, static_cast<std::size_t>(n));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(random)));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) report.append(buffer, static_cast<std::size_t>(n));
    ::close(pipe_fds[0]);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child ended by itself: " << report;

    std::istringstream lines(report);
    std::string tag;
    std::uint32_t number = 0;
    // A plain pair rather than std::optional: GCC 12 at -O3 misreports the optional as uninitialized.
    bool have_in_flight = false;
    std::uint32_t in_flight = 0;
    while (lines >> tag >> number) {
      ASSERT_NE(tag, "E") << report;
      if (tag == "A") {
        last_acknowledged = number;
        have_in_flight = false;
      } else {
        have_in_flight = true;
        in_flight = number;
      }
    }
    if (have_in_flight) ++kills_during_commit;

    auto store = Store::open(path);
    ASSERT_EQ(store.integrity_check(), "ok") << "after kill " << kill_point;
    const auto latest = store.latest_session("M1");
    if (!latest) {
      ASSERT_EQ(last_acknowledged, 0u) << "trials acknowledged but no session after kill " << kill_point;
      continue;
    }
    const auto trials = store.trials(latest->session_id);
    // Every acknowledged trial is there, numbered 1..n without a gap; only the one in flight may be missing.
    const std::uint32_t stored = trials.empty() ? 0 : trials.back().trial_number;
    ASSERT_EQ(trials.size(), stored) << "a gap in the trial numbers after kill " << kill_point;
    EXPECT_GE(stored, last_acknowledged) << "an acknowledged trial is missing after kill " << kill_point;
    EXPECT_LE(stored, have_in_flight ? in_flight : last_acknowledged) << "after kill " << kill_point;
    last_acknowledged = stored;
    EXPECT_EQ(store.resume_point(latest->session_id).last_trial_number, stored);
  }
  EXPECT_GT(kills_during_commit, 0) << "no kill landed inside a commit; widen the delays";

  // The session, stitched from all those lives, is exactly the uninterrupted session of the same seed.
  auto store = Store::open(path);
  const auto trials = store.trials(store.latest_session("M1")->session_id);
  ASSERT_GE(trials.size(), 50u);  // at least one per life
  synthetic::Session reference(31, "M1");
  for (const auto& stored : trials) {
    const auto expected = reference.next();
    ASSERT_EQ(stored.trial_number, expected.plan.trial_number);
    EXPECT_EQ(stored.block_index, expected.plan.block_index) << stored.trial_number;
    EXPECT_EQ(stored.high_side, expected.plan.high_side) << stored.trial_number;
    EXPECT_EQ(stored.free_choice, expected.plan.free_choice) << stored.trial_number;
    EXPECT_EQ(stored.instructed_side, expected.plan.instructed_side) << stored.trial_number;
    EXPECT_EQ((std::array<bool, 2>{stored.controllable_drawn_left, stored.controllable_drawn_right}),
              expected.plan.controllable_drawn_by_side)
        << stored.trial_number;
    EXPECT_EQ(stored.distractor_drawn, expected.plan.distractor_drawn) << stored.trial_number;
    EXPECT_EQ(stored.choice, expected.update.choice) << stored.trial_number;
  }
}

}  // namespace
}  // namespace rig::store
