#include "host/analysis/design_matrix.hpp"

#include <algorithm>
#include <stdexcept>

namespace rig::analysis {

SparseDesign::SparseDesign(int lags) : lags_(lags) {
  if (lags < 1 || lags > kMaxLags) {
    throw std::invalid_argument("lags must be between 1 and " + std::to_string(kMaxLags) + ", got " +
                                std::to_string(lags));
  }
}

void SparseDesign::reserve(std::size_t rows) {
  chose_right_.reserve(rows);
  row_pattern_.reserve(rows);
  // Up to kMaxKeyLags lags rows repeat: 9 codes per lag bound the distinct ones. Pages of the reserve that
  // are never written are never mapped, so a generous reserve costs nothing and saves the copies of growth.
  std::size_t patterns = rows;
  if (lags_ <= kMaxKeyLags) {
    std::size_t bound = 1;
    for (int i = 0; i < lags_ && bound < rows; ++i) bound *= 9;
    patterns = std::min(patterns, bound);
  }
  // A table of every possible key pays off once rows are at least half as many as its entries; at most 9^5 of
  // them (236 kB). Only for a design that has no rows yet (nothing to move over).
  constexpr std::size_t kMaxDirectKeys = 59049;
  std::size_t keys = 1;
  for (int i = 0; i < lags_ && keys <= kMaxDirectKeys; ++i) keys *= 9;
  if (chose_right_.empty() && keys <= kMaxDirectKeys && 2 * rows >= keys) direct_pattern_.assign(keys, 0);
  pattern_rights_.reserve(patterns);
  pattern_lefts_.reserve(patterns);
  pattern_column_.reserve(patterns * static_cast<std::size_t>(lags_));
  pattern_value_.reserve(patterns * static_cast<std::size_t>(lags_));
}

void SparseDesign::add_row(bool chose_right, std::span<const int> columns, std::span<const int> values) {
  if (columns.size() != static_cast<std::size_t>(lags_) || values.size() != columns.size()) {
    throw std::invalid_argument("a design row needs one column and one value per lag");
  }
  std::vector<std::uint8_t> codes(columns.size(), 0);
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] < 0) continue;
    if (columns[i] >= full_columns() || columns[i] % lags_ != static_cast<int>(i) || (values[i] != 1 && values[i] != -1)) {
      throw std::invalid_argument("design row: lag slot " + std::to_string(i) + " holds column " +
                                  std::to_string(columns[i]) + " with value " + std::to_string(values[i]) +
                                  " (needs a column of that lag and a value of +1 or -1)");
    }
    codes[i] = lag_code(static_cast<OutcomeType>(columns[i] / lags_), values[i]);
  }
  add_coded_row(chose_right, codes);
}

void SparseDesign::add_coded_row(bool chose_right, std::span<const std::uint8_t> codes) {
  if (lags_ > kMaxKeyLags) {
    count_row(chose_right, add_pattern(codes.data()));
    return;
  }
  std::uint64_t key = 0;
  for (int i = lags_ - 1; i >= 0; --i) key = key << 4 | codes[static_cast<std::size_t>(i)];
  count_row(chose_right, find_or_add_pattern(key, codes.data()));
}

void SparseDesign::add_keyed_row(bool chose_right, std::uint64_t key) {
  if (lags_ > kMaxKeyLags) throw std::logic_error("a design with more than 16 lags has no row keys");
  count_row(chose_right, find_or_add_pattern(key, nullptr));
}

void SparseDesign::count_row(bool chose_right, std::uint32_t pattern) {
  chose_right_.push_back(chose_right ? 1 : 0);
  row_pattern_.push_back(pattern);
  ++(chose_right ? pattern_rights_ : pattern_lefts_)[pattern];
}

std::vector<std::size_t> SparseDesign::nonzeros() const {
  std::vector<std::size_t> counts(static_cast<std::size_t>(full_columns()), 0);
  for (std::size_t u = 0; u < patterns(); ++u) {
    for (int i = 0; i < lags_; ++i) {
      const int c = pattern_column(u, i);
      if (c >= 0) counts[static_cast<std::size_t>(c)] += pattern_rights_[u] + pattern_lefts_[u];
    }
  }
  return counts;
}

