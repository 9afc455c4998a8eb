// The rigd fixture of the end-to-end and security suites: the real daemon on a free port with a simulated
// rig at speed 50, every session seeded, its URL read from --url-file; the `rig` clients and raw HTTP.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "support/http_client.hpp"
#include "host/store/store.hpp"
#include "program_test_support.hpp"
#include "support/run_command.hpp"

extern char** environ;

namespace rig_test {

using rig::testing::http_get;
using rig::testing::http_request;
namespace http = boost::beast::http;

constexpr auto kPatience = std::chrono::seconds(120);

using Command = rig::testing::CommandRun;
// Standard output and standard error.
inline Command run(const std::string& command) { return rig::testing::run_command(command + " 2>&1"); }

using rig::testing::e2e;

class Rigd : public ::testing::Test {
 protected:
  // The rig config and subjects file rigd runs with (the e2e copies; a suite may write its own in dir_).
  virtual std::string config_path() { return e2e("rig.yaml"); }
  virtual std::string subjects_path() { return e2e("subjects.yaml"); }
  // Before rigd starts, with dir_ made.
  virtual void prepare() {}

  void SetUp() override {
    dir_ = rig::testing::fresh_test_dir("rigd-e2e");
    prepare();
    db_ = (dir_ / "rig.sqlite").string();
    token_file_ = (dir_ / "token").string();
    std::ofstream(token_file_) << "s3cret-token\n";
    start_rigd();
  }

  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::filesystem::remove_all(dir_);
  }

  // rigd on 127.0.0.1:0 at speed 50, every session seeded (--seed 21); returns once it has written its URL.
  void start_rigd() {
    const std::string url_file = (dir_ / "url").string();
    std::vector<std::string> argv = {RIGD_BINARY, "--config", config_path(), "--subjects", subjects_path(),
                                     "--listen", "127.0.0.1:0", "--url-file", url_file, "--token-file", token_file_,
                                     "--db", db_, "--device", "sim", "--speed", "50", "--crt", "0", "--seed", "21"};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string log = (dir_ / "rigd.log").string();
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_EQ(posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    while (!std::filesystem::exists(url_file)) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "rigd never wrote its URL";
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::ifstream(url_file) >> url_;
    while (!url_.empty() && url_.back() == '/') url_.pop_back();
    port_ = static_cast<uint16_t>(std::stoi(url_.substr(url_.rfind(':') + 1)));
  }

  Command rig(const std::string& arguments) { return run(std::string(RIG_BINARY) + " " + arguments + " --url " + url_); }
  Command rig_control(const std::string& arguments) { return rig(arguments + " --token-file " + token_file_); }

  nlohmann::json status() { return nlohmann::json::parse(http_get(port_, "/api/status").body); }

  // Polls /api/status until `done` holds.
  nlohmann::json wait_status(const std::function<bool(const nlohmann::json&)>& done) {
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    for (;;) {
      nlohmann::json s = status();
      if (done(s)) return s;
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "timed out; last status " << s.dump().substr(0, 400);
        return s;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  static bool idle_after_a_session(const nlohmann::json& s) {
    return s["state"] == "idle" && s.contains("last_report") && s["last_report"].is_object();
  }

  int terminate_rigd() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::vector<rig::store::SessionInfo> stored_sessions(const std::string& subject) {
    auto store = rig::store::Store::open(db_, rig::store::OpenOptions::reading());
    return store.sessions(subject);
  }

  std::filesystem::path dir_;
  std::string db_, token_file_, url_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace rig_test
