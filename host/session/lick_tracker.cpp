#include "host/session/lick_tracker.hpp"

namespace rig::app {

void TrialLickTracker::on_armed(std::uint32_t trial_number) {
  for (Pending& p : pending_) p.counting = false;
  Pending next;
  next.update.trial_number = trial_number;
  pending_.push_back(next);
}

void TrialLickTracker::on_result(std::uint32_t trial_number, std::optional<std::int64_t> valve_open_device_us,
                                 const std::array<bool, wire::kValveCount>& delivered) {
  for (Pending& p : pending_) {
    if (p.update.trial_number != trial_number) continue;
    p.has_result = true;
    p.valve_open_us = valve_open_device_us;
    p.delivered = delivered;
    for (std::size_t v = 0; v < wire::kValveCount; ++v) {
      // A delivery not licked within the window stays "not consumed"; no delivery, no verdict.
      if (delivered[v] && valve_open_device_us) p.update.consumed[v] = false;
    }
  }
}

void TrialLickTracker::on_lick(const model::LickRecord& lick) {
  if (!lick.onset) return;
  const auto v = static_cast<std::size_t>(lick.spout);
  for (Pending& p : pending_) {
    if (p.counting && p.update.trial_number == lick.trial_number) ++p.update.licks[v];
    if (!p.has_result || !p.delivered[v] || !p.valve_open_us || p.update.first_lick_latency_us[v]) continue;
    const std::int64_t latency = lick.device_us - *p.valve_open_us;
    if (latency >= 0 && latency <= window_us_) {
      p.update.first_lick_latency_us[v] = latency;
      p.update.consumed[v] = true;
    }
  }
}

std::vector<model::TrialLickUpdate> TrialLickTracker::take_final(std::int64_t newest_device_us, bool all) {
  std::vector<model::TrialLickUpdate> done;
  while (!pending_.empty()) {
    const Pending& p = pending_.front();
    const bool window_over = !p.valve_open_us || newest_device_us > *p.valve_open_us + window_us_;
    if (!all && (p.counting || !p.has_result || !window_over)) break;
    if (p.has_result) done.push_back(p.update);
    pending_.pop_front();
  }
  return done;
}

}  // namespace rig::app
