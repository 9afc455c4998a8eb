// rigd end to end: the real daemon on a free port with a simulated rig, driven by the real `rig start|stop|status`
// clients and by raw HTTP; checks the API's answers, the sessions in the store and a clean SIGTERM.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "rigd_fixture.hpp"
#include "host/store/store.hpp"
#include "support/run_command.hpp"
#include "program_test_support.hpp"

using namespace rig_test;

TEST_F(Rigd, StartsASessionOnRequestShowsItInStatusAndStoresIt) {
  EXPECT_EQ(status()["state"], "idle");
  const Command started = rig_control("start --subject SAVVY --max-trials 20");
  ASSERT_EQ(started.exit_code, 0) << started.output;

  const Command shown = rig("status");
  EXPECT_EQ(shown.exit_code, 0) << shown.output;
  EXPECT_NE(shown.output.find("SAVVY"), std::string::npos) << shown.output;

  const auto s = wait_status(idle_after_a_session);
  EXPECT_EQ(s["last_report"]["end_reason"], "max_trials reached") << s["last_report"].dump();
  EXPECT_EQ(s["last_report"]["trials"], 20);

  const auto sessions = stored_sessions("SAVVY");
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].trial_count, 20);
  EXPECT_EQ(sessions[0].end_reason, "max_trials reached");

  // Between sessions rigd stays up, and the next session starts as the first did.
  EXPECT_NE(rig("status").output.find("idle"), std::string::npos);
  ASSERT_EQ(rig_control("start --subject NAIVE --max-trials 5").exit_code, 0);
  wait_status([](const nlohmann::json& j) { return j["state"] == "idle" && j["run"] == 2; });
  EXPECT_EQ(stored_sessions("NAIVE").size(), 1u);
  EXPECT_EQ(terminate_rigd(), 0);
}

TEST_F(Rigd, ControlWithoutTheTokenIsRefusedAndReadingIsNot) {
  EXPECT_EQ(http_request(port_, http::verb::post, "/api/sessions", R"({"subject":"SAVVY"})").status, 401u);
  EXPECT_EQ(http_request(port_, http::verb::post, "/api/sessions/current/stop").status, 401u);
  EXPECT_EQ(http_request(port_, http::verb::post, "/api/sessions", R"({"subject":"SAVVY"})",
                         {{"Authorization", "Bearer wrong"}})
                .status,
            403u);
  EXPECT_EQ(http_get(port_, "/api/status").status, 200u);
  const Command refused = rig("start --subject SAVVY");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.output.find("401"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("--token-file"), std::string::npos) << refused.output;
  EXPECT_FALSE(std::filesystem::exists(db_)) << "no session was begun, so no database was even opened";
}

TEST_F(Rigd, BadInputIsA400NamingTheProblem) {
  const auto r = http_request(port_, http::verb::post, "/api/sessions", R"({"subject":"NOBODY"})",
                              {{"Authorization", "Bearer s3cret-token"}});
  EXPECT_EQ(r.status, 400u);
  EXPECT_NE(r.body.find("NOBODY"), std::string::npos) << r.body;
  const Command c = rig_control("start --subject NOBODY");
  EXPECT_EQ(c.exit_code, 2);
  EXPECT_NE(c.output.find("no subject 'NOBODY'"), std::string::npos) << c.output;
  EXPECT_EQ(status()["state"], "idle");
}

TEST_F(Rigd, SecondStartWhileOneRunsIsA409AndStopEndsTheFirstCleanly) {
  ASSERT_EQ(rig_control("start --subject SAVVY --max-trials 100000").exit_code, 0);
  const Command second = rig_control("start --subject NAIVE");
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.output.find("409"), std::string::npos) << second.output;

  wait_status([](const nlohmann::json& s) { return s["state"] == "running" && s["trials"].get<int>() >= 3; });
  const Command stopped = rig_control("stop");
  EXPECT_EQ(stopped.exit_code, 0) << stopped.output;
  const auto s = wait_status(idle_after_a_session);
  EXPECT_EQ(s["last_report"]["end_reason"], "stopped from the API");
  const auto sessions = stored_sessions("SAVVY");
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].end_reason, "stopped from the API");
  EXPECT_FALSE(sessions[0].interrupted);
  EXPECT_TRUE(stored_sessions("NAIVE").empty());
  EXPECT_EQ(rig_control("stop").exit_code, 1) << "nothing left to stop";
}

TEST_F(Rigd, SigtermDuringASessionStopsItCleanlyAndExitsZero) {
  ASSERT_EQ(rig_control("start --subject SAVVY --max-trials 100000").exit_code, 0);
  wait_status([](const nlohmann::json& s) { return s["state"] == "running" && s["trials"].get<int>() >= 3; });
  EXPECT_EQ(terminate_rigd(), 0);
  const auto sessions = stored_sessions("SAVVY");
  ASSERT_EQ(sessions.size(), 1u);
  ASSERT_TRUE(sessions[0].end_reason.has_value());
  EXPECT_EQ(*sessions[0].end_reason, "stopped: rigd is shutting down");
  EXPECT_FALSE(sessions[0].interrupted);
  EXPECT_GE(sessions[0].trial_count, 3);
}

