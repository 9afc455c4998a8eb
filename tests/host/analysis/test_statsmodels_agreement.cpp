// Agreement with statsmodels Logit, whose script builds the design on its own from the same trials.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "host/analysis/history_regression.hpp"
#include "host/analysis/trial_csv.hpp"
#include "support/simulated_task.hpp"
#include "support/statsmodels_reference.hpp"

namespace rig::analysis {
namespace {

constexpr double kTolerance = 1e-6;

void expect_agreement(std::span<const TrialRecord> trials, int lags) {
  const HistoryFit ours = fit_history(trials, FitOptions{.lags = lags});
  const auto reference = test_support::statsmodels_fit(trials, lags);
  ASSERT_TRUE(ours.model.converged);
  ASSERT_TRUE(reference.converged);
  EXPECT_EQ(ours.n_trials, reference.n);
  std::vector<std::string> our_columns{"intercept"};
  for (const int c : ours.model.columns) our_columns.push_back(column_name(c, lags));
  ASSERT_EQ(our_columns, reference.columns) << "the same columns are left out";
  for (std::size_t i = 0; i < our_columns.size(); ++i) {
    const auto j = static_cast<Eigen::Index>(i);
    EXPECT_NEAR(ours.model.coefficients[j], reference.params.at(our_columns[i]), kTolerance) << our_columns[i];
    EXPECT_NEAR(std::sqrt(ours.model.covariance(j, j)), reference.bse.at(our_columns[i]), kTolerance)
        << our_columns[i];
  }
  EXPECT_NEAR(ours.model.loglik, reference.llf, kTolerance);
}

class StatsmodelsAgreement : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test_support::statsmodels_available()) {
      GTEST_SKIP() << "/usr/bin/python3 with statsmodels and pandas is missing: run scripts/setup";
    }
  }
};

TEST_F(StatsmodelsAgreement, OnASimulatedMixedAgentWithInstructedTrialsMissesAndSessions) {
  expect_agreement(test_support::simulate_agent(agent_preset(AgentPreset::kMixed), 3, 500, 31), 5);
}

TEST_F(StatsmodelsAgreement, OnASimulatedNaiveAgentAtThreeLags) {
  expect_agreement(test_support::simulate_agent(agent_preset(AgentPreset::kNaive), 2, 600, 32), 3);
}

// shared/data/real: session,trial,choice,rewarded,p_left,p_right. One reward type: it is the controllable
// one and the distractor is never delivered, which is how `rig fit --csv` takes them.
std::string as_fit_csv(const std::filesystem::path& real) {
  std::ifstream in(real);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "session,trial,choice,rewarded,p_left,p_right");
  std::ostringstream out;
  out << "session,trial,choice,controllable,distractor,p_controllable_left,p_controllable_right\n";
  while (std::getline(in, line)) {
    std::stringstream fields(line);
    std::string session, trial, choice, rewarded, p_left, p_right;
    std::getline(fields, session, ',');
    std::getline(fields, trial, ',');
    std::getline(fields, choice, ',');
    std::getline(fields, rewarded, ',');
    std::getline(fields, p_left, ',');
    std::getline(fields, p_right, ',');
    out << session << ',' << trial << ',' << choice << ',' << rewarded << ",0," << p_left << ',' << p_right << '\n';
  }
  return out.str();
}

TEST_F(StatsmodelsAgreement, OnEveryRealMouseSession) {
  const std::filesystem::path real = std::filesystem::path(RIG_SHARED_DATA_DIR) / "real";
  if (!std::filesystem::is_directory(real)) GTEST_SKIP() << real << " is missing";
  int sessions = 0;
  for (const auto& entry : std::filesystem::directory_iterator(real)) {
    if (entry.path().extension() != ".csv") continue;
    SCOPED_TRACE(entry.path().filename().string());
    const auto trials = parse_trials_csv(as_fit_csv(entry.path()));
    expect_agreement(trials, kDefaultLags);
    ++sessions;
  }
  EXPECT_GT(sessions, 0);
}

}  // namespace
}  // namespace rig::analysis
