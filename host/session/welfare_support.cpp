#include "host/session/welfare_support.hpp"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <ctime>

#include "host/model/trial_json.hpp"
#include "host/session/run_support.hpp"

namespace rig::app {

std::chrono::sys_days local_today() { return std::chrono::sys_days(today()); }

std::chrono::system_clock::time_point next_local_minute(int minute_of_day) {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm at{};
  localtime_r(&now, &at);
  at.tm_hour = minute_of_day / 60;
  at.tm_min = minute_of_day % 60;
  at.tm_sec = 0;
  at.tm_isdst = -1;
  std::time_t when = std::mktime(&at);
  if (when <= now) {
    ++at.tm_mday;  // mktime normalizes the day and finds the right offset across a DST change
    at.tm_isdst = -1;
    when = std::mktime(&at);
  }
  return std::chrono::system_clock::from_time_t(when);
}

namespace {

// `local` and `other` (each in time order) as one list in time order; on a tie, this rig's row first.
template <class Record, class Time>
std::vector<Record> merged(std::vector<Record> local, const std::vector<Record>& other, Time time) {
  const auto middle = local.insert(local.end(), other.begin(), other.end());
  std::inplace_merge(local.begin(), middle, local.end(), [&](const Record& a, const Record& b) { return time(a) < time(b); });
  return local;
}

}  // namespace

task::WelfareStatus read_welfare(const store::Store& db, const task::Subject& subject, std::chrono::sys_days today,
                                 const store::SubjectElsewhere* elsewhere) {
  const auto first = today - std::chrono::days(task::kWelfareHistoryDays - 1);
  auto weighings = db.welfare_rows<model::Weighing>(subject.id);
  auto water = db.welfare_rows<model::WaterGiven>(subject.id);
  auto session_ul_by_day = db.session_water_by_day(subject.id, first, today);
  if (elsewhere) {
    weighings = merged(std::move(weighings), elsewhere->weighings, [](const model::Weighing& w) { return w.weighed_at_unix_us; });
    water = merged(std::move(water), elsewhere->water, [](const model::WaterGiven& w) { return w.given_at_unix_us; });
    for (const auto& reward : elsewhere->rewards) {
      const auto day = local_day_of(reward.committed_at_unix_us);
      if (day >= first && day <= today) session_ul_by_day[day] += reward.volume_ul;
    }
  }
  return task::welfare_status(subject, weighings, water, session_ul_by_day, today, local_day_of);
}

std::string login_name() {
  if (const char* user = std::getenv("USER"); user && *user) return user;
  if (const passwd* entry = getpwuid(geteuid()); entry && entry->pw_name) return entry->pw_name;
  return "unknown";
}

namespace {

// The subject's last weighing ever, grams (nullopt: never weighed), on this rig or (`elsewhere`) another.
std::optional<double> last_weight_g(const store::Store& db, const task::Subject& subject,
                                    const store::SubjectElsewhere* elsewhere = nullptr) {
  const auto weighings = db.welfare_rows<model::Weighing>(subject.id);
  std::optional<model::Weighing> last;
  if (!weighings.empty()) last = weighings.back();
  if (elsewhere && !elsewhere->weighings.empty() &&
      (!last || elsewhere->weighings.back().weighed_at_unix_us > last->weighed_at_unix_us)) {
    last = elsewhere->weighings.back();
  }
  return last ? std::optional<double>(last->weight_g) : std::nullopt;
}

}  // namespace

model::Weighing record_weighing(store::Store& db, const task::Subject& subject, double weight_g, bool baseline,
                                const std::string& who, const std::string& force_reason) {
  if (const auto problem = task::weight_problem(weight_g, last_weight_g(db, subject), !force_reason.empty())) {
    throw InputError(subject.id + ": " + *problem + "; nothing recorded");
  }
  model::Weighing row;
  row.subject_id = subject.id;
  row.weighed_at_unix_us = db.now_unix_us();
  row.weight_g = weight_g;
  row.baseline = baseline;
  row.who = who.empty() ? login_name() : who;
  row.note = force_reason;
  db.upsert_subject(subject);
  db.add_welfare(row);
  return row;
}

model::WaterGiven record_water(store::Store& db, const task::Subject& subject, double volume_ul, const std::string& kind,
                               const std::string& who) {
  if (!std::isfinite(volume_ul) || volume_ul <= 0.0 || volume_ul > 5000.0) {
    throw InputError(subject.id + ": water given at once is a volume in (0, 5000] uL (the unit is microlitres); nothing recorded");
  }
  const model::WaterKind* parsed = model::value_of(model::kWaterKindNames, kind);
  if (!parsed || *parsed == model::WaterKind::kSession) {
    throw InputError(subject.id + ": the kind of water given by hand is topup, gel or free, not '" + kind + "'");
  }
  model::WaterGiven row;
  row.subject_id = subject.id;
  row.given_at_unix_us = db.now_unix_us();
  row.volume_ul = volume_ul;
  row.kind = *parsed;
  row.who = who.empty() ? login_name() : who;
  db.upsert_subject(subject);
  db.add_welfare(row);
  return row;
}

task::WelfareStatus welfare_at(const std::string& db_path, const task::Subject& subject) {
  std::error_code ec;
  if (!std::filesystem::exists(db_path, ec)) {
    return task::welfare_status(subject, {}, {}, {}, local_today(), local_day_of);
  }
  const store::Store db = store::Store::open(db_path, store::OpenOptions::reading());
  return read_welfare(db, subject, local_today());
}

namespace {

// The operator's answer, asked until it is a weight that can be recorded; nullopt when the input ended.
std::optional<double> ask_weight(const WeightSource& source, const task::Subject& subject, std::optional<double> last) {
  char last_text[48] = "";
  if (last) std::snprintf(last_text, sizeof last_text, " (last: %.1f g)", *last);
  std::string prompt = "Weight of " + subject.id + " today, in grams" + last_text + ": ";
  for (;;) {
    const std::string answer = source.ask(prompt);
    if (answer.empty()) return std::nullopt;
    char* end = nullptr;
    const double grams = std::strtod(answer.c_str(), &end);
    while (end && *end == ' ') ++end;
    const bool number = end != answer.c_str() && end && *end == '\0';
    const auto problem = number ? task::weight_problem(grams, last, false) : std::optional<std::string>("not a number");
    if (!problem) return grams;
    prompt = "  " + *problem + ". Weight in grams: ";
  }
}

}  // namespace

WeightCheck check_weight_before_session(store::Store& db, const task::Subject& subject, const WeightSource& source,
                                        const store::SubjectElsewhere* elsewhere) {
  const auto today = local_today();
  const std::string who = source.who.empty() ? login_name() : source.who;
  auto status = read_welfare(db, subject, today, elsewhere);
  const bool weighed_before = !source.weight_g && status.weighed_today();
  std::string how;
  if (source.weight_g) {
    record_weighing(db, subject, *source.weight_g, false, who);
    how = "given at the start";
  } else if (weighed_before) {
    how = "weighed earlier today";
  } else if (source.simulated_body) {
    // A simulated subject on the simulated rig needs nobody at the terminal (README command (a), the tests).
    record_weighing(db, subject, task::simulated_body_weight_g(subject, today), false, "simulated body");
    how = "the simulated body's";
  } else {
    const std::optional<double> answer = source.ask ? ask_weight(source, subject, last_weight_g(db, subject, elsewhere)) : std::nullopt;
    if (!answer) {
      throw InputError(subject.id + " has not been weighed today: weigh it and give the weight with --weight GRAMS "
                       "(or `rig weigh " + subject.id + " GRAMS` first)");
    }
    record_weighing(db, subject, *answer, false, who);
    how = "entered at the start";
  }
  // Every way but an earlier weighing today recorded one: the day is read again with it.
  if (!weighed_before) status = read_welfare(db, subject, today, elsewhere);

  nlohmann::json detail = {{"weight_g", *status.weight_today_g},
                           {"source", how},
                           {"baseline_g", status.baseline ? nlohmann::json(status.baseline->weight_g) : nlohmann::json(nullptr)},
                           {"baseline_source", status.baseline ? nlohmann::json(status.baseline->source) : nlohmann::json(nullptr)},
                           {"percent_of_baseline", model::optional_json(status.percent_of_baseline)},
                           {"min_weight_percent", status.min_weight_percent},
                           {"under_threshold", status.under_threshold},
                           {"override_reason", source.override_reason.empty() ? nlohmann::json(nullptr)
                                                                              : nlohmann::json(source.override_reason)}};
  if (status.under_threshold && source.override_reason.empty()) {
    char text[400];
    std::snprintf(text, sizeof text,
                  "%s weighs %.1f g today, %.0f%% of its baseline %.1f g (%s): under its threshold of %.0f%%. It must "
                  "not train today. To run anyway, state why: --override-weight \"REASON\" (stored with the session)",
                  subject.id.c_str(), *status.weight_today_g, *status.percent_of_baseline, status.baseline->weight_g,
                  status.baseline->source.c_str(), status.min_weight_percent);
    throw WelfareRefusal(text);
  }
  return {std::move(detail), std::move(status)};
}

}  // namespace rig::app
