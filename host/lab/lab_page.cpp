#include "host/lab/lab_page.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "host/analysis/fit_json.hpp"
#include "host/lab/lab_rows.hpp"
#include "host/lab/lab_schema.hpp"
#include "host/lab/subject_record.hpp"
#include "host/model/trial_json.hpp"

namespace rig::lab {
namespace {

using analysis::Choice;

// Sessions whose trials one query reads (LabPage's Impl::load).
constexpr std::size_t kSessionsPerRead = 250;

struct SessionKey {
  std::string rig_id;
  std::int64_t session_id = 0;
  auto operator<=>(const SessionKey&) const = default;
};

// What the regression needs of a trial.
struct PackedTrial {
  Choice choice = Choice::kMiss;
  bool free_choice = true;
  bool controllable_delivered = false;
  bool distractor_delivered = false;
};

struct SessionFit {
  std::size_t n_trials = 0;  // regression targets
  std::string reason;        // why the fit cannot be read (analysis::estimability); empty when it can
  std::optional<analysis::Estimate> controllable;  // both null unless the fit can be read
  std::optional<analysis::Estimate> distractor;
};

// The fit's size, readability and indices as the page's JSON gives them: indices null with the reason when the
// fit cannot be read (the rule of every other place that prints a fit).
nlohmann::json indices_json(const SessionFit& fit) {
  return {{"trials", fit.n_trials},
          {"estimable", fit.reason.empty()},
          {"reason", fit.reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(fit.reason)},
          {"controllable", analysis::estimate_to_json(fit.controllable)},
          {"distractor", analysis::estimate_to_json(fit.distractor)}};
}

SessionFit readable(const analysis::HistoryFit& fit) {
  const auto state = analysis::estimability(fit);
  if (!state.estimable) return {fit.n_trials, state.reason, std::nullopt, std::nullopt};
  return {fit.n_trials, "", fit.controllable_index, fit.distractor_index};
}

struct Session {
  SessionKey key;
  std::string subject_id;
  std::int64_t started_at_unix_us = 0;
  std::optional<std::int64_t> ended_at_unix_us;  // as the lab showed it at the last read
  bool loaded = false;  // trials read up to last_trial_number
  bool final = false;   // read in a snapshot that showed it ended: nothing more comes
  std::int64_t last_trial_number = 0;
  std::int64_t last_activity_unix_us = 0;  // its last trial's commit, else its start (its rig's clock)
  std::vector<PackedTrial> trials;
  std::map<std::chrono::sys_days, double> reward_ul_by_day;
  std::optional<SessionFit> fit;  // of `trials` as they are
};

// The lab's newest subjects row of a subject (every rig pushes its own; the newest change wins).
struct SubjectRow {
  std::string stage;
  std::string controllable_flavour;
  double daily_water_target_ml = 1.0;
  std::optional<double> daily_water_max_ml;
};

struct PooledFit {
  std::string signature;  // its sessions and their trial counts
  analysis::HistoryFit fit;
};

std::string key_text(const SessionKey& key) { return key.rig_id + "/" + std::to_string(key.session_id); }

// `values` as a PostgreSQL array literal of text ({"a","b"}), each element quoted.
std::string text_array(const std::vector<std::string>& values) {
  std::string out = "{";
  for (const auto& value : values) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (const char c : value) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string int_array(const std::vector<std::int64_t>& values) {
  std::string out = "{";
  for (const auto value : values) out += (out.size() > 1 ? "," : "") + std::to_string(value);
  return out + "}";
}

std::vector<analysis::TrialRecord> regression_input(const std::vector<const Session*>& sessions) {
  std::vector<analysis::TrialRecord> records;
  for (const auto* session : sessions) {
    const std::string id = key_text(session->key);
    for (const auto& t : session->trials) {
      analysis::TrialRecord r;
      r.session_id = id;
      r.choice = t.choice;
      r.free_choice = t.free_choice;
      r.controllable_delivered = t.controllable_delivered;
      r.distractor_delivered = t.distractor_delivered;
      records.push_back(std::move(r));
    }
  }
  return records;
}

bool running(const Session& session, std::int64_t now_unix_us) {
  return is_running(session.ended_at_unix_us.has_value(), session.last_activity_unix_us, now_unix_us);
}

nlohmann::json session_json(const Session& s, const LabClock& clock) {
  return {{"rig", s.key.rig_id},
          {"session_id", s.key.session_id},
          {"started_at_unix_us", s.started_at_unix_us},
          {"day", task::day_text(clock.local_day(s.started_at_unix_us))},
          {"ended_at_unix_us", model::optional_json(s.ended_at_unix_us)},
          {"running", running(s, clock.now_unix_us)},
          {"trials", s.trials.size()},
          {"last_activity_unix_us", s.last_activity_unix_us}};
}

}  // namespace

struct LabPage::Impl {
  explicit Impl(LabPageOptions o) : options(std::move(o)) {
    if (options.index_sessions < 1 || options.index_sessions > kMaxPooledSessions) {
      throw std::invalid_argument("lab page: index sessions must be 1 to " + std::to_string(kMaxPooledSessions));
    }
    options.fit = analysis::validated(options.fit);
  }

