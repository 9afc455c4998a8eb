#include "host/task/welfare.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "host/model/trial_json.hpp"

namespace rig::task {

std::string day_text(std::chrono::sys_days day) {
  const std::chrono::year_month_day ymd(day);
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return text;
}

std::optional<Baseline> baseline_weight(const Subject& subject, const std::vector<model::Weighing>& weighings,
                                        const LocalDay& local_day) {
  const WelfareSettings& w = subject.welfare;
  if (w.baseline_weight_g) return Baseline{*w.baseline_weight_g, "subjects file", false};
  for (auto it = weighings.rbegin(); it != weighings.rend(); ++it) {
    if (it->baseline) return Baseline{it->weight_g, "weighing of " + day_text(local_day(it->weighed_at_unix_us)), false};
  }
  if (weighings.empty()) return std::nullopt;
  const auto n = std::min<std::size_t>(weighings.size(), static_cast<std::size_t>(w.baseline_weighings));
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) sum += weighings[i].weight_g;
  return Baseline{sum / static_cast<double>(n),
                  n == 1 ? std::string("the first weighing") : "mean of the first " + std::to_string(n) + " weighings",
                  n < static_cast<std::size_t>(w.baseline_weighings)};
}

WelfareStatus welfare_status(const Subject& subject, const std::vector<model::Weighing>& weighings,
                             const std::vector<model::WaterGiven>& water,
                             const std::map<std::chrono::sys_days, double>& session_ul_by_day,
                             std::chrono::sys_days today, const LocalDay& local_day) {
  const WelfareSettings& w = subject.welfare;
  WelfareStatus s;
  s.subject_id = subject.id;
  s.baseline = baseline_weight(subject, weighings, local_day);
  s.min_weight_percent = w.min_weight_percent;

  const auto first_day = today - std::chrono::days(kWelfareHistoryDays - 1);
  for (auto day = first_day; day <= today; day += std::chrono::days(1)) {
    WelfareDay d;
    d.day = day;
    s.days.push_back(d);
  }
  const auto day_of = [&](std::int64_t unix_us) -> WelfareDay* {
    const auto day = local_day(unix_us);
    if (day < first_day || day > today) return nullptr;
    return &s.days[static_cast<std::size_t>((day - first_day).count())];
  };
  for (const model::Weighing& weighing : weighings) {
    if (WelfareDay* d = day_of(weighing.weighed_at_unix_us)) d->weight_g = weighing.weight_g;
  }
  // A session's row is the log of its total; its water counts through its trials, each on its own day.
  for (const model::WaterGiven& given : water) {
    if (given.kind == model::WaterKind::kSession) continue;
    if (WelfareDay* d = day_of(given.given_at_unix_us)) d->by_hand_ul += given.volume_ul;
  }
  for (WelfareDay& d : s.days) {
    if (const auto at = session_ul_by_day.find(d.day); at != session_ul_by_day.end()) d.session_ul = at->second;
  }

  const WelfareDay& now = s.days.back();
  s.weight_today_g = now.weight_g;
  s.session_today_ul = now.session_ul;
  s.by_hand_today_ul = now.by_hand_ul;
  if (s.baseline && s.weight_today_g) {
    s.percent_of_baseline = 100.0 * *s.weight_today_g / s.baseline->weight_g;
    s.under_threshold = *s.percent_of_baseline < w.min_weight_percent;
  }
  s.target_ul = subject.daily_water_target_ml * 1000.0;
  if (w.daily_water_target_ul_per_g && s.baseline) s.target_ul = *w.daily_water_target_ul_per_g * s.baseline->weight_g;
  if (w.daily_water_min_ml) {
    s.minimum_ul = *w.daily_water_min_ml * 1000.0;
  } else {
    s.minimum_ul = s.baseline ? w.daily_water_min_ul_per_g * s.baseline->weight_g : s.target_ul;
  }
  s.owed_ul = std::max(0.0, s.minimum_ul - s.total_today_ul());
  return s;
}

std::optional<std::string> weight_problem(double weight_g, std::optional<double> last_g, bool forced) {
  if (!std::isfinite(weight_g) || weight_g <= 0.0 || weight_g > 1000.0) {
    return "a weight must be a number of grams in (0, 1000]";
  }
  if (last_g && !forced && std::fabs(weight_g - *last_g) > kMaxWeightJump * *last_g) {
    char text[200];
    std::snprintf(text, sizeof text,
                  "%.1f g is more than %.0f%% away from the last weighing (%.1f g): check the mouse and the scale, "
                  "or record it with --force REASON",
                  weight_g, 100.0 * kMaxWeightJump, *last_g);
    return std::string(text);
  }
  return std::nullopt;
}

double simulated_body_weight_g(const Subject& subject, std::chrono::sys_days day) {
  // FNV-1a over the id and the day: a fixed, machine-independent wobble.
  std::uint64_t h = 1469598103934665603ull;
  const auto mix = [&h](std::uint64_t byte) { h = (h ^ byte) * 1099511628211ull; };
  for (const char c : subject.id) mix(static_cast<unsigned char>(c));
  const auto n = static_cast<std::uint64_t>(day.time_since_epoch().count());
  for (int i = 0; i < 8; ++i) mix((n >> (8 * i)) & 0xFF);
  const double unit = static_cast<double>(h % 10001) / 10000.0;  // [0, 1]
  return subject.welfare.simulated_weight_g * (1.0 + 0.03 * (unit - 0.5));
}

std::vector<std::string> welfare_flags(const WelfareStatus& s) {
  std::vector<std::string> flags;
  if (s.under_threshold) flags.push_back("under threshold");
  if (!s.weighed_today()) flags.push_back("unweighed today");
  if (s.owed_ul > 0.0) flags.push_back("owed " + std::to_string(static_cast<long>(std::ceil(s.owed_ul))) + " uL");
  return flags;
}

nlohmann::json welfare_json(const WelfareStatus& s) {
  nlohmann::json days = nlohmann::json::array();
  for (const auto& d : s.days) {
    days.push_back({{"day", day_text(d.day)},
                    {"weight_g", model::optional_json(d.weight_g)},
                    {"session_ul", d.session_ul},
                    {"by_hand_ul", d.by_hand_ul}});
  }
  nlohmann::json baseline = nullptr;
  if (s.baseline) {
    baseline = {{"weight_g", s.baseline->weight_g}, {"source", s.baseline->source}, {"provisional", s.baseline->provisional}};
  }
  return {{"subject", s.subject_id},
          {"baseline", std::move(baseline)},
          {"weight_today_g", model::optional_json(s.weight_today_g)},
          {"percent_of_baseline", model::optional_json(s.percent_of_baseline)},
          {"min_weight_percent", s.min_weight_percent},
          {"under_threshold", s.under_threshold},
          {"weighed_today", s.weighed_today()},
          {"water",
           {{"target_ul", s.target_ul},
            {"minimum_ul", s.minimum_ul},
            {"session_today_ul", s.session_today_ul},
            {"by_hand_today_ul", s.by_hand_today_ul},
            {"total_today_ul", s.total_today_ul()},
            {"owed_ul", s.owed_ul}}},
          {"days", std::move(days)},
          {"flags", welfare_flags(s)}};
}

}  // namespace rig::task
