#include "host/analysis/online_fitter.hpp"

#include <algorithm>

#include <utility>

namespace rig::analysis {

OnlineFitter::OnlineFitter(FitOptions options, ResultCallback on_result)
    : options_(validated(options)),
      on_result_(std::move(on_result)),
      worker_([this] { run(); }) {}

OnlineFitter::~OnlineFitter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

void OnlineFitter::append(const TrialRecord& trial) { submit(std::span<const TrialRecord>(&trial, 1)); }

void OnlineFitter::submit(std::span<const TrialRecord> trials) {
  {
    std::lock_guard lock(mutex_);
    queue_.insert(queue_.end(), trials.begin(), trials.end());
  }
  wake_.notify_one();
}

std::optional<HistoryFit> OnlineFitter::latest() const {
  std::shared_ptr<const HistoryFit> snapshot;
  {
    std::lock_guard lock(mutex_);
    snapshot = latest_;
  }
  if (!snapshot) return std::nullopt;
  return *snapshot;
}

void OnlineFitter::wait_idle() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return (queue_.empty() && !busy_) || stopping_; });
}

std::uint64_t OnlineFitter::fits_completed() const {
  std::lock_guard lock(mutex_);
  return fits_completed_;
}

void OnlineFitter::run() {
  FitOptions options = options_;
  options.tolerance = std::max(options.tolerance, kOnlineTolerance);
  DesignBuilder builder(options_.lags);
  std::shared_ptr<const HistoryFit> previous;
  std::uint64_t trials_seen = 0;
  std::vector<TrialRecord> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return !queue_.empty() || stopping_; });
      if (stopping_) return;
      batch.swap(queue_);
      busy_ = true;
    }
    for (const auto& trial : batch) builder.add(trial);
    trials_seen += batch.size();
    batch.clear();
    auto fit = std::make_shared<const HistoryFit>(fit_history(builder.design(), options, previous.get()));
    if (on_result_) on_result_(*fit, trials_seen);
    previous = fit;
    {
      std::lock_guard lock(mutex_);
      latest_ = std::move(fit);
      ++fits_completed_;
      busy_ = false;
    }
    idle_.notify_all();
  }
}

}  // namespace rig::analysis
