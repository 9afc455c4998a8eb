#include "live_fit.hpp"

namespace rig::app {

analysis::TrialRecord to_trial_record(const CompletedTrial& trial, int64_t session_id) {
  const auto& t = trial.record;
  analysis::TrialRecord r;
  r.session_id = std::to_string(session_id);
  r.choice = analysis::choice_of(t.choice);
  r.free_choice = t.free_choice;
  r.controllable_delivered = model::delivered_open_us(t, t.controllable_flavour) > 0;
  r.distractor_delivered = model::delivered_open_us(t, t.distractor_flavour) > 0;
  r.p_controllable_left = t.p_controllable_left;
  r.p_controllable_right = t.p_controllable_right;
  r.p_distractor = t.p_distractor;
  return r;
}

LiveFit::LiveFit(std::vector<analysis::TrialRecord> history, int64_t session_id, analysis::FitOptions options)
    : trials_(std::move(history)), history_size_(trials_.size()), session_id_(session_id), options_(options) {
  fitter_ = std::make_unique<analysis::OnlineFitter>(options);
  if (!trials_.empty()) fitter_->submit(trials_);
}

void LiveFit::on_trial(const CompletedTrial& trial) {
  trials_.push_back(to_trial_record(trial, session_id_));
  fitter_->append(trials_.back());
}

}  // namespace rig::app