  LabPageOptions options;
  std::map<SessionKey, Session> sessions;
  std::map<std::string, std::vector<Session*>> by_subject;  // oldest first, from the last read
  std::map<std::string, SubjectRow> subject_rows;
  std::map<std::pair<std::string, int>, PooledFit> pooled;  // (subject, sessions pooled)
  std::string server;

  // Reads every session's row (not its trials) and the subjects rows; forgets sessions the lab no longer has.
  void read_sessions(PgConnection& lab) {
    server = lab.server();
    const auto result = lab.exec(
        "SELECT rig_id, session_id, subject_id, started_at_unix_us, ended_at_unix_us FROM sessions "
        "ORDER BY subject_id, started_at_unix_us, rig_id, session_id",
        "read the sessions");
    std::map<SessionKey, Session> next;
    by_subject.clear();
    for (int row = 0; row < result.rows(); ++row) {
      SessionKey key{result.text(row, 0), result.int64(row, 1)};
      auto found = sessions.find(key);
      Session session = found == sessions.end() ? Session{} : std::move(found->second);
      session.key = key;
      session.subject_id = result.text(row, 2);
      session.started_at_unix_us = result.int64(row, 3);
      const std::optional<std::int64_t> ended =
          result.is_null(row, 4) ? std::nullopt : std::optional<std::int64_t>(result.int64(row, 4));
      // A session resumed, or ended since it was read: read on from its last trial.
      if (ended != session.ended_at_unix_us) session.final = false;
      session.ended_at_unix_us = ended;
      if (!session.loaded) session.last_activity_unix_us = session.started_at_unix_us;
      auto& stored = next.emplace(key, std::move(session)).first->second;
      by_subject[stored.subject_id].push_back(&stored);
    }
    sessions = std::move(next);
    // by_subject points into `next`'s nodes, which the move keeps.
    const auto subjects = lab.exec(
        "SELECT DISTINCT ON (subject_id) subject_id, stage, controllable_flavour, daily_water_target_ml, "
        "daily_water_max_ml FROM subjects ORDER BY subject_id, updated_at_unix_us DESC, rig_id",
        "read the subjects");
    subject_rows.clear();
    for (int row = 0; row < subjects.rows(); ++row) {
      SubjectRow s;
      s.stage = subjects.text(row, 1);
      s.controllable_flavour = subjects.text(row, 2);
      s.daily_water_target_ml = std::stod(subjects.text(row, 3));
      if (!subjects.is_null(row, 4)) s.daily_water_max_ml = std::stod(subjects.text(row, 4));
      subject_rows[subjects.text(row, 0)] = std::move(s);
    }
  }

  // Reads the trials of `stale` sessions after the last one read (in the caller's snapshot, with the session rows),
  // kSessionsPerRead sessions a query: each stays an index lookup per session (one query for 12,000 sessions
  // was planned as a merge join sorting 6 M rows on disk, 13 s) and the answer held in memory stays small.
  void load(PgConnection& lab, const std::vector<Session*>& stale, const LabClock& clock) {
    for (std::size_t from = 0; from < stale.size(); from += kSessionsPerRead) {
      const auto first = stale.begin() + static_cast<std::ptrdiff_t>(from);
      const auto last = stale.begin() + static_cast<std::ptrdiff_t>(std::min(stale.size(), from + kSessionsPerRead));
      load_some(lab, std::vector<Session*>(first, last), clock);
    }
  }

