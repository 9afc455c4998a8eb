// The trial-history design matrix of DESIGN.md "The analysis", stored row-sparse.
//
// Column layout ("full" columns, intercept apart): column = type * L + (k - 1) for outcome type `type`
// (OutcomeType order: none, controllable, distractor, both) and lag k = 1..L. Entry x_{T,k}(t) is
// s(t-k) * [outcome(t-k) = T] with s = +1 right, -1 left. Each row therefore has at most one non-zero
// per lag: this class stores, per row and lag, the column (or -1 when the history is zero-padded) and
// the sign.
#pragma once

#include <Eigen/Dense>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "host/analysis/trial_record.hpp"

namespace rig::analysis {

inline constexpr int kDefaultLags = 5;
inline constexpr int kMaxLags = 50;

class SparseDesign {
 public:
  // An empty design with `lags` lags. Throws std::invalid_argument unless 1 <= lags <= kMaxLags.
  explicit SparseDesign(int lags);

  int lags() const { return lags_; }
  int full_columns() const { return kOutcomeTypeCount * lags_; }
  std::size_t rows() const { return chose_right_.size(); }

  // Row `row`'s target: 1 when the mouse chose right.
  bool chose_right(std::size_t row) const { return chose_right_[row] != 0; }
  // Full column of lag slot `lag_index` (0-based, = k - 1) in `row`, or -1 when that lag is padding.
  int column(std::size_t row, int lag_index) const { return column_[row * lags_ + lag_index]; }
  // The value (+1 or -1) of that entry; meaningless when column() is -1.
  int value(std::size_t row, int lag_index) const { return value_[row * lags_ + lag_index]; }
  // How many rows have a non-zero in full column `column`. A column with none is left out of the fit.
  std::size_t nonzeros(int column) const { return nonzeros_[column]; }

  // Appends a row. `columns` and `values` have lags() entries each (column -1 for padding).
  // Not thread-safe against concurrent readers; throws std::invalid_argument on a size mismatch.
  void add_row(bool chose_right, std::span<const int> columns, std::span<const int> values);

  // The dense matrix [intercept, full columns...] (rows x (1 + 4L)), for tests and reference comparisons.
  Eigen::MatrixXd to_dense() const;

  // Distinct rows ("patterns") with how many times each was followed by a right and a left choice. The fit
  // sums over patterns, not rows: with L <= 16 many rows repeat, so a Newton step costs O(patterns), and
  // appending a row keeps the tally up to date in O(L). With L > 16 every row is its own pattern.
  std::size_t patterns() const { return pattern_rights_.size(); }
  std::uint32_t pattern_rights(std::size_t pattern) const { return pattern_rights_[pattern]; }
  std::uint32_t pattern_lefts(std::size_t pattern) const { return pattern_lefts_[pattern]; }
  int pattern_column(std::size_t pattern, int lag_index) const { return pattern_column_[pattern * lags_ + lag_index]; }
  int pattern_value(std::size_t pattern, int lag_index) const { return pattern_value_[pattern * lags_ + lag_index]; }

 private:
  static constexpr int kMaxPatternLags = 16;  // 4 bits per lag in a 64-bit key

  // The pattern of `key`, adding a new one when absent (open addressing, linear probing: add_row is the
  // hot path of building a 100,000-trial design and of every CRT surrogate).
  std::uint32_t find_or_add_pattern(std::uint64_t key);

  int lags_;
  std::vector<std::uint8_t> chose_right_;
  std::vector<std::int16_t> column_;
  std::vector<std::int8_t> value_;
  std::vector<std::size_t> nonzeros_;
  std::vector<std::uint64_t> slot_key_;      // key + 1; 0 marks an empty slot
  std::vector<std::uint32_t> slot_pattern_;
  std::vector<std::uint32_t> pattern_rights_;
  std::vector<std::uint32_t> pattern_lefts_;
  std::vector<std::int16_t> pattern_column_;
  std::vector<std::int8_t> pattern_value_;
};

// "none_1" ... "both_L": the name of full column `column` of a design with `lags` lags. Thread-safe.
std::string column_name(int column, int lags);

// Builds the design one trial at a time (the online fitter appends as trials arrive). Misses are dropped
// as if they never happened; instructed trials enter the history but add no row; the history restarts
// (zero padding) at each new session. Not thread-safe; no errors beyond SparseDesign's.
class DesignBuilder {
 public:
  explicit DesignBuilder(int lags);

  // Adds a trial; a change of session_id from the previous record starts a new session.
  void add(const TrialRecord& trial);
  // The same from parts: `new_session` restarts the history before this trial.
  void add(bool new_session, Choice choice, bool free_choice, OutcomeType outcome);

  const SparseDesign& design() const { return design_; }
  // Moves the design out; the builder is left empty (same lags, no history).
  SparseDesign take();

 private:
  SparseDesign design_;
  std::string session_id_;
  bool any_trial_ = false;
  // Outcome type (-1: padding) and choice sign of the last L non-miss trials of the session, most recent first.
  std::vector<int> history_type_;
  std::vector<int> history_sign_;
  std::vector<int> row_columns_;  // scratch for add_row
  std::vector<int> row_values_;
};

// The design of `trials` in order (see DesignBuilder). Thread-safe (pure); throws std::invalid_argument on bad lags.
SparseDesign build_design(std::span<const TrialRecord> trials, int lags);

}  // namespace rig::analysis
