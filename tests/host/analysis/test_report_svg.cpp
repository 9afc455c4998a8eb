#include "host/analysis/report_svg.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "support/simulated_task.hpp"

namespace rig::analysis {
namespace {

std::size_t count(const std::string& text, std::string_view needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

std::vector<SubjectFit> two_subjects() {
  std::vector<SubjectFit> subjects;
  subjects.push_back({"naive <A&B>", fit_history(test_support::simulate_agent(agent_preset(AgentPreset::kNaive), 1, 800, 1), FitOptions{})});
  auto savvy = test_support::simulate_agent(agent_preset(AgentPreset::kSavvy), 1, 800, 2);
  for (auto& t : savvy) t.distractor_delivered = false;  // distractor and both weights missing
  subjects.push_back({"savvy", fit_history(savvy, FitOptions{})});
  return subjects;
}

TEST(ReportSvg, DrawsOneLinePerOutcomeTypeAndSubjectAndOnePointPerSubject) {
  const std::string svg = render_report_svg(two_subjects(), "Figure 2");
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  // Subject 1: four polylines; subject 2: two (its distractor and both weights do not exist).
  EXPECT_EQ(count(svg, "<polyline"), 6u);
  EXPECT_EQ(count(svg, "r=\"4\""), 2u);  // scatter points
  EXPECT_EQ(count(svg, "fill=\"#fff\" stroke=\"#000\""), 1u) << "no distractor index: drawn hollow";
  EXPECT_NE(svg.find("naive &lt;A&amp;B&gt;"), std::string::npos) << "names are escaped";
  EXPECT_NE(svg.find("controllable index"), std::string::npos);
  for (const char* type : {"none", "controllable", "distractor", "both"}) EXPECT_NE(svg.find(type), std::string::npos);
}

TEST(ReportSvg, AnUnreadableFitShowsItsReasonAndTheScatterShowsTheGroupMean) {
  std::vector<SubjectFit> subjects;
  subjects.push_back({"naive", fit_history(test_support::simulate_agent(agent_preset(AgentPreset::kNaive), 1, 800, 1), FitOptions{})});
  subjects.push_back({"mixed", fit_history(test_support::simulate_agent(agent_preset(AgentPreset::kMixed), 1, 800, 3), FitOptions{})});
  subjects.push_back({"new", fit_history(test_support::simulate_agent(agent_preset(AgentPreset::kMixed), 1, 40, 4), FitOptions{})});
  const std::string svg = render_report_svg(subjects, "Figure 2");
  EXPECT_NE(svg.find("not estimable yet: "), std::string::npos);
  EXPECT_EQ(count(svg, "<polyline"), 8u) << "the unreadable fit draws no weights";
  EXPECT_EQ(count(svg, "r=\"4\""), 2u) << "nor a point in the scatter";
  EXPECT_NE(svg.find("1 not shown"), std::string::npos);
  EXPECT_EQ(count(svg, "<polygon"), 1u) << "the group mean";
  EXPECT_NE(svg.find("red: mean of 2"), std::string::npos);
}

TEST(ReportSvg, NeedsAtLeastOneSubject) {
  EXPECT_THROW(render_report_svg({}, "empty"), std::invalid_argument);
}

}  // namespace
}  // namespace rig::analysis
