#include "host/session/alert_rules.hpp"

#include <cmath>
#include <cstdio>

namespace rig::app {
namespace {

constexpr double kUsPerMinute = 60e6;

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

}  // namespace

std::vector<AlertDraft> welfare_alerts(const task::WelfareStatus& day) {
  std::vector<AlertDraft> out;
  if (day.under_threshold) {
    char text[200];
    std::snprintf(text, sizeof text, "weighs %.1f g today, %.0f%% of its baseline: under its threshold of %.0f%%",
                  *day.weight_today_g, *day.percent_of_baseline, day.min_weight_percent);
    out.push_back({model::AlertKind::kUnderThreshold, text});
  }
  if (day.owed_ul > 0.0) {
    char text[200];
    std::snprintf(text, sizeof text, "is owed %.0f uL of water today (%.0f of a minimum of %.0f uL so far): give a top-up and record it",
                  std::ceil(day.owed_ul), day.total_today_ul(), day.minimum_ul);
    out.push_back({model::AlertKind::kWaterOwed, text});
  }
  return out;
}

std::vector<AlertDraft> SessionAlertRules::on_started(std::int64_t now_us) {
  running_ = true;
  started_us_ = now_us;
  last_trial_us_ = now_us;
  return {};
}

std::vector<AlertDraft> SessionAlertRules::on_trial(bool chose, std::int64_t now_us) {
  last_trial_us_ = now_us;
  idle_said_ = false;
  if (chose) {
    misses_in_a_row_ = 0;
    disengaged_said_ = false;
    return {};
  }
  ++misses_in_a_row_;
  if (misses_in_a_row_ < settings_.disengaged_trials || disengaged_said_) return {};
  disengaged_said_ = true;
  return {{model::AlertKind::kDisengaged, "the mouse has not chosen in " + std::to_string(misses_in_a_row_) +
                                              " trials in a row: it may be sated, asleep or stuck; check it"}};
}

std::vector<AlertDraft> SessionAlertRules::on_link(bool connected, std::int64_t now_us) {
  if (connected) {
    lost_since_us_.reset();
    lost_said_ = false;
  } else if (!lost_since_us_) {
    lost_since_us_ = now_us;
  }
  return {};
}

std::vector<AlertDraft> SessionAlertRules::on_fault(const std::string& text, std::int64_t) {
  if (!faults_said_.insert(text).second) return {};
  return {{model::AlertKind::kFault, "the device reported a fault: " + text + " (said once per session)"}};
}

std::vector<AlertDraft> SessionAlertRules::on_finished(const std::string& reason, bool error, std::int64_t) {
  running_ = false;
  if (!error) return {};
  return {{model::AlertKind::kSessionFailed, "the session ended by a failure: " + reason + "; the mouse needs attention"}};
}

std::vector<AlertDraft> SessionAlertRules::tick(std::int64_t now_us) {
  std::vector<AlertDraft> out;
  if (!running_) return out;
  if (lost_since_us_ && !lost_said_ && now_us - *lost_since_us_ > static_cast<std::int64_t>(settings_.device_lost_s * 1e6)) {
    lost_said_ = true;
    out.push_back({model::AlertKind::kDeviceLost, "the device has been away for more than " + number(settings_.device_lost_s) +
                                                      " s (unplugged, powered off, or crashed): valves are closed; check the rig"});
  }
  if (last_trial_us_ && !idle_said_ && now_us - *last_trial_us_ > static_cast<std::int64_t>(settings_.idle_minutes * kUsPerMinute)) {
    idle_said_ = true;
    out.push_back({model::AlertKind::kIdle, "no trial has completed for " + number(settings_.idle_minutes) +
                                                " min: check the mouse and the rig"});
  }
  if (planned_minutes_ && started_us_ && !overrun_said_ &&
      now_us - *started_us_ > static_cast<std::int64_t>((*planned_minutes_ + settings_.overrun_minutes) * kUsPerMinute)) {
    overrun_said_ = true;
    out.push_back({model::AlertKind::kOverrun, "the session is still running " + number(settings_.overrun_minutes) +
                                                   " min past its planned " + number(*planned_minutes_) +
                                                   " min: is the mouse still on the rig?"});
  }
  return out;
}

}  // namespace rig::app