  void load_some(PgConnection& lab, const std::vector<Session*>& stale, const LabClock& clock) {
    static const model::FieldInfo* kFields[] = {
        &model::trial_field("trial_number"),          &model::trial_field("choice"),
        &model::trial_field("free_choice"),           &model::trial_field("controllable_delivered"),
        &model::trial_field("distractor_delivered"),  &model::trial_field("delivered_cherry_ul"),
        &model::trial_field("delivered_grape_ul"),    &model::trial_field("committed_at_unix_us")};
    static const std::string kSelect = [] {
      std::string columns;
      for (const auto* field : kFields) columns += std::string(", t.") + field->name;
      // Each key finds its trials by the trials' primary key (rig_id, session_id, trial_number).
      return "SELECT k.i" + columns +
             " FROM unnest($1::text[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS k(rig_id, session_id, after_trial, i)"
             " JOIN trials t ON t.rig_id = k.rig_id AND t.session_id = k.session_id AND t.trial_number > k.after_trial"
             " ORDER BY k.i, t.trial_number";
    }();
    std::vector<std::string> rigs;
    std::vector<std::int64_t> ids, after;
    for (const auto* s : stale) {
      rigs.push_back(s->key.rig_id);
      ids.push_back(s->key.session_id);
      after.push_back(s->loaded ? s->last_trial_number : -1);
    }
    const auto result =
        lab.exec(kSelect, {PgParam{text_array(rigs)}, PgParam{int_array(ids)}, PgParam{int_array(after)}}, "read the trials");
    std::int64_t where_for = 0;  // the key (1-based) `where` names
    std::string where;
    for (int row = 0; row < result.rows(); ++row) {
      const std::int64_t index = result.int64(row, 0);
      Session& s = *stale.at(static_cast<std::size_t>(index - 1));
      if (index != where_for) {
        where = trials_place(lab, s.key.rig_id, s.key.session_id);
        where_for = index;
      }
      int column = 1;
      const auto next = [&](auto& member) {
        const auto* field = kFields[column - 1];
        read_column(result, row, column++, *field, member, where);
      };
      std::int64_t trial_number = 0;
      std::optional<wire::Side> choice;
      PackedTrial t;
      double cherry_ul = 0.0, grape_ul = 0.0;
      std::int64_t committed_at_unix_us = 0;
      next(trial_number);
      next(choice);
      next(t.free_choice);
      next(t.controllable_delivered);
      next(t.distractor_delivered);
      next(cherry_ul);
      next(grape_ul);
      next(committed_at_unix_us);
      t.choice = analysis::choice_of(choice);
      s.trials.push_back(t);
      s.last_trial_number = trial_number;
      s.last_activity_unix_us = std::max(s.last_activity_unix_us, committed_at_unix_us);
      if (cherry_ul + grape_ul > 0.0) s.reward_ul_by_day[clock.local_day(committed_at_unix_us)] += cherry_ul + grape_ul;
      s.fit.reset();
    }
    for (auto* s : stale) {
      s->loaded = true;
      s->final = s->ended_at_unix_us.has_value();
    }
  }

  // Brings `wanted` up to date (those not final), in the caller's snapshot.
  void refresh(PgConnection& lab, const std::vector<Session*>& wanted, const LabClock& clock) {
    std::vector<Session*> stale;
    for (auto* s : wanted) {
      if (!s->final) stale.push_back(s);
    }
    load(lab, stale, clock);
  }

  const SessionFit& session_fit(Session& s) const {
    if (!s.fit) {
      SessionFit fit{0, "no choices to fit", std::nullopt, std::nullopt};
      try {
        fit = readable(analysis::fit_history(regression_input({&s}), options.fit));
      } catch (const std::exception& e) {
        // A degenerate design: no estimate (null on the page, with why), not an error.
        fit.reason = e.what();
      }
      s.fit = fit;
    }
    return *s.fit;
  }

  // The fit of `chosen` pooled (kept until one of them grows), or null when it cannot be fitted.
  const analysis::HistoryFit* pooled_fit(const std::string& subject_id, const std::vector<const Session*>& chosen) {
    std::string signature;
    for (const auto* s : chosen) signature += key_text(s->key) + ":" + std::to_string(s->trials.size()) + ";";
    auto& entry = pooled[{subject_id, static_cast<int>(chosen.size())}];
    if (entry.signature != signature) {
      entry.signature = signature;
      try {
        entry.fit = analysis::fit_history(regression_input(chosen), options.fit);
      } catch (const std::exception&) {
        entry.fit = analysis::HistoryFit{};
      }
    }
    return entry.fit.n_trials > 0 ? &entry.fit : nullptr;
  }

