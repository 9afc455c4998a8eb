// How `rig run` and rigd learn a subject's record on the other rigs when a session starts (docs/lab.md, "A
// mouse across rigs"): the app asks the lab and hands the session what it found (the session never talks to the
// lab itself: DESIGN.md, "Parts").
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "host/lab/subject_record.hpp"
#include "host/session/run_support.hpp"
#include "host/task/rig_config.hpp"
#include "host/task/welfare.hpp"

namespace rig::app {

// SessionHostOptions::elsewhere for a rig config with a `lab:` section: reads the subject's record on the other
// rigs (lab.timeout_s bounds each statement, 10 s the connection), throws ConflictError when the subject is
// running on another rig, and returns nullopt, after telling `notice` why, when the lab cannot be reached or
// read (the session goes on with this rig's records: the rig never depends on the network). No `lab:` section:
// nullopt, silently. Reads the clock; call on the preparing thread.
inline std::function<std::optional<store::SubjectElsewhere>(const task::RigConfig&, const std::string&)> lab_history(
    std::function<void(const std::string&)> notice) {
  return [notice = std::move(notice)](const task::RigConfig& rig,
                                      const std::string& subject_id) -> std::optional<store::SubjectElsewhere> {
    if (rig.lab.url.empty()) return std::nullopt;
    const auto now = std::chrono::system_clock::now();
    const std::int64_t now_unix_us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
    // A day more than the welfare window: the window's first local day starts within it in any time zone.
    const std::int64_t since_unix_us =
        now_unix_us - std::int64_t{task::kWelfareHistoryDays + 1} * 86'400'000'000;
    std::optional<store::SubjectElsewhere> record;
    try {
      lab::PgConnection lab(rig.lab.url, lab::PgTimeouts{10, rig.lab.timeout()});
      record = lab::read_subject_elsewhere(lab, rig.id, subject_id, since_unix_us);
    } catch (const lab::LabError& e) {
      notice("the lab database could not be read (" + std::string(e.what()) + "); " + subject_id +
             "'s history and welfare day are this rig's records only");
      return std::nullopt;
    }
    if (const auto busy = lab::running_elsewhere(*record, subject_id, now_unix_us)) throw ConflictError(*busy);
    if (!record->sessions.empty() || !record->weighings.empty() || !record->water.empty()) {
      notice("the lab has " + std::to_string(record->sessions.size()) + " sessions (" +
             std::to_string(record->trial_count()) + " trials), " + std::to_string(record->weighings.size()) +
             " weighings and " + std::to_string(record->water.size()) + " water records of " + subject_id +
             " from other rigs: counted in its fit and its welfare day");
    }
    return record;
  };
}

}  // namespace rig::app
