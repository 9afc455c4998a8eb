#include "host/analysis/trial_csv.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "support/simulated_task.hpp"

namespace rig::analysis {
namespace {

TEST(TrialCsv, ReadsTheDocumentedColumnsInAnyOrder) {
  const auto trials = parse_trials_csv(
      "trial,distractor,controllable,choice,session,free,p_distractor,p_controllable_right,p_controllable_left\n"
      "1,1,0,R,s1,1,0.5,0.8,0.2\n"
      "2,0,0,miss,s1,0,0.5,0.8,0.2\r\n"
      "\n"
      "3,0,1,l,s2,1,0.5,,0.2\n");
  ASSERT_EQ(trials.size(), 3u);
  EXPECT_EQ(trials[0].session_id, "s1");
  EXPECT_EQ(trials[0].choice, Choice::kRight);
  EXPECT_TRUE(trials[0].distractor_delivered);
  EXPECT_FALSE(trials[0].controllable_delivered);
  EXPECT_EQ(trials[0].p_controllable_left, 0.2);
  EXPECT_EQ(trials[0].p_controllable_right, 0.8);
  EXPECT_EQ(trials[0].p_distractor, 0.5);
  EXPECT_EQ(trials[1].choice, Choice::kMiss);
  EXPECT_FALSE(trials[1].free_choice);
  EXPECT_EQ(trials[2].choice, Choice::kLeft);
  EXPECT_TRUE(std::isnan(trials[2].p_controllable_right));
}

TEST(TrialCsv, OptionalColumnsHaveDefaults) {
  const auto trials = parse_trials_csv("choice,controllable,distractor\nR,1,0\n");
  ASSERT_EQ(trials.size(), 1u);
  EXPECT_TRUE(trials[0].free_choice);
  EXPECT_EQ(trials[0].session_id, "");
  EXPECT_TRUE(std::isnan(trials[0].p_distractor));
}

TEST(TrialCsv, ErrorsNameTheLineAndColumn) {
  auto message = [](std::string_view text) {
    try {
      parse_trials_csv(text);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("choice,controllable\nR,1\n"), "line 1: missing column 'distractor' (or 'distractor_delivered')");
  EXPECT_EQ(message("choice,controllable,distractor\nR,1,0\nX,1,0\n"),
            "line 3, column choice: expected L, R, miss or nothing, got 'X'");
  EXPECT_EQ(message("choice,controllable,controllable_delivered,distractor\nR,1,1,0\n"),
            "line 1, column controllable_delivered: column appears twice (or under both its names)");
  EXPECT_EQ(message("choice,controllable,distractor\nR,2,0\n"), "line 2, column controllable: expected 0 or 1, got '2'");
  EXPECT_EQ(message("choice,controllable,distractor\nR,1\n"), "line 2: expected 3 fields, got 2");
  EXPECT_EQ(message("choice,controllable,distractor,p_distractor\nR,1,0,1.5\n"),
            "line 2, column p_distractor: expected a probability in [0, 1], got '1.5'");
  EXPECT_EQ(message(""), "the CSV is empty (no header line)");
}

TEST(TrialCsv, ReadsTheTrialExportAsItIs) {
  // The columns of `rig export --format csv` that the fit reads, among others it ignores; a NULL choice is a miss.
  const auto trials = parse_trials_csv(
      "session_id,trial_number,subject_id,p_controllable_left,p_controllable_right,p_distractor,free_choice,outcome,"
      "choice,controllable_delivered,distractor_delivered\n"
      "7,1,M1,0.8,0.2,0.4,1,left,L,1,0\n"
      "7,2,M1,0.8,0.2,0.4,0,miss,,0,0\n"
      "8,1,M1,0.2,0.8,0.4,1,right,R,0,1\n");
  ASSERT_EQ(trials.size(), 3u);
  EXPECT_EQ(trials[0].session_id, "7");
  EXPECT_EQ(trials[0].choice, Choice::kLeft);
  EXPECT_TRUE(trials[0].controllable_delivered);
  EXPECT_EQ(trials[0].p_controllable_left, 0.8);
  EXPECT_EQ(trials[1].choice, Choice::kMiss);
  EXPECT_FALSE(trials[1].free_choice);
  EXPECT_EQ(trials[2].session_id, "8");
  EXPECT_TRUE(trials[2].distractor_delivered);
  EXPECT_EQ(trials[2].p_distractor, 0.4);
}

TEST(TrialCsv, WritingAndReadingBackGivesTheSameTrials) {
  auto trials = test_support::simulate_agent(agent_preset(AgentPreset::kMixed), 2, 100, 3);
  trials[5].p_distractor = 0.1 + 0.2;  // not a short decimal
  trials[6].p_controllable_left = kNotLogged;
  const auto back = parse_trials_csv(trials_to_csv(trials));
  ASSERT_EQ(back.size(), trials.size());
  for (std::size_t i = 0; i < trials.size(); ++i) {
    EXPECT_EQ(back[i].session_id, trials[i].session_id);
    EXPECT_EQ(back[i].choice, trials[i].choice);
    EXPECT_EQ(back[i].free_choice, trials[i].free_choice);
    EXPECT_EQ(back[i].controllable_delivered, trials[i].controllable_delivered);
    EXPECT_EQ(back[i].distractor_delivered, trials[i].distractor_delivered);
    EXPECT_EQ(back[i].p_distractor, trials[i].p_distractor);
    EXPECT_EQ(back[i].p_controllable_right, trials[i].p_controllable_right);
  }
  EXPECT_TRUE(std::isnan(back[6].p_controllable_left));
}

}  // namespace
}  // namespace rig::analysis