  // The last `n` sessions of the subject that have trials, oldest first.
  std::vector<const Session*> last_sessions(const std::string& subject_id, int n) const {
    std::vector<const Session*> chosen;
    const auto found = by_subject.find(subject_id);
    if (found == by_subject.end()) return chosen;
    for (auto it = found->second.rbegin(); it != found->second.rend() && static_cast<int>(chosen.size()) < n; ++it) {
      if (!(*it)->trials.empty()) chosen.push_back(*it);
    }
    std::reverse(chosen.begin(), chosen.end());
    return chosen;
  }

  // The sessions a subject's rows need read: its last `n` (whether or not they have trials yet: a new session
  // has none until read), every one still open, and those that may have trials in the welfare days.
  std::vector<Session*> wanted(const std::string& subject_id, int n, const LabClock& clock) const {
    std::vector<Session*> out;
    const auto found = by_subject.find(subject_id);
    if (found == by_subject.end()) return out;
    const std::int64_t welfare_from_us =
        clock.now_unix_us - std::int64_t{task::kWelfareHistoryDays + 1} * 86'400'000'000;
    const auto& list = found->second;
    for (std::size_t i = 0; i < list.size(); ++i) {
      Session* s = list[i];
      const bool recent = i + static_cast<std::size_t>(n) >= list.size();
      if (recent || !s->ended_at_unix_us || *s->ended_at_unix_us >= welfare_from_us) out.push_back(s);
    }
    return out;
  }

  task::Subject subject_of(const std::string& subject_id, std::string& rules) const {
    if (options.subjects) {
      if (const auto* s = options.subjects->find(subject_id)) {
        rules = "subjects file";
        return *s;
      }
    }
    rules = "defaults";
    task::Subject subject;
    subject.id = subject_id;
    if (const auto row = subject_rows.find(subject_id); row != subject_rows.end()) {
      subject.stage = row->second.stage;
      subject.daily_water_target_ml = row->second.daily_water_target_ml;
      subject.daily_water_max_ml = row->second.daily_water_max_ml;
    }
    return subject;
  }

  task::WelfareStatus welfare(const std::string& subject_id, const std::vector<model::Weighing>& weighings,
                              const std::vector<model::WaterGiven>& water, const LabClock& clock, std::string& rules) const {
    std::map<std::chrono::sys_days, double> session_ul_by_day;
    const auto first = clock.today - std::chrono::days(task::kWelfareHistoryDays - 1);
    if (const auto found = by_subject.find(subject_id); found != by_subject.end()) {
      for (const auto* s : found->second) {
        for (const auto& [day, ul] : s->reward_ul_by_day) {
          if (day >= first && day <= clock.today) session_ul_by_day[day] += ul;
        }
      }
    }
    return task::welfare_status(subject_of(subject_id, rules), weighings, water, session_ul_by_day, clock.today,
                                clock.local_day);
  }

  // The subject's fields shared by the overview and its page.
  nlohmann::json subject_head(const std::string& subject_id, const LabClock& clock) const {
    nlohmann::json head = {{"subject", subject_id}, {"stage", nullptr}, {"controllable_flavour", nullptr},
                           {"last_session", nullptr}, {"running_on", nullptr}};
    if (const auto row = subject_rows.find(subject_id); row != subject_rows.end()) {
      head["stage"] = row->second.stage;
      head["controllable_flavour"] = row->second.controllable_flavour;
    }
    if (const auto found = by_subject.find(subject_id); found != by_subject.end() && !found->second.empty()) {
      head["last_session"] = session_json(*found->second.back(), clock);
      for (const auto* s : found->second) {
        if (running(*s, clock.now_unix_us)) head["running_on"] = s->key.rig_id;
      }
    }
    return head;
  }

