#include "host/analysis/design_matrix.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace rig::analysis {
namespace {

TrialRecord trial(Choice choice, bool controllable, bool distractor, std::string session = "a", bool free = true) {
  TrialRecord t;
  t.session_id = std::move(session);
  t.choice = choice;
  t.free_choice = free;
  t.controllable_delivered = controllable;
  t.distractor_delivered = distractor;
  return t;
}

constexpr Choice L = Choice::kLeft;
constexpr Choice R = Choice::kRight;

// Dense column of type `type` at lag k (1-based) in a design with `lags` lags (column 0 is the intercept).
int col(OutcomeType type, int k, int lags) { return 1 + static_cast<int>(type) * lags + (k - 1); }

TEST(DesignMatrix, KnownAnswerOnAHandWrittenSequence) {
  // R+controllable, L+none, R+both, L+distractor, R+none with L = 2.
  const std::vector<TrialRecord> trials{trial(R, true, false), trial(L, false, false), trial(R, true, true),
                                        trial(L, false, true), trial(R, false, false)};
  const SparseDesign design = build_design(trials, 2);
  ASSERT_EQ(design.rows(), 5u);
  Eigen::MatrixXd expected = Eigen::MatrixXd::Zero(5, 9);
  expected.col(0).setOnes();
  using enum OutcomeType;
  // Row 2: lag 1 = trial 1 (R, controllable).
  expected(1, col(kControllable, 1, 2)) = +1;
  // Row 3: lag 1 = trial 2 (L, none), lag 2 = trial 1 (R, controllable).
  expected(2, col(kNone, 1, 2)) = -1;
  expected(2, col(kControllable, 2, 2)) = +1;
  // Row 4: lag 1 = trial 3 (R, both), lag 2 = trial 2 (L, none).
  expected(3, col(kBoth, 1, 2)) = +1;
  expected(3, col(kNone, 2, 2)) = -1;
  // Row 5: lag 1 = trial 4 (L, distractor), lag 2 = trial 3 (R, both).
  expected(4, col(kDistractor, 1, 2)) = -1;
  expected(4, col(kBoth, 2, 2)) = +1;
  EXPECT_EQ(design.to_dense(), expected);
  const std::vector<bool> targets{true, false, true, false, true};
  for (std::size_t r = 0; r < 5; ++r) EXPECT_EQ(design.chose_right(r), targets[r]) << "row " << r;
}

TEST(DesignMatrix, MissesAreRemovedAsIfTheyNeverHappened) {
  const std::vector<TrialRecord> without{trial(R, true, false), trial(L, false, true), trial(R, false, false)};
  const std::vector<TrialRecord> with{trial(Choice::kMiss, false, false), trial(R, true, false),
                                      trial(Choice::kMiss, false, false), trial(Choice::kMiss, false, false),
                                      trial(L, false, true), trial(R, false, false),
                                      trial(Choice::kMiss, false, false)};
  EXPECT_EQ(build_design(with, 3).to_dense(), build_design(without, 3).to_dense());
}

TEST(DesignMatrix, InstructedTrialsEnterTheHistoryButAreNotTargets) {
  const std::vector<TrialRecord> trials{trial(R, true, false), trial(L, false, false, "a", false),
                                        trial(R, false, false)};
  const SparseDesign design = build_design(trials, 2);
  ASSERT_EQ(design.rows(), 2u);  // trials 1 and 3
  const Eigen::MatrixXd x = design.to_dense();
  EXPECT_EQ(x(1, col(OutcomeType::kNone, 1, 2)), -1);          // the instructed left, none
  EXPECT_EQ(x(1, col(OutcomeType::kControllable, 2, 2)), +1);  // trial 1 behind it
}

TEST(DesignMatrix, HistoryRestartsAtSessionBoundaries) {
  const std::vector<TrialRecord> trials{trial(R, true, false, "a"), trial(R, true, false, "a"),
                                        trial(L, false, false, "b"), trial(R, false, false, "b")};
  const Eigen::MatrixXd x = build_design(trials, 2).to_dense();
  ASSERT_EQ(x.rows(), 4);
  EXPECT_EQ(x.row(2).tail(8).cwiseAbs().sum(), 0) << "the first trial of a session has no history";
  EXPECT_EQ(x.row(3).tail(8).cwiseAbs().sum(), 1) << "only the session's own trial is in the history";
  EXPECT_EQ(x(3, col(OutcomeType::kNone, 1, 2)), -1);
}

TEST(DesignMatrix, ASessionChangeOnAMissStillRestartsTheHistory) {
  const std::vector<TrialRecord> trials{trial(R, true, false, "a"), trial(Choice::kMiss, false, false, "b"),
                                        trial(R, false, false, "b")};
  const Eigen::MatrixXd x = build_design(trials, 2).to_dense();
  ASSERT_EQ(x.rows(), 2);
  EXPECT_EQ(x.row(1).tail(8).cwiseAbs().sum(), 0);
}

TEST(DesignMatrix, EachRowHasAtMostOneNonZeroPerLag) {
  const std::vector<TrialRecord> trials{trial(R, true, true), trial(L, true, false), trial(L, false, true),
                                        trial(R, false, false), trial(R, true, true), trial(L, false, false)};
  const SparseDesign design = build_design(trials, 3);
  const Eigen::MatrixXd x = design.to_dense();
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    for (int k = 1; k <= 3; ++k) {
      int nonzeros = 0;
      for (const OutcomeType type : kOutcomeTypes) nonzeros += x(r, col(type, k, 3)) != 0 ? 1 : 0;
      EXPECT_LE(nonzeros, 1);
    }
  }
}

