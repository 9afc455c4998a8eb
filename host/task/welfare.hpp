// The animal's welfare day by day: its baseline weight, today's weight as a share of it, the water it got
// (sessions and by hand) against the day's target and minimum, and whether it may train. Pure logic: the caller
// reads the store and says what day it is and which day a time falls on (the host's time zone).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "host/model/welfare.hpp"
#include "host/task/subject.hpp"

namespace rig::task {

// The day (host's local calendar) a time falls on, from microseconds since the Unix epoch.
using LocalDay = std::function<std::chrono::sys_days(std::int64_t unix_us)>;

// A weighing more than this share away from the last one is refused unless forced (a typo, or the wrong mouse).
inline constexpr double kMaxWeightJump = 0.5;
// Days in a subject's history table (`rig subject`).
inline constexpr int kWelfareHistoryDays = 14;

struct Baseline {
  double weight_g = 0.0;
  std::string source;        // "subjects file", "weighing of 2026-11-20", "mean of the first 3 weighings"
  bool provisional = false;  // the mean of fewer weighings than welfare.baseline_weighings
};

struct WelfareDay {
  std::chrono::sys_days day;
  std::optional<double> weight_g;  // the day's last weighing
  double session_ul = 0.0;         // rewards of the day's trials
  double by_hand_ul = 0.0;         // top-up, gel and free water given that day
};

struct WelfareStatus {
  std::string subject_id;
  std::optional<Baseline> baseline;
  std::optional<double> weight_today_g;     // today's last weighing
  std::optional<double> percent_of_baseline;
  double min_weight_percent = 80.0;
  bool under_threshold = false;             // weighed today, under min_weight_percent of the baseline
  double target_ul = 0.0;                   // the day's target and minimum (docs/config.md, `welfare`)
  double minimum_ul = 0.0;
  double session_today_ul = 0.0;
  double by_hand_today_ul = 0.0;
  double owed_ul = 0.0;                     // what is still missing to reach the minimum today
  std::vector<WelfareDay> days;             // the last kWelfareHistoryDays, oldest first, today last

  double total_today_ul() const { return session_today_ul + by_hand_today_ul; }
  bool weighed_today() const { return weight_today_g.has_value(); }
};

// The baseline (WelfareSettings: stated, else the last weighing marked baseline, else the mean of the first
// baseline_weighings weighings, provisional while fewer exist), or nullopt with no weighing. `weighings` in time
// order. Pure.
std::optional<Baseline> baseline_weight(const Subject& subject, const std::vector<model::Weighing>& weighings,
                                        const LocalDay& local_day);

// The subject's day: `weighings` and `water` are its rows in time order; `session_ul_by_day` the rewards of its
// trials per local day (the store counts each trial on the day it was committed). Pure.
WelfareStatus welfare_status(const Subject& subject, const std::vector<model::Weighing>& weighings,
                             const std::vector<model::WaterGiven>& water,
                             const std::map<std::chrono::sys_days, double>& session_ul_by_day,
                             std::chrono::sys_days today, const LocalDay& local_day);

// Why `weight_g` cannot be recorded (not a positive finite weight in (0, 1000] g; more than kMaxWeightJump away
// from `last_g` unless `forced`), or nullopt. Pure.
std::optional<std::string> weight_problem(double weight_g, std::optional<double> last_g, bool forced);

// The weight a simulated subject's body shows on `day`: welfare.simulated_weight_g within +-1.5%, the same for a
// subject and a day whatever the machine. Pure.
double simulated_body_weight_g(const Subject& subject, std::chrono::sys_days day);

// "2026-11-30". Pure.
std::string day_text(std::chrono::sys_days day);

// {subject, baseline: {weight_g, source, provisional} | null, weight_today_g, percent_of_baseline,
// min_weight_percent, under_threshold, weighed_today, water: {target_ul, minimum_ul, session_today_ul,
// by_hand_today_ul, total_today_ul, owed_ul}, days: [{day, weight_g, session_ul, by_hand_ul}], flags: [...]}.
// Pure.
nlohmann::json welfare_json(const WelfareStatus& status);
// What needs the operator's attention: "under threshold", "unweighed today", "owed N uL". Pure.
std::vector<std::string> welfare_flags(const WelfareStatus& status);

}  // namespace rig::task
