#include "host/lab/subject_record.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <stdexcept>

#include "host/lab/lab_rows.hpp"

namespace rig::lab {
store::SubjectElsewhere read_subject_elsewhere(PgConnection& lab, const std::string& rig_id, const std::string& subject_id,
                                               std::int64_t rewards_since_unix_us) {
  static const model::FieldInfo& kTrialNumber = model::trial_field("trial_number");
  static const model::FieldInfo& kChoice = model::trial_field("choice");
  static const model::FieldInfo& kFreeChoice = model::trial_field("free_choice");
  static const model::FieldInfo& kControllable = model::trial_field("controllable_delivered");
  static const model::FieldInfo& kDistractor = model::trial_field("distractor_delivered");
  static const model::FieldInfo& kPLeft = model::trial_field("p_controllable_left");
  static const model::FieldInfo& kPRight = model::trial_field("p_controllable_right");
  static const model::FieldInfo& kPDistractor = model::trial_field("p_distractor");
  static const model::FieldInfo& kCherry = model::trial_field("delivered_cherry_ul");
  static const model::FieldInfo& kGrape = model::trial_field("delivered_grape_ul");
  static const model::FieldInfo& kCommitted = model::trial_field("committed_at_unix_us");
  static const std::string kSelect = [] {
    std::string columns;
    for (const auto* field : {&kTrialNumber, &kChoice, &kFreeChoice, &kControllable, &kDistractor, &kPLeft, &kPRight,
                              &kPDistractor, &kCherry, &kGrape, &kCommitted}) {
      columns += std::string(", t.") + field->name;
    }
    // Sessions by the subject's index, their trials by the trials' primary key; a session without trials yet
    // is kept (LEFT JOIN): it may be running.
    return "SELECT s.rig_id, s.session_id, s.started_at_unix_us, s.ended_at_unix_us IS NOT NULL" + columns +
           " FROM sessions s LEFT JOIN trials t ON t.rig_id = s.rig_id AND t.session_id = s.session_id"
           " WHERE s.subject_id = $1 AND s.rig_id <> $2"
           " ORDER BY s.started_at_unix_us, s.rig_id, s.session_id, t.trial_number";
  }();

  store::SubjectElsewhere record;
  record.lab = lab.server();
  const std::string what = "read the history of " + subject_id;
  PgTransaction snapshot(lab, what);
  lab.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", what);
  const auto result = lab.exec(kSelect, {PgParam{subject_id}, PgParam{rig_id}}, what);
  std::string where;  // the current session's place, for a malformed trial's message
  for (int row = 0; row < result.rows(); ++row) {
    const std::string other_rig = result.text(row, 0);
    const std::int64_t session_id = result.int64(row, 1);
    if (record.sessions.empty() || record.sessions.back().rig_id != other_rig || record.sessions.back().session_id != session_id) {
      store::SessionElsewhere session;
      session.rig_id = other_rig;
      session.session_id = session_id;
      session.started_at_unix_us = result.int64(row, 2);
      session.ended = result.text(row, 3) == "t";
      session.last_activity_unix_us = session.started_at_unix_us;
      record.sessions.push_back(std::move(session));
      where = trials_place(lab, other_rig, session_id);
    }
    store::SessionElsewhere& session = record.sessions.back();
    if (result.is_null(row, 4)) continue;  // no trial yet
    store::SubjectTrial trial;
    trial.session_id = session_id;
    int column = 4;
    const auto next = [&](const model::FieldInfo& field, auto& member) { read_column(result, row, column++, field, member, where); };
    next(kTrialNumber, trial.trial_number);
    next(kChoice, trial.choice);
    next(kFreeChoice, trial.free_choice);
    next(kControllable, trial.controllable_delivered);
    next(kDistractor, trial.distractor_delivered);
    next(kPLeft, trial.p_controllable_by_side[0]);
    next(kPRight, trial.p_controllable_by_side[1]);
    next(kPDistractor, trial.p_distractor);
    double cherry_ul = 0.0;
    double grape_ul = 0.0;
    std::int64_t committed_at_unix_us = 0;
    next(kCherry, cherry_ul);
    next(kGrape, grape_ul);
    next(kCommitted, committed_at_unix_us);
    session.trials.push_back(trial);
    session.last_activity_unix_us = std::max(session.last_activity_unix_us, committed_at_unix_us);
    if (committed_at_unix_us >= rewards_since_unix_us && cherry_ul + grape_ul > 0.0) {
      record.rewards.push_back({committed_at_unix_us, cherry_ul + grape_ul});
    }
  }
  record.weighings = lab_welfare_rows<model::Weighing>(lab, subject_id, rig_id);
  record.water = lab_welfare_rows<model::WaterGiven>(lab, subject_id, rig_id);
  snapshot.commit();
  return record;
}

bool is_running(bool ended, std::int64_t last_activity_unix_us, std::int64_t now_unix_us) {
  return !ended && now_unix_us - last_activity_unix_us < std::chrono::microseconds(kRunningElsewhereWindow).count();
}

std::optional<std::string> running_elsewhere(const store::SubjectElsewhere& record, const std::string& subject_id,
                                             std::int64_t now_unix_us) {
  for (auto session = record.sessions.rbegin(); session != record.sessions.rend(); ++session) {
    if (!is_running(session->ended, session->last_activity_unix_us, now_unix_us)) continue;
    const long long ago_s = std::max<long long>(0, (now_unix_us - session->last_activity_unix_us) / 1'000'000);
    char text[512];
    std::snprintf(text, sizeof text,
                  "%s is running on rig %s (its session %lld, started %s; last %s %llds ago, by the lab %s): one "
                  "subject trains on one rig at a time. End that session first; a session its rig left without an "
                  "end stops counting %lld minutes after its last trial",
                  subject_id.c_str(), session->rig_id.c_str(), static_cast<long long>(session->session_id),
                  store::utc_iso8601(session->started_at_unix_us).c_str(),
                  session->trials.empty() ? "start" : "trial", ago_s, record.lab.c_str(),
                  static_cast<long long>(kRunningElsewhereWindow.count()));
    return std::string(text);
  }
  return std::nullopt;
}

}  // namespace rig::lab
