#include "host/session/lick_raster.hpp"

#include <algorithm>
#include <cmath>

namespace rig::app {

void LickRaster::add(Open& open, wire::Valve spout, std::int64_t device_us) const {
  const std::int64_t offset_us = device_us - open.align_us;
  if (offset_us < -kLickRasterBeforeUs || offset_us > kLickRasterAfterUs) return;
  auto& onsets = open.row.onsets_ms[static_cast<std::size_t>(spout)];
  const auto ms = static_cast<std::int32_t>(std::lround(static_cast<double>(offset_us) / 1000.0));
  // Licks arrive in device order per spout, but a row seeded from the recent ones may get them out of turn.
  onsets.insert(std::upper_bound(onsets.begin(), onsets.end(), ms), ms);
}

void LickRaster::on_lick(const model::LickRecord& lick) {
  if (!lick.onset) return;
  saw_device_time(lick.device_us);
  for (Open& open : open_) add(open, lick.spout, lick.device_us);
  recent_.push_back(lick);
  // A lick this old cannot fall into the window of a trial still to come (whose alignment is after now minus
  // the link's delay, far less than the window).
  while (!recent_.empty() && recent_.front().device_us < newest_us_ - kLickRasterBeforeUs - kLickRasterAfterUs) {
    recent_.pop_front();
  }
}

void LickRaster::on_trial(const model::TrialRecord& trial) {
  const bool delivered_any = trial.delivered_cherry_open_us > 0 || trial.delivered_grape_open_us > 0;
  const std::optional<std::int64_t> align =
      delivered_any && trial.valve_open_device_us ? trial.valve_open_device_us : trial.choice_device_us;
  if (!align) return;
  Open open;
  open.align_us = *align;
  open.row.trial_number = trial.trial_number;
  open.row.valve_aligned = delivered_any && trial.valve_open_device_us.has_value();
  open.row.delivered = {trial.delivered_cherry_open_us > 0, trial.delivered_grape_open_us > 0};
  for (const model::LickRecord& lick : recent_) add(open, lick.spout, lick.device_us);
  open_.push_back(std::move(open));
  saw_device_time(*align);
}

void LickRaster::saw_device_time(std::int64_t device_us) { newest_us_ = std::max(newest_us_, device_us); }

std::vector<LickRasterRow> LickRaster::take_complete(bool all) {
  std::vector<LickRasterRow> done;
  while (!open_.empty() && (all || newest_us_ > open_.front().align_us + kLickRasterAfterUs)) {
    done.push_back(std::move(open_.front().row));
    open_.pop_front();
  }
  return done;
}

}  // namespace rig::app
