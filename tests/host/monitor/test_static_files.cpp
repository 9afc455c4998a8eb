// The dashboard's files are served from one directory and nothing outside it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "host/monitor/static_files.hpp"

using rig::monitor::percent_decode;
using rig::monitor::resolve_static_path;

namespace {

class StaticFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = std::filesystem::temp_directory_path() /
            ("rig-static-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(base_);
    root_ = base_ / "web";
    std::filesystem::create_directories(root_ / "lib");
    std::ofstream(root_ / "index.html") << "<html>";
    std::ofstream(root_ / "lib" / "plot.js") << "//";
    std::ofstream(base_ / "secret.txt") << "secret";
    std::filesystem::create_symlink(base_ / "secret.txt", root_ / "leak.txt");
  }
  void TearDown() override { std::filesystem::remove_all(base_); }

  std::filesystem::path base_, root_;
};

}  // namespace

TEST_F(StaticFiles, RootAndDirectoriesMeanIndexHtml) {
  EXPECT_EQ(resolve_static_path(root_, "/"), std::filesystem::canonical(root_ / "index.html"));
  EXPECT_EQ(resolve_static_path(root_, "/index.html?v=2"), std::filesystem::canonical(root_ / "index.html"));
  EXPECT_EQ(resolve_static_path(root_, "/lib/plot.js"), std::filesystem::canonical(root_ / "lib" / "plot.js"));
  EXPECT_EQ(resolve_static_path(root_, "/lib/%70lot.js"), std::filesystem::canonical(root_ / "lib" / "plot.js"));
}

TEST_F(StaticFiles, RefusesEveryWayOutOfTheDirectory) {
  for (const char* target : {"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/..%2fsecret.txt",
                             "/..%2Fsecret.txt", "/lib/../../secret.txt", "/lib/%2e%2e/%2e%2e/secret.txt",
                             "/.%2e/secret.txt", "/..\\secret.txt", "/..%5csecret.txt", "//etc/passwd",
                             "/etc/passwd", "http://localhost/../secret.txt", "secret.txt", "/leak.txt",
                             "/./index.html", "/index.html%00.js", "/%zz", "/%2", ""}) {
    EXPECT_FALSE(resolve_static_path(root_, target).has_value()) << target;
  }
}

TEST_F(StaticFiles, MissingFilesAndDirectoriesAreNotFound) {
  EXPECT_FALSE(resolve_static_path(root_, "/nope.js").has_value());
  EXPECT_FALSE(resolve_static_path(root_, "/lib").has_value());
  EXPECT_FALSE(resolve_static_path(root_ / "missing", "/").has_value());
}

TEST(PercentDecode, DecodesEscapesAndRejectsMalformedOnes) {
  EXPECT_EQ(percent_decode("/a%20b%2F"), "/a b/");
  EXPECT_FALSE(percent_decode("%").has_value());
  EXPECT_FALSE(percent_decode("%4").has_value());
  EXPECT_FALSE(percent_decode("%g0").has_value());
  EXPECT_FALSE(percent_decode("a%00b").has_value());
}

TEST(ContentType, FollowsTheExtension) {
  EXPECT_EQ(rig::monitor::content_type_for("a/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(rig::monitor::content_type_for("app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(rig::monitor::content_type_for("uPlot.min.css"), "text/css; charset=utf-8");
  EXPECT_EQ(rig::monitor::content_type_for("blob"), "application/octet-stream");
}
