// The live fit: one subject's regression, refitted warm-started after new trials, on a worker thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "host/analysis/history_regression.hpp"
#include "host/analysis/trial_record.hpp"

namespace rig::analysis {

// Owns a worker thread that keeps one subject's HistoryFit up to date. The rig thread hands over trials with
// append()/submit(), which only take a short lock to queue them and never wait for a fit. The worker takes
// everything queued so far (trials that arrive during a fit are coalesced into the next one), extends its
// design incrementally and refits warm-started from its previous solution (typically 2-3 Newton steps).
// Each result goes to the callback (called on the worker thread: the owner posts it to its own io_context)
// and to latest().
class OnlineFitter {
 public:
  // Called on the worker thread with each new fit and the number of trials (misses included) it covers.
  // Must not call back into this OnlineFitter's wait_idle() or destructor.
  using ResultCallback = std::function<void(const HistoryFit& fit, std::uint64_t trials_seen)>;

  // Online fits stop once a Newton step is below this relative size (unless options.tolerance is looser):
  // warm-started after one new trial, the second step is already ~1e-10, so the estimate is as exact as the
  // reference fit's while a third, confirming step is saved.
  static constexpr double kOnlineTolerance = 1e-8;

  // Starts the worker. `options.l2` > 0 is advised: early in training the unpenalised fit is often separated.
  // Throws std::invalid_argument on bad options, std::system_error if the thread cannot start.
  explicit OnlineFitter(FitOptions options, ResultCallback on_result = {});
  // Stops the worker after the fit in progress (queued trials are dropped) and joins it.
  ~OnlineFitter();
  OnlineFitter(const OnlineFitter&) = delete;
  OnlineFitter& operator=(const OnlineFitter&) = delete;

  // Queues trials in order (trials of earlier sessions first). Thread-safe, non-blocking apart from a short
  // lock; no errors.
  void append(const TrialRecord& trial);
  void submit(std::span<const TrialRecord> trials);

  // The most recent fit (nullopt before the first). Thread-safe.
  std::optional<HistoryFit> latest() const;
  // Blocks until every trial queued before the call has been fitted and its result delivered. Thread-safe;
  // for tests and orderly shutdown, not for the rig thread.
  void wait_idle();
  // Fits completed so far. Thread-safe.
  std::uint64_t fits_completed() const;

 private:
  void run();

  const FitOptions options_;
  const ResultCallback on_result_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::vector<TrialRecord> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::uint64_t fits_completed_ = 0;
  std::shared_ptr<const HistoryFit> latest_;
  std::thread worker_;  // last: starts after every other member is ready
};

}  // namespace rig::analysis
