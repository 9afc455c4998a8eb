// The lab page's queries (docs/lab.md, "The lab page"): every rig (running whom, idle, offline since; its backlog
// and last alert), every subject (stage, last session, today's weight and water, the controllable and distractor
// indices over its last sessions) and one subject's learning across sessions and days, as the JSON that
// `rig lab serve` answers under /api/lab/.
//
// The indices are the trial-history regression of host/analysis, fitted here from the lab's trials. A session's
// trials are read once and kept (4 bytes a trial: what the regression needs); a session the lab shows ended was
// pushed after its last trial (the outbox is sent in order), so its trials and its fit are final and never read
// again. Sessions still open are read on from their last trial at each request. Pooled fits are kept until one of
// their sessions grows. `warm_step` reads and fits ahead, a subject at a time, so that pages answer from memory.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "host/analysis/history_regression.hpp"
#include "host/lab/pg.hpp"
#include "host/task/subject.hpp"
#include "host/task/welfare.hpp"

namespace rig::lab {

// What the page knows of time: given by the caller, never read here (DESIGN decision 5).
struct LabClock {
  std::int64_t now_unix_us = 0;  // this machine's wall clock, us since the Unix epoch
  std::chrono::sys_days today{};  // the local day it is
  task::LocalDay local_day;       // the local day a time falls on (the same function on every call)
};

struct LabPageOptions {
  int index_sessions = 5;  // each subject's indices on the overview pool its last this many sessions
  // A rig whose last push is older than this is offline (rigd pushes every lab.push_interval_s, 1 s by default,
  // also with nothing to send).
  std::chrono::seconds offline_after{60};
  analysis::FitOptions fit;  // the regression (lags; no penalty: the reference fit, as `rig fit`)
  // The subjects file's welfare rules (baseline, thresholds, water per gram); subjects it lacks, or without it,
  // are judged by the lab's subjects rows (stage, daily water) and the default rules.
  std::optional<task::SubjectList> subjects;
};

// The most sessions a subject page pools for its weights.
inline constexpr int kMaxPooledSessions = 200;

// A subject the lab has no record of (the API's 404).
class SubjectNotFound : public LabError {
 public:
  using LabError::LabError;
};

class LabPage {
 public:
  // Throws std::invalid_argument for bad options (index_sessions outside [1, kMaxPooledSessions], bad fit options).
  explicit LabPage(LabPageOptions options);
  ~LabPage();
  LabPage(const LabPage&) = delete;
  LabPage& operator=(const LabPage&) = delete;

  // GET /api/lab/overview: {generated_at_unix_us, lab, index_sessions, offline_after_s, cache: {sessions, final},
  // rigs: [...], subjects: [...]} (docs/lab.md lists the fields). Reads `lab` in one snapshot. Not
  // thread-safe: one LabPage per thread, with its own connection. Throws LabError.
  nlohmann::json overview(PgConnection& lab, const LabClock& clock);

  // GET /api/lab/subjects/{id}?sessions=N: {subject, stage, ..., welfare (with its days), sessions: [every session,
  // oldest first, with its own indices], pooled: {sessions: N, trials, fit (as `rig fit --json`)}}. `pooled_sessions`
  // in [1, kMaxPooledSessions]. Reads `lab` in one snapshot; not thread-safe. Throws SubjectNotFound for a subject
  // the lab has neither a row nor a session of, std::invalid_argument for a bad count, LabError.
  nlohmann::json subject(PgConnection& lab, const std::string& subject_id, int pooled_sessions, const LabClock& clock);

  // Reads and fits the sessions of one subject that are not yet final in memory. Returns false once there was
  // nothing left to do (new sessions are found at the next call). Not thread-safe. Throws LabError.
  bool warm_step(PgConnection& lab, const LabClock& clock);

  struct Progress {
    std::size_t sessions = 0;  // sessions the lab held at the last read
    std::size_t final = 0;     // of which read and fitted for good
  };
  // Not thread-safe (call on the page's thread).
  Progress progress() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace rig::lab
