#include "host/analysis/design_matrix.hpp"

#include <algorithm>
#include <stdexcept>

namespace rig::analysis {

SparseDesign::SparseDesign(int lags) : lags_(lags) {
  if (lags < 1 || lags > kMaxLags) {
    throw std::invalid_argument("lags must be between 1 and " + std::to_string(kMaxLags) + ", got " +
                                std::to_string(lags));
  }
  nonzeros_.assign(static_cast<std::size_t>(full_columns()), 0);
}

void SparseDesign::add_row(bool chose_right, std::span<const int> columns, std::span<const int> values) {
  if (columns.size() != static_cast<std::size_t>(lags_) || values.size() != columns.size()) {
    throw std::invalid_argument("a design row needs one column and one value per lag");
  }
  chose_right_.push_back(chose_right ? 1 : 0);
  // Per lag: 0 padding, else 1 + 2 * type + (value > 0), which identifies the column since lag is the position.
  std::uint64_t key = 0;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    column_.push_back(static_cast<std::int16_t>(columns[i]));
    value_.push_back(static_cast<std::int8_t>(values[i]));
    if (columns[i] >= 0) ++nonzeros_[static_cast<std::size_t>(columns[i])];
    const std::uint64_t code = columns[i] < 0 ? 0 : 1 + 2 * static_cast<std::uint64_t>(columns[i] / lags_) + (values[i] > 0);
    key = (key << 4) | code;
  }
  const std::uint32_t pattern =
      lags_ <= kMaxPatternLags ? find_or_add_pattern(key) : static_cast<std::uint32_t>(pattern_rights_.size());
  if (pattern == pattern_rights_.size()) {
    pattern_rights_.push_back(0);
    pattern_lefts_.push_back(0);
    pattern_column_.insert(pattern_column_.end(), column_.end() - lags_, column_.end());
    pattern_value_.insert(pattern_value_.end(), value_.end() - lags_, value_.end());
  }
  ++(chose_right ? pattern_rights_ : pattern_lefts_)[pattern];
}

std::uint32_t SparseDesign::find_or_add_pattern(std::uint64_t key) {
  const auto next = static_cast<std::uint32_t>(pattern_rights_.size());
  if (2 * (static_cast<std::size_t>(next) + 1) > slot_key_.size()) {
    // Keep the load under one half; rehash every pattern into a table twice the size.
    const std::size_t capacity = std::max<std::size_t>(64, 2 * slot_key_.size());
    std::vector<std::uint64_t> old_keys = std::move(slot_key_);
    std::vector<std::uint32_t> old_patterns = std::move(slot_pattern_);
    slot_key_.assign(capacity, 0);
    slot_pattern_.assign(capacity, 0);
    for (std::size_t i = 0; i < old_keys.size(); ++i) {
      if (old_keys[i] == 0) continue;
      std::size_t slot = (old_keys[i] * 0x9E3779B97F4A7C15ull) >> 20 & (capacity - 1);
      while (slot_key_[slot] != 0) slot = (slot + 1) & (capacity - 1);
      slot_key_[slot] = old_keys[i];
      slot_pattern_[slot] = old_patterns[i];
    }
  }
  const std::size_t mask = slot_key_.size() - 1;
  for (std::size_t slot = ((key + 1) * 0x9E3779B97F4A7C15ull) >> 20 & mask;; slot = (slot + 1) & mask) {
    if (slot_key_[slot] == key + 1) return slot_pattern_[slot];
    if (slot_key_[slot] == 0) {
      slot_key_[slot] = key + 1;
      slot_pattern_[slot] = next;
      return next;
    }
  }
}

Eigen::MatrixXd SparseDesign::to_dense() const {
  Eigen::MatrixXd dense = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(rows()), 1 + full_columns());
  for (std::size_t row = 0; row < rows(); ++row) {
    const auto r = static_cast<Eigen::Index>(row);
    dense(r, 0) = 1.0;
    for (int k = 0; k < lags_; ++k) {
      if (column(row, k) >= 0) dense(r, 1 + column(row, k)) = value(row, k);
    }
  }
  return dense;
}

std::string column_name(int column, int lags) {
  return std::string(outcome_name(static_cast<OutcomeType>(column / lags))) + "_" +
         std::to_string(column % lags + 1);
}

DesignBuilder::DesignBuilder(int lags)
    : design_(lags),
      history_type_(static_cast<std::size_t>(lags), -1),
      history_sign_(static_cast<std::size_t>(lags), 0),
      row_columns_(static_cast<std::size_t>(lags), -1),
      row_values_(static_cast<std::size_t>(lags), 0) {}

void DesignBuilder::add(const TrialRecord& trial) {
  const bool new_session = !any_trial_ || trial.session_id != session_id_;
  if (new_session) session_id_ = trial.session_id;
  any_trial_ = true;
  add(new_session, trial.choice, trial.free_choice,
      outcome_type(trial.controllable_delivered, trial.distractor_delivered));
}

void DesignBuilder::add(bool new_session, Choice choice, bool free_choice, OutcomeType outcome) {
  if (new_session) {
    std::fill(history_type_.begin(), history_type_.end(), -1);
  }
  const auto sign = choice_sign(choice);
  if (!sign) return;  // a miss leaves no trace, not even a gap in the history
  const int lags = design_.lags();
  if (free_choice) {
    for (int k = 0; k < lags; ++k) {
      const auto i = static_cast<std::size_t>(k);
      row_columns_[i] = history_type_[i] < 0 ? -1 : history_type_[i] * lags + k;
      row_values_[i] = history_sign_[i];
    }
    design_.add_row(*sign > 0, row_columns_, row_values_);
  }
  std::rotate(history_type_.rbegin(), history_type_.rbegin() + 1, history_type_.rend());
  std::rotate(history_sign_.rbegin(), history_sign_.rbegin() + 1, history_sign_.rend());
  history_type_[0] = static_cast<int>(outcome);
  history_sign_[0] = *sign;
}

SparseDesign DesignBuilder::take() {
  SparseDesign taken = std::move(design_);
  design_ = SparseDesign(taken.lags());
  std::fill(history_type_.begin(), history_type_.end(), -1);
  any_trial_ = false;
  return taken;
}

SparseDesign build_design(std::span<const TrialRecord> trials, int lags) {
  DesignBuilder builder(lags);
  for (const auto& trial : trials) builder.add(trial);
  return builder.take();
}

}  // namespace rig::analysis
