// When a running session needs someone (docs/operator-guide.md, "Alerts"): it ended by an error, the device
// reported a fault, the device has been away too long, the mouse stopped choosing or stopped completing
// trials, or the session runs far past its planned end. Pure logic fed events and a monotonic time in
// microseconds (the caller's clock); each rule speaks once per episode. Not thread-safe (one thread).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "host/model/alert.hpp"
#include "host/task/rig_config.hpp"
#include "host/task/welfare.hpp"

namespace rig::app {

// An alert's kind and words, before the caller stamps rig, subject, session and wall time.
struct AlertDraft {
  model::AlertKind kind;
  std::string text;
  bool operator==(const AlertDraft&) const = default;
};

// The daily welfare check's alerts for one subject's day: under its weight threshold, owed water. Pure.
std::vector<AlertDraft> welfare_alerts(const task::WelfareStatus& day);

class SessionAlertRules {
 public:
  // `planned_minutes`: the protocol's max_minutes (nullopt: no planned end, no overrun alert).
  SessionAlertRules(task::AlertSettings settings, std::optional<double> planned_minutes)
      : settings_(std::move(settings)), planned_minutes_(planned_minutes) {}

  // The session started (the device connected) at `now_us`.
  std::vector<AlertDraft> on_started(std::int64_t now_us);
  // A trial completed: with a choice (`chose`) or without (a miss, an abort).
  std::vector<AlertDraft> on_trial(bool chose, std::int64_t now_us);
  // The link to the device went down (`connected` false) or came back.
  std::vector<AlertDraft> on_link(bool connected, std::int64_t now_us);
  // The device reported a fault (`text`: what it means); each kind of fault once per session.
  std::vector<AlertDraft> on_fault(const std::string& text, std::int64_t now_us);
  // The session ended (`error`: by a failure).
  std::vector<AlertDraft> on_finished(const std::string& reason, bool error, std::int64_t now_us);
  // Time passed: the rules that wait (device away, no trial, overrun).
  std::vector<AlertDraft> tick(std::int64_t now_us);

 private:
  task::AlertSettings settings_;
  std::optional<double> planned_minutes_;
  std::optional<std::int64_t> started_us_, last_trial_us_, lost_since_us_;
  std::int64_t misses_in_a_row_ = 0;
  std::set<std::string> faults_said_;
  bool running_ = false, lost_said_ = false, disengaged_said_ = false, idle_said_ = false, overrun_said_ = false;
};

}  // namespace rig::app