TEST_F(Rigd, WatchPrintsTheSessionsEventsUntilItEnds) {
  std::future<Command> watched = std::async(std::launch::async, [this] { return rig("watch"); });
  // The watcher's WebSocket is open once rigd counts it; give it a moment rather than racing the start.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(rig_control("start --subject SAVVY --max-trials 20").exit_code, 0);
  ASSERT_EQ(watched.wait_for(kPatience), std::future_status::ready) << "rig watch never ended";
  const Command c = watched.get();
  EXPECT_EQ(c.exit_code, 0) << c.output;
  // Under load the watcher may connect after the first trials; each trial event carries its number.
  int trial_events = 0;
  int64_t last_trial = 0;
  bool finished = false;
  std::istringstream lines(c.output);
  for (std::string line; std::getline(lines, line);) {
    const auto event = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(event.is_discarded()) << "not JSON: " << line;
    if (event.value("type", "") == "trial") {
      ++trial_events;
      last_trial = event["trial"]["trial_number"].get<int64_t>();
    }
    finished = finished || event.value("type", "") == "finished";
  }
  EXPECT_GT(trial_events, 0);
  EXPECT_EQ(last_trial, 20);
  EXPECT_TRUE(finished);
}

TEST(RigdStartup, RefusesABadRigConfigNamingTheFileLineAndField) {
  const auto dir = std::filesystem::temp_directory_path() / ("rigd-bad-config-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ifstream in(e2e("rig.yaml"));
  std::stringstream text;
  text << in.rdbuf();
  std::string yaml = text.str();
  const auto at = yaml.find("ticks_per_rev: 4096");
  ASSERT_NE(at, std::string::npos);
  yaml.replace(at, std::string("ticks_per_rev: 4096").size(), "ticks_per_rev: 4095");
  std::ofstream(dir / "rig.yaml") << yaml;
  const Command c = run(std::string(RIGD_BINARY) + " --config " + (dir / "rig.yaml").string() + " --subjects " +
                        e2e("subjects.yaml") + " --listen 127.0.0.1:0 --db " + (dir / "db.sqlite").string());
  std::filesystem::remove_all(dir);
  EXPECT_EQ(c.exit_code, 2) << c.output;
  EXPECT_NE(c.output.find("rig.yaml:10:"), std::string::npos) << c.output;
  EXPECT_NE(c.output.find("ticks_per_rev"), std::string::npos) << c.output;
  EXPECT_EQ(c.output.find("listening"), std::string::npos) << "a bad config must stop rigd before it serves";
}

TEST(RigdClients, SayClearlyWhenNoRigdAnswers) {
  const std::string url = "http://127.0.0.1:" + std::to_string(rig::testing::unused_port());
  const Command c = run(std::string(RIG_BINARY) + " status --url " + url);
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_NE(c.output.find("no rigd answering at " + url), std::string::npos) << c.output;
}

// Issue 17 through rigd: weighings and water recorded through the API (token needed, bad bodies refused with
// nothing stored), a subject under its threshold refused (403, `rig start` exits 3) until a reason is given,
// which is stored with the session.
TEST_F(Rigd, WelfareIsRecordedThroughTheApiAndASubjectUnderThresholdStartsOnlyWithAReason) {
  const std::map<std::string, std::string> auth{{"Authorization", "Bearer s3cret-token"}};
  const auto post = [&](const std::string& path, const std::string& body) {
    return http_request(port_, http::verb::post, path, body, auth);
  };
  EXPECT_EQ(http_request(port_, http::verb::post, "/api/subjects/SAVVY/weighings", R"({"weight_g":25})").status, 401u);
  EXPECT_EQ(post("/api/subjects/NOBODY/weighings", R"({"weight_g":25})").status, 404u);
  for (const std::string bad : {R"({"weight_g":0})", R"({"weight_g":"25"})", R"({})", R"({"weight_g":25,"grams":1})"}) {
    const auto r = post("/api/subjects/SAVVY/weighings", bad);
    EXPECT_EQ(r.status, 400u) << bad << " " << r.body;
  }
  EXPECT_EQ(post("/api/subjects/SAVVY/water", R"({"volume_ul":300,"kind":"session"})").status, 400u);
  auto day = nlohmann::json::parse(http_get(port_, "/api/subjects/SAVVY").body);
  EXPECT_TRUE(day["weight_today_g"].is_null()) << "nothing stored by the refused requests";

  auto r = post("/api/subjects/SAVVY/weighings", R"({"weight_g":25,"baseline":true})");
  ASSERT_EQ(r.status, 201u) << r.body;
  r = post("/api/subjects/SAVVY/weighings", R"({"weight_g":19})");
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["welfare"]["under_threshold"], true);
  r = post("/api/subjects/SAVVY/water", R"({"volume_ul":150,"kind":"gel"})");
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["welfare"]["water"]["by_hand_today_ul"], 150.0);
  const auto listed = nlohmann::json::parse(http_get(port_, "/api/subjects").body)["subjects"];
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0]["subject"], "SAVVY");

  r = post("/api/sessions", R"({"subject":"SAVVY","max_trials":5})");
  EXPECT_EQ(r.status, 403u) << r.body;
  EXPECT_NE(r.body.find("under its threshold"), std::string::npos) << r.body;
  const Command refused = rig_control("start --subject SAVVY --max-trials 5");
  EXPECT_EQ(refused.exit_code, 3) << refused.output;
  EXPECT_EQ(status()["state"], "idle");

  const Command started = rig_control("start --subject SAVVY --max-trials 5 --override-weight \"vet: fine to train\"");
  ASSERT_EQ(started.exit_code, 0) << started.output;
  wait_status(idle_after_a_session);
  const auto sessions = stored_sessions("SAVVY");
  ASSERT_EQ(sessions.size(), 1u);
  auto store = rig::store::Store::open(db_, rig::store::OpenOptions::reading());
  bool stored = false;
  for (const auto& e : store.events(sessions[0].session_id)) {
    if (e.kind == "weight_check") stored = nlohmann::json::parse(e.detail_json)["override_reason"] == "vet: fine to train";
  }
  EXPECT_TRUE(stored) << "the override's reason is stored with the session";
  EXPECT_EQ(terminate_rigd(), 0);
}
