#include "host/analysis/online_fitter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "support/simulated_task.hpp"

namespace rig::analysis {
namespace {

using test_support::simulate_agent;

TEST(OnlineFitter, AfterWaitIdleTheLatestFitEqualsTheBatchFit) {
  const auto trials = simulate_agent(agent_preset(AgentPreset::kMixed), 2, 400, 13);
  OnlineFitter fitter(FitOptions{.l2 = 0.1});
  EXPECT_FALSE(fitter.latest().has_value());
  for (std::size_t i = 0; i < trials.size(); i += 50) {
    fitter.submit(std::span(trials).subspan(i, std::min<std::size_t>(50, trials.size() - i)));
  }
  fitter.wait_idle();
  const auto online = fitter.latest();
  ASSERT_TRUE(online.has_value());
  const HistoryFit batch = fit_history(trials, FitOptions{.l2 = 0.1});
  EXPECT_EQ(online->n_trials, batch.n_trials);
  EXPECT_TRUE(online->model.converged);
  ASSERT_EQ(online->model.coefficients.size(), batch.model.coefficients.size());
  EXPECT_LT((online->model.coefficients - batch.model.coefficients).cwiseAbs().maxCoeff(), 1e-8);
  EXPECT_GE(fitter.fits_completed(), 1u);
}

TEST(OnlineFitter, AppendReturnsWhileAFitIsInProgressAndTrialsAreCoalesced) {
  const auto trials = simulate_agent(agent_preset(AgentPreset::kNaive), 1, 300, 17);
  std::mutex mutex;
  std::condition_variable cv;
  bool release = false;
  bool entered = false;
  std::vector<std::uint64_t> seen;
  OnlineFitter fitter(FitOptions{.l2 = 0.1}, [&](const HistoryFit&, std::uint64_t trials_seen) {
    std::unique_lock lock(mutex);
    seen.push_back(trials_seen);
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });  // hold the worker inside its first delivery
  });
  fitter.append(trials[0]);
  {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return entered; });
  }
  // The worker is blocked in the callback: appends must still go through without waiting for it.
  for (std::size_t i = 1; i < trials.size(); ++i) fitter.append(trials[i]);
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  cv.notify_all();
  fitter.wait_idle();
  ASSERT_EQ(seen.size(), 2u) << "the 299 trials queued during the first fit are fitted together";
  EXPECT_EQ(seen[0], 1u);
  EXPECT_EQ(seen[1], trials.size());
  EXPECT_EQ(fitter.fits_completed(), 2u);
}

TEST(OnlineFitter, AWarmStartedUpdateTakesFewNewtonSteps) {
  const auto trials = simulate_agent(agent_preset(AgentPreset::kMixed), 1, 2001, 19);
  OnlineFitter fitter(FitOptions{.l2 = 0.1});
  fitter.submit(std::span(trials).first(2000));
  fitter.wait_idle();
  fitter.append(trials[2000]);
  fitter.wait_idle();
  ASSERT_TRUE(fitter.latest());
  EXPECT_TRUE(fitter.latest()->model.converged);
  EXPECT_LE(fitter.latest()->model.iterations, 3);
}

TEST(OnlineFitter, RejectsBadOptionsBeforeStarting) {
  EXPECT_THROW(OnlineFitter(FitOptions{.lags = 0}), std::invalid_argument);
}

}  // namespace
}  // namespace rig::analysis
