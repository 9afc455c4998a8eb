// `rig sessions` and `rig export` as a lab member runs them: output, files and exit codes.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "host/store/export.hpp"
#include "store_test_support.hpp"
#include "support/run_command.hpp"

namespace rig::store {
namespace {

using Run = rig::testing::CommandRun;

// Runs the built `rig` (RIG_EXECUTABLE; the environment variable of that name may point to another build).
Run run_rig(const std::string& arguments) {
  const char* override_path = std::getenv("RIG_EXECUTABLE");
  return rig::testing::run_command(std::string(override_path ? override_path : RIG_EXECUTABLE) + " " + arguments + " 2>&1");
}

class StoreCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::open(db_);
    synthetic::Session session(8, "M7");
    ended_id_ = store.begin_session(testing::session_start("M7", 8, session.state()));
    for (int i = 0; i < 12; ++i) testing::commit(store, ended_id_, session.next());
    store.end_session(ended_id_, "max_trials", "{}");
    synthetic::Session other(9, "M8");
    running_id_ = store.begin_session(testing::session_start("M8", 9, other.state()));
    testing::commit(store, running_id_, other.next());
  }

  testing::TempDir dir_;
  std::string db_ = dir_.file("rig.sqlite");
  std::int64_t ended_id_ = 0;
  std::int64_t running_id_ = 0;
};

TEST_F(StoreCommands, SessionsListsTrialCountsEndReasonsAndHighSideShare) {
  const auto run = run_rig("sessions --db " + db_);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  auto store = Store::open(db_, OpenOptions::reading());
  const auto ended = *store.session(ended_id_);
  const auto percent = 100 * ended.high_side_choices / (ended.left_choices + ended.right_choices);
  std::ostringstream counts;
  counts << ended.trial_count << " " << std::string(5 - std::to_string(ended.left_choices).size(), ' ')
         << ended.left_choices;
  EXPECT_NE(run.output.find("M7"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find(counts.str()), std::string::npos) << run.output;
  EXPECT_NE(run.output.find(std::to_string(percent) + "%  max_trials"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("(running)"), std::string::npos) << run.output;
  const auto only = run_rig("sessions --db " + db_ + " --subject M8");
  EXPECT_EQ(only.output.find("M7"), std::string::npos) << only.output;
  EXPECT_NE(only.output.find("M8"), std::string::npos) << only.output;
}

TEST_F(StoreCommands, ExportWritesTheSameCsvAsTheLibrary) {
  const auto file = dir_.file("out.csv");
  const auto run = run_rig("export --db " + db_ + " --session " + std::to_string(ended_id_) + " --output " + file);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  std::ostringstream expected;
  export_trials(Store::open(db_, OpenOptions::reading()), ended_id_, ExportFormat::kCsv, expected);
  std::ifstream in(file);
  std::stringstream written;
  written << in.rdbuf();
  EXPECT_EQ(written.str(), expected.str());
}

TEST_F(StoreCommands, RigFitReadsTheTrialExportAsItIs) {
  // M7 has one session: its export, read by `rig fit --csv`, fits as the database does.
  const auto file = dir_.file("trials.csv");
  ASSERT_EQ(run_rig("export --db " + db_ + " --session " + std::to_string(ended_id_) + " --output " + file).exit_code, 0);
  const auto from_csv = run_rig("fit --csv " + file + " --lags 2 --json");
  const auto from_db = run_rig("fit --db " + db_ + " --subject M7 --lags 2 --json");
  ASSERT_EQ(from_db.exit_code, 0) << from_db.output;
  EXPECT_EQ(from_csv.exit_code, 0) << from_csv.output;
  // The JSON (stderr's notes name the source, and differ).
  const auto json = [](const std::string& output) { return output.substr(std::min(output.find('{'), output.size())); };
  EXPECT_FALSE(json(from_db.output).empty()) << from_db.output;
  EXPECT_EQ(json(from_csv.output), json(from_db.output));
}

TEST_F(StoreCommands, ExportWheelAsJsonLinesGoesToStdout) {
  const auto run = run_rig("export --db " + db_ + " --session " + std::to_string(running_id_) + " --wheel --format jsonl");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output.rfind("{\"session_id\":" + std::to_string(running_id_) + ",\"trial_number\":1,\"t_us\":", 0), 0u)
      << run.output.substr(0, 200);
}

TEST_F(StoreCommands, UnknownSessionOrMissingDatabaseIsBadInput) {
  const auto unknown = run_rig("export --db " + db_ + " --session 999");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.output.find("no session 999 in " + db_), std::string::npos) << unknown.output;
  const auto missing = run_rig("sessions --db " + dir_.file("absent.sqlite"));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("absent.sqlite: no such database file"), std::string::npos) << missing.output;
  const auto format = run_rig("export --db " + db_ + " --session 1 --format xlsx");
  EXPECT_EQ(format.exit_code, 2) << format.output;
}

TEST_F(StoreCommands, CorruptDatabaseIsARuntimeFailure) {
  const auto garbage = dir_.file("garbage.sqlite");
  std::ofstream(garbage) << std::string(8192, 'x');
  const auto run = run_rig("sessions --db " + garbage);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.output.find("file is not a database"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace rig::store
