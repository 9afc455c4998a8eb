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
  // Row `row`'s i-th non-zero (0 <= i < lags()), in ascending column order: its full column, or -1 past the
  // row's last non-zero (padding lags come last).
  int column(std::size_t row, int i) const { return pattern_column(row_pattern_[row], i); }
  // The value (+1 or -1) of that entry; meaningless when column() is -1.
  int value(std::size_t row, int i) const { return pattern_value(row_pattern_[row], i); }
  // How many rows have a non-zero in each full column (index = column). A column with none is left out of
  // the fit. O(patterns x lags); thread-safe against other readers.
  std::vector<std::size_t> nonzeros() const;

  // Makes room for `rows` rows in all (a batch build knows its size); on a design without rows and with few
  // lags (9^L <= 59,049 and at most 2 rows per key), keys are then found in a table of all of them instead of
  // a hash. Not thread-safe.
  void reserve(std::size_t rows);

  // Appends a row. `columns` and `values` have lags() entries each (column -1 for padding; slot i holds a
  // column of lag i + 1 with value +1 or -1). Not thread-safe against concurrent readers; throws
  // std::invalid_argument on a size mismatch or an entry that breaks the layout.
  void add_row(bool chose_right, std::span<const int> columns, std::span<const int> values);

  // A lag slot's code: 0 for padding, else 1 + 2 * type + (value > 0). With the lag it names the column.
  static std::uint8_t lag_code(OutcomeType type, int value) {
    return static_cast<std::uint8_t>(1 + 2 * static_cast<int>(type) + (value > 0 ? 1 : 0));
  }
  // Up to kMaxKeyLags lags, a whole row's codes fit a key: lag k's code in bits [4(k-1), 4k).
  static constexpr int kMaxKeyLags = 16;
  // Appends a row given its key (only while lags() <= kMaxKeyLags): the builders' hot path, one lookup.
  // Not thread-safe against concurrent readers; throws std::logic_error when lags() > kMaxKeyLags.
  void add_keyed_row(bool chose_right, std::uint64_t key);
  // Appends a row given its lags() codes (lag 1 first), for any number of lags. Not thread-safe.
  void add_coded_row(bool chose_right, std::span<const std::uint8_t> codes);

  // The dense matrix [intercept, full columns...] (rows x (1 + 4L)), for tests and reference comparisons.
  Eigen::MatrixXd to_dense() const;

  // Distinct rows ("patterns") with how many times each was followed by a right and a left choice. The fit
  // sums over patterns, not rows: with L <= 16 many rows repeat, so a Newton step costs O(patterns), and
  // appending a row keeps the tally up to date with one lookup. With L > 16 every row is its own pattern.
  std::size_t patterns() const { return pattern_rights_.size(); }
  std::uint32_t pattern_rights(std::size_t pattern) const { return pattern_rights_[pattern]; }
  std::uint32_t pattern_lefts(std::size_t pattern) const { return pattern_lefts_[pattern]; }
  // A pattern's i-th non-zero as for column() and value(): ascending columns, then -1 for padding, so a
  // fit reads each pattern's entries in order and fills only one triangle of X'WX.
  int pattern_column(std::size_t pattern, int i) const { return pattern_column_[pattern * lags_ + i]; }
  int pattern_value(std::size_t pattern, int i) const { return pattern_value_[pattern * lags_ + i]; }

 private:
  // The pattern of `key`, adding a new one when absent (open addressing, linear probing: this is the
  // hot path of building a 100,000-trial design and of every CRT surrogate).
  std::uint32_t find_or_add_pattern(std::uint64_t key, const std::uint8_t* codes);
  // Appends the pattern of `key`, from `codes` when given, else decoded from the key; returns its index.
  std::uint32_t new_pattern(std::uint64_t key, const std::uint8_t* codes);
  // Appends a pattern with no rows yet from its lags() codes; returns its index.
  std::uint32_t add_pattern(const std::uint8_t* codes);
  void count_row(bool chose_right, std::uint32_t pattern);

  int lags_;
  std::vector<std::uint8_t> chose_right_;
  std::vector<std::uint32_t> row_pattern_;
  std::vector<std::uint64_t> slot_key_;      // key + 1; 0 marks an empty slot
  std::vector<std::uint32_t> slot_pattern_;
  // When a big design is announced (reserve) and lags are few, pattern + 1 (0: none yet) for each of the 9^L
  // keys, indexed by the key's codes in base 9: no probe that misses the cache, no key to compare.
  std::vector<std::uint32_t> direct_pattern_;
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

  // Makes room for `trials` more trials. Not thread-safe.
  void reserve(std::size_t trials) { design_.reserve(design_.rows() + trials); }

 private:
  SparseDesign design_;
  std::string session_id_;
  bool any_trial_ = false;
  // The codes (SparseDesign::lag_code) of the session's last L non-miss trials: up to kMaxKeyLags lags as a
  // key that shifts in each trial's code, beyond that as a list, most recent first.
  std::uint64_t history_key_ = 0;
  std::uint64_t key_mask_ = 0;
  std::vector<std::uint8_t> history_codes_;
};

// The design of `trials` in order (see DesignBuilder). Thread-safe (pure); throws std::invalid_argument on bad lags.
SparseDesign build_design(std::span<const TrialRecord> trials, int lags);

}  // namespace rig::analysis