std::uint32_t SparseDesign::add_pattern(const std::uint8_t* codes) {
  const std::size_t begin = pattern_column_.size();
  pattern_column_.resize(begin + static_cast<std::size_t>(lags_), -1);
  pattern_value_.resize(begin + static_cast<std::size_t>(lags_), 0);
  std::int16_t* column = pattern_column_.data() + begin;
  std::int8_t* value = pattern_value_.data() + begin;
  int n = 0;
  for (int k = 0; k < lags_; ++k) {
    if (codes[k] == 0) continue;
    const auto c = static_cast<std::int16_t>((codes[k] - 1) / 2 * lags_ + k);
    const auto v = static_cast<std::int8_t>((codes[k] - 1) % 2 == 1 ? 1 : -1);
    int at = n++;  // insertion keeps the columns ascending
    for (; at > 0 && column[at - 1] > c; --at) {
      column[at] = column[at - 1];
      value[at] = value[at - 1];
    }
    column[at] = c;
    value[at] = v;
  }
  pattern_rights_.push_back(0);
  pattern_lefts_.push_back(0);
  return static_cast<std::uint32_t>(pattern_rights_.size() - 1);
}

std::uint32_t SparseDesign::find_or_add_pattern(std::uint64_t key, const std::uint8_t* codes) {
  const auto next = static_cast<std::uint32_t>(pattern_rights_.size());
  if (!direct_pattern_.empty()) {
    std::size_t index = 0;
    for (int i = lags_ - 1; i >= 0; --i) index = index * 9 + (key >> (4 * i) & 0xF);
    std::uint32_t& held = direct_pattern_[index];
    if (held != 0) return held - 1;
    held = next + 1;
    return new_pattern(key, codes);
  }
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
      return new_pattern(key, codes);
    }
  }
}

std::uint32_t SparseDesign::new_pattern(std::uint64_t key, const std::uint8_t* codes) {
  if (codes != nullptr) return add_pattern(codes);
  std::uint8_t decoded[kMaxKeyLags];
  for (int i = 0; i < lags_; ++i) decoded[i] = static_cast<std::uint8_t>(key >> (4 * i) & 0xF);
  return add_pattern(decoded);
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
      key_mask_(lags < SparseDesign::kMaxKeyLags ? (std::uint64_t{1} << (4 * lags)) - 1 : ~std::uint64_t{0}),
      history_codes_(lags > SparseDesign::kMaxKeyLags ? static_cast<std::size_t>(lags) : 0, 0) {}

namespace {

// Equality of two session ids, from the back (ids that differ usually differ in their last characters) and
// inline: a call to memcmp per trial was a tenth of building a 100,000-trial design.
bool same_id(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = a.size(); i-- > 0;) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

}  // namespace

void DesignBuilder::add(const TrialRecord& trial) {
  const bool new_session = !any_trial_ || !same_id(trial.session_id, session_id_);
  if (new_session) session_id_ = trial.session_id;
  any_trial_ = true;
  add(new_session, trial.choice, trial.free_choice,
      outcome_type(trial.controllable_delivered, trial.distractor_delivered));
}

void DesignBuilder::add(bool new_session, Choice choice, bool free_choice, OutcomeType outcome) {
  if (new_session) {
    history_key_ = 0;
    std::fill(history_codes_.begin(), history_codes_.end(), 0);
  }
  const auto sign = choice_sign(choice);
  if (!sign) return;  // a miss leaves no trace, not even a gap in the history
  const std::uint8_t code = SparseDesign::lag_code(outcome, *sign);
  if (history_codes_.empty()) {
    if (free_choice) design_.add_keyed_row(*sign > 0, history_key_);
    history_key_ = (history_key_ << 4 | code) & key_mask_;
    return;
  }
  if (free_choice) design_.add_coded_row(*sign > 0, history_codes_);
  std::rotate(history_codes_.rbegin(), history_codes_.rbegin() + 1, history_codes_.rend());
  history_codes_[0] = code;
}

SparseDesign DesignBuilder::take() {
  SparseDesign taken = std::move(design_);
  design_ = SparseDesign(taken.lags());
  history_key_ = 0;
  std::fill(history_codes_.begin(), history_codes_.end(), 0);
  any_trial_ = false;
  return taken;
}

SparseDesign build_design(std::span<const TrialRecord> trials, int lags) {
  DesignBuilder builder(lags);
  builder.reserve(trials.size());
  for (const auto& trial : trials) builder.add(trial);
  return builder.take();
}

}  // namespace rig::analysis