TEST(DesignMatrix, CountsNonZerosPerColumnSoUnusedOutcomesCanBeLeftOut) {
  const std::vector<TrialRecord> trials{trial(R, true, false), trial(L, false, false), trial(R, true, false)};
  const SparseDesign design = build_design(trials, 1);
  const auto nonzeros = design.nonzeros();
  ASSERT_EQ(nonzeros.size(), 4u);
  EXPECT_EQ(nonzeros[0], 1u);  // none_1
  EXPECT_EQ(nonzeros[1], 1u);  // controllable_1
  EXPECT_EQ(nonzeros[2], 0u);  // distractor_1
  EXPECT_EQ(nonzeros[3], 0u);  // both_1
}

TEST(DesignMatrix, ColumnNamesFollowTheLayout) {
  EXPECT_EQ(column_name(0, 5), "none_1");
  EXPECT_EQ(column_name(6, 5), "controllable_2");
  EXPECT_EQ(column_name(14, 5), "distractor_5");
  EXPECT_EQ(column_name(15, 5), "both_1");
}

TEST(DesignMatrix, RejectsLagsOutOfRange) {
  EXPECT_THROW(SparseDesign(0), std::invalid_argument);
  EXPECT_THROW(SparseDesign(kMaxLags + 1), std::invalid_argument);
}

TEST(DesignMatrix, RejectsARowThatBreaksTheLayout) {
  SparseDesign design(2);
  // Column 5 is distractor_2: it belongs in lag slot 1, not 0.
  EXPECT_THROW(design.add_row(true, std::vector<int>{5, -1}, std::vector<int>{1, 0}), std::invalid_argument);
  EXPECT_THROW(design.add_row(true, std::vector<int>{-1, 5}, std::vector<int>{0, 2}), std::invalid_argument);
  EXPECT_THROW(design.add_row(true, std::vector<int>{-1, 9}, std::vector<int>{0, 1}), std::invalid_argument);
  EXPECT_EQ(design.rows(), 0u);
}

// The same random history with lags on either side of the 16-lag key: every row agrees with a dense build
// from the definition (lag k of row t is the k-th non-miss trial before t in its session).
TEST(DesignMatrix, KeyedAndListedHistoriesAgreeWithTheDefinition) {
  std::vector<TrialRecord> trials;
  std::uint32_t state = 12345;
  auto next = [&state] { return state = state * 1664525u + 1013904223u, state >> 24; };
  for (int i = 0; i < 400; ++i) {
    const auto r = next();
    const Choice choice = r % 7 == 0 ? Choice::kMiss : (r % 2 == 0 ? R : L);
    trials.push_back(trial(choice, next() % 2 == 0, next() % 3 == 0, i < 150 ? "a" : "b", next() % 5 != 0));
  }
  // 3 lags: a table of every key (rows are many); 5 and 16: hashed keys; 17 and 20: every row its own pattern.
  for (const int lags : {3, 5, 16, 17, 20}) {
    const SparseDesign design = build_design(trials, lags);
    std::vector<Eigen::RowVectorXd> expected;
    std::vector<std::pair<OutcomeType, int>> history;  // most recent first
    for (std::size_t i = 0; i < trials.size(); ++i) {
      if (i > 0 && trials[i].session_id != trials[i - 1].session_id) history.clear();
      const auto sign = choice_sign(trials[i].choice);
      if (!sign) continue;
      if (trials[i].free_choice) {
        Eigen::RowVectorXd row = Eigen::RowVectorXd::Zero(1 + 4 * lags);
        row[0] = 1;
        for (int k = 1; k <= lags && k <= static_cast<int>(history.size()); ++k) {
          row[col(history[static_cast<std::size_t>(k - 1)].first, k, lags)] = history[static_cast<std::size_t>(k - 1)].second;
        }
        expected.push_back(row);
      }
      history.insert(history.begin(), {outcome_type(trials[i].controllable_delivered, trials[i].distractor_delivered), *sign});
    }
    const Eigen::MatrixXd dense = design.to_dense();
    ASSERT_EQ(static_cast<std::size_t>(dense.rows()), expected.size()) << "lags " << lags;
    for (std::size_t r = 0; r < expected.size(); ++r) {
      ASSERT_EQ(dense.row(static_cast<Eigen::Index>(r)), expected[r]) << "lags " << lags << ", row " << r;
    }
    std::size_t counted = 0;
    for (std::size_t u = 0; u < design.patterns(); ++u) counted += design.pattern_rights(u) + design.pattern_lefts(u);
    EXPECT_EQ(counted, design.rows()) << "lags " << lags;
    if (lags == 3) {
      EXPECT_LT(design.patterns(), design.rows());  // 3 lags, 9 codes each: rows repeat
    }
  }
}

TEST(DesignMatrix, TheIncrementalBuilderMatchesTheBatchBuild) {
  const std::vector<TrialRecord> trials{trial(R, true, false, "a"), trial(L, false, true, "a"),
                                        trial(R, false, false, "b"), trial(L, true, true, "b", false),
                                        trial(R, true, false, "b")};
  DesignBuilder builder(2);
  for (const auto& t : trials) builder.add(t);
  EXPECT_EQ(builder.design().to_dense(), build_design(trials, 2).to_dense());
}

}  // namespace
}  // namespace rig::analysis
