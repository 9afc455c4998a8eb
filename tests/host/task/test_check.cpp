#include <gtest/gtest.h>

#include "host/config/check.hpp"
#include "task_test_support.hpp"

namespace rig::task {
using config::FileKind;
using config::check_files;
using config::classify_file;
namespace {

using testing::source_path;

TEST(Check, ClassifiesFilesByTheirTopLevelFields) {
  EXPECT_EQ(classify_file("subjects: []\n"), FileKind::kSubjects);
  EXPECT_EQ(classify_file("rig: {id: a}\nvalves: {}\n"), FileKind::kRigConfig);
  EXPECT_EQ(classify_file("name: p\nschedule: {}\n"), FileKind::kProtocol);
  EXPECT_EQ(classify_file("name: [unclosed\n"), FileKind::kProtocol);
}

TEST(Check, ShippedProtocolsAndConfigsAreValidTogether) {
  const auto report = check_files({source_path("protocols/distractor.yaml"), source_path("protocols/controllable-only.yaml"),
                                   source_path("protocols/habituation.yaml"), source_path("config/rig.sim.yaml"),
                                   source_path("config/subjects.yaml")},
                                  std::nullopt);
  for (const auto& d : report.diagnostics) ADD_FAILURE() << format_diagnostic(d);
  ASSERT_EQ(report.files.size(), 5u);
  EXPECT_EQ(report.files[3].kind, FileKind::kRigConfig);
  EXPECT_EQ(report.files[4].kind, FileKind::kSubjects);
  for (const auto& file : report.files) EXPECT_TRUE(file.ok) << file.path;
}

TEST(Check, ProtocolIsCheckedAgainstARigConfigListedAlongside) {
  const auto protocol = testing::test_path("broken/threshold_too_fine_for_encoder.yaml");
  EXPECT_TRUE(check_files({protocol}, std::nullopt).ok());  // no rig: ticks cannot be judged
  // rig.test.yaml has a 1024-tick wheel: 0.1 degree is less than one tick.
  const auto report = check_files({protocol, testing::test_path("rig.test.yaml")}, std::nullopt);
  ASSERT_EQ(report.diagnostics.size(), 1u);
  EXPECT_FALSE(report.files[0].ok);
  EXPECT_TRUE(report.files[1].ok);
}

TEST(Check, SubjectStageMustExist) {
  const auto report = check_files({testing::test_path("broken/subjects_stage_missing.yaml")}, std::nullopt);
  ASSERT_EQ(report.diagnostics.size(), 1u);
  EXPECT_NE(report.diagnostics[0].message.find("subjects[0].stage: no such file"), std::string::npos);
}

}  // namespace
}  // namespace rig::task
