// The subject's trial-history regression, kept up to date as trials come: an analysis::OnlineFitter fed from
// the io thread (never waiting for a fit), with the subject's earlier sessions preloaded so the fit is pooled
// as DESIGN.md asks.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "host/analysis/crt.hpp"
#include "host/analysis/online_fitter.hpp"
#include "session_runner.hpp"

namespace rig::app {

// The analysis record of a completed trial. `session_id` separates histories. Pure.
analysis::TrialRecord to_trial_record(const CompletedTrial& trial, int64_t session_id);

// The live fit's ridge penalty (docs/analysis.md): early in training the unpenalised fit is often separated.
// The end-of-session summary and `rig fit` use the reference fit (no penalty).
inline constexpr double kLiveFitL2 = 0.1;

// Thread-safe: observer calls on the io thread, latest() from anywhere.
class LiveFit : public SessionObserver {
 public:
  // `history`: the subject's earlier trials, oldest first. `session_id` tags this session's trials.
  LiveFit(std::vector<analysis::TrialRecord> history, int64_t session_id,
          analysis::FitOptions options = analysis::FitOptions{.l2 = kLiveFitL2});

  void on_trial(const CompletedTrial& trial) override;

  std::optional<analysis::HistoryFit> latest() const { return fitter_->latest(); }
  const analysis::FitOptions& options() const { return options_; }
  // Every trial so far (history + this session), for the final fit and the randomization test.
  const std::vector<analysis::TrialRecord>& trials() const { return trials_; }
  size_t session_trials() const { return trials_.size() - history_size_; }
  void wait_idle() { fitter_->wait_idle(); }

 private:
  std::vector<analysis::TrialRecord> trials_;
  size_t history_size_;
  int64_t session_id_;
  analysis::FitOptions options_;
  std::unique_ptr<analysis::OnlineFitter> fitter_;
};

}  // namespace rig::app