  Progress progress() const {
    Progress p;
    p.sessions = sessions.size();
    for (const auto& [key, s] : sessions) p.final += s.final && s.fit.has_value();
    return p;
  }
};

LabPage::LabPage(LabPageOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
LabPage::~LabPage() = default;

LabPage::Progress LabPage::progress() const { return impl_->progress(); }

namespace {

// A REPEATABLE READ, read-only transaction: everything a page shows comes from one moment of the lab.
class Snapshot {
 public:
  Snapshot(PgConnection& lab, std::string_view what) : transaction_(lab, what) {
    lab.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", what);
  }
  void commit() { transaction_.commit(); }

 private:
  PgTransaction transaction_;
};

template <class Record>
std::map<std::string, std::vector<Record>> by_subject_id(std::vector<Record> rows) {
  std::map<std::string, std::vector<Record>> out;
  for (auto& row : rows) out[row.subject_id].push_back(std::move(row));
  return out;
}

}  // namespace

nlohmann::json LabPage::overview(PgConnection& lab, const LabClock& clock) {
  Impl& m = *impl_;
  Snapshot snapshot(lab, "read the lab overview");
  m.read_sessions(lab);
  std::vector<Session*> wanted;
  for (const auto& [subject_id, list] : m.by_subject) {
    const auto more = m.wanted(subject_id, m.options.index_sessions, clock);
    wanted.insert(wanted.end(), more.begin(), more.end());
  }
  m.refresh(lab, wanted, clock);

  static const std::string kRigs = std::string("SELECT rig_id, (extract(epoch FROM ") + kRigLastPushAt +
                                   ") * 1000000)::bigint, extract(epoch FROM now() - " + kRigLastPushAt + "), " +
                                   kRigBacklogEntries + ", " + kRigBacklogOldestUnixUs + " FROM rigs ORDER BY rig_id";
  const auto rigs = lab.exec(kRigs, "read the rigs");
  const auto alerts = lab.exec(
      "SELECT DISTINCT ON (rig_id) rig_id, detail_json FROM events WHERE kind = 'alert' "
      "ORDER BY rig_id, logged_at_unix_us DESC",
      "read the rigs' last alerts");
  std::map<std::string, nlohmann::json> last_alert;
  for (int row = 0; row < alerts.rows(); ++row) {
    auto detail = nlohmann::json::parse(alerts.text(row, 1), nullptr, false);
    last_alert[alerts.text(row, 0)] = detail.is_discarded() ? nlohmann::json{{"text", alerts.text(row, 1)}} : detail;
  }
  auto weighings = by_subject_id(lab_welfare_rows<model::Weighing>(lab, "", ""));
  auto water = by_subject_id(lab_welfare_rows<model::WaterGiven>(lab, "", ""));
  snapshot.commit();

  // Each rig's newest open session that is still active: what it runs now.
  std::map<std::string, const Session*> running_on_rig;
  for (const auto& [key, s] : m.sessions) {
    if (!running(s, clock.now_unix_us)) continue;
    auto& current = running_on_rig[key.rig_id];
    if (!current || current->started_at_unix_us < s.started_at_unix_us) current = &s;
  }
  nlohmann::json rig_list = nlohmann::json::array();
  for (int row = 0; row < rigs.rows(); ++row) {
    const std::string rig_id = rigs.text(row, 0);
    const std::int64_t last_push_unix_us = rigs.int64(row, 1);
    const double seen_s_ago = std::stod(rigs.text(row, 2));
    const bool offline = seen_s_ago > static_cast<double>(m.options.offline_after.count());
    const auto run = running_on_rig.find(rig_id);
    const Session* session = run == running_on_rig.end() ? nullptr : run->second;
    nlohmann::json r = {{"rig", rig_id},
                        {"state", offline ? "offline" : session ? "running" : "idle"},
                        {"subject", session ? nlohmann::json(session->subject_id) : nlohmann::json(nullptr)},
                        {"session", session ? session_json(*session, clock) : nlohmann::json(nullptr)},
                        {"last_push_unix_us", last_push_unix_us},
                        {"last_push_s_ago", seen_s_ago},
                        {"offline_since_unix_us", offline ? nlohmann::json(last_push_unix_us) : nlohmann::json(nullptr)},
                        {"backlog_entries", rigs.int64(row, 3)},
                        {"backlog_oldest_unix_us", rigs.is_null(row, 4) ? nlohmann::json(nullptr) : nlohmann::json(rigs.int64(row, 4))},
                        {"last_alert", nullptr}};
    if (const auto alert = last_alert.find(rig_id); alert != last_alert.end()) r["last_alert"] = alert->second;
    rig_list.push_back(std::move(r));
  }

  std::vector<std::string> subject_ids;
  for (const auto& [id, row] : m.subject_rows) subject_ids.push_back(id);
  for (const auto& [id, list] : m.by_subject) {
    if (!m.subject_rows.count(id)) subject_ids.push_back(id);
  }
  std::sort(subject_ids.begin(), subject_ids.end());
  nlohmann::json subject_list = nlohmann::json::array();
  std::set<std::string> rules_used;
  for (const auto& id : subject_ids) {
    nlohmann::json s = m.subject_head(id, clock);
    std::string rules;
    auto welfare = task::welfare_json(m.welfare(id, weighings[id], water[id], clock, rules));
    welfare.erase("days");
    welfare.erase("subject");
    s["welfare"] = std::move(welfare);
    s["welfare_rules"] = rules;
    const auto chosen = m.last_sessions(id, m.options.index_sessions);
    const auto* fit = m.pooled_fit(id, chosen);
    s["indices"] = indices_json(fit ? readable(*fit) : SessionFit{0, "no choices to fit", std::nullopt, std::nullopt});
    s["indices"]["sessions"] = chosen.size();
    subject_list.push_back(std::move(s));
  }
  const auto progress = m.progress();
  return {{"generated_at_unix_us", clock.now_unix_us},
          {"lab", m.server},
          {"index_sessions", m.options.index_sessions},
          {"offline_after_s", m.options.offline_after.count()},
          {"cache", {{"sessions", progress.sessions}, {"final", progress.final}}},
          {"rigs", std::move(rig_list)},
          {"subjects", std::move(subject_list)}};
}

nlohmann::json LabPage::subject(PgConnection& lab, const std::string& subject_id, int pooled_sessions,
                                const LabClock& clock) {
  if (pooled_sessions < 1 || pooled_sessions > kMaxPooledSessions) {
    throw std::invalid_argument("sessions: expected 1 to " + std::to_string(kMaxPooledSessions));
  }
  Impl& m = *impl_;
  Snapshot snapshot(lab, "read the lab's record of " + subject_id);
  m.read_sessions(lab);
  if (!m.subject_rows.count(subject_id) && !m.by_subject.count(subject_id)) {
    throw SubjectNotFound("the lab has no subject " + subject_id);
  }
  // Every session: the learning curve fits each one.
  std::vector<Session*> all;
  if (const auto found = m.by_subject.find(subject_id); found != m.by_subject.end()) all = found->second;
  m.refresh(lab, all, clock);
  const auto weighings = lab_welfare_rows<model::Weighing>(lab, subject_id, "");
  const auto water = lab_welfare_rows<model::WaterGiven>(lab, subject_id, "");
  snapshot.commit();

  nlohmann::json page = m.subject_head(subject_id, clock);
  std::string rules;
  page["welfare"] = task::welfare_json(m.welfare(subject_id, weighings, water, clock, rules));
  page["welfare_rules"] = rules;
  nlohmann::json curve = nlohmann::json::array();
  for (auto* s : all) {
    nlohmann::json point = session_json(*s, clock);
    auto indices = indices_json(m.session_fit(*s));
    point["fitted_trials"] = indices["trials"];
    for (const char* key : {"estimable", "reason", "controllable", "distractor"}) point[key] = std::move(indices[key]);
    curve.push_back(std::move(point));
  }
  page["sessions"] = std::move(curve);
  const auto chosen = m.last_sessions(subject_id, pooled_sessions);
  const auto* fit = m.pooled_fit(subject_id, chosen);
  nlohmann::json pooled_keys = nlohmann::json::array();
  for (const auto* s : chosen) pooled_keys.push_back(key_text(s->key));
  page["pooled"] = {{"sessions", chosen.size()},
                    {"session_keys", std::move(pooled_keys)},
                    {"fit", fit ? analysis::fit_to_json(*fit) : nlohmann::json(nullptr)}};
  page["generated_at_unix_us"] = clock.now_unix_us;
  page["lab"] = m.server;
  return page;
}

bool LabPage::warm_step(PgConnection& lab, const LabClock& clock) {
  Impl& m = *impl_;
  Snapshot snapshot(lab, "read the lab's sessions ahead");
  m.read_sessions(lab);
  for (auto& [subject_id, list] : m.by_subject) {
    // Sessions never read, or ended since: open ones are read on by the pages themselves.
    std::vector<Session*> pending;
    bool unfitted = false;
    for (auto* s : list) {
      if (!s->loaded || (s->ended_at_unix_us && !s->final)) pending.push_back(s);
      unfitted = unfitted || !s->fit;
    }
    if (pending.empty() && !unfitted) continue;
    m.load(lab, pending, clock);
    snapshot.commit();
    for (auto* s : list) m.session_fit(*s);
    m.pooled_fit(subject_id, m.last_sessions(subject_id, m.options.index_sessions));
    return true;
  }
  snapshot.commit();
  return false;
}

}  // namespace rig::lab
