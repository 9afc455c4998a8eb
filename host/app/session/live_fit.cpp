#include "live_fit.hpp"

namespace rig::app {

analysis::TrialRecord to_trial_record(const CompletedTrial& trial, int64_t session_id) {
  analysis::TrialRecord r;
  r.session_id = std::to_string(session_id);
  if (!trial.update.choice) {
    r.choice = analysis::Choice::kMiss;
  } else {
    r.choice = *trial.update.choice == wire::Side::kLeft ? analysis::Choice::kLeft : analysis::Choice::kRight;
  }
  r.free_choice = trial.plan.free_choice;
  const auto ctrl = static_cast<size_t>(trial.plan.controllable_valve);
  const auto dist = static_cast<size_t>(trial.plan.distractor_valve);
  r.controllable_delivered = trial.result.delivered_open_us[ctrl] > 0;
  r.distractor_delivered = trial.result.delivered_open_us[dist] > 0;
  r.p_controllable_left = trial.plan.p_controllable_by_side[static_cast<size_t>(wire::Side::kLeft)];
  r.p_controllable_right = trial.plan.p_controllable_by_side[static_cast<size_t>(wire::Side::kRight)];
  r.p_distractor = trial.plan.p_distractor;
  return r;
}

LiveFit::LiveFit(std::vector<analysis::TrialRecord> history, int64_t session_id, analysis::FitOptions options)
    : trials_(std::move(history)), history_size_(trials_.size()), session_id_(session_id) {
  fitter_ = std::make_unique<analysis::OnlineFitter>(options);
  if (!trials_.empty()) fitter_->submit(trials_);
}

void LiveFit::on_trial(const CompletedTrial& trial) {
  trials_.push_back(to_trial_record(trial, session_id_));
  fitter_->append(trials_.back());
}

}  // namespace rig::app
