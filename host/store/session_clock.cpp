#include "host/store/session_clock.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace rig::store {
namespace {

// Whether any of `times` lies in (after, up_to].
bool any_between(const std::vector<std::int64_t>& times, std::int64_t after, std::int64_t up_to) {
  return std::any_of(times.begin(), times.end(), [&](std::int64_t t) { return t > after && t <= up_to; });
}

}  // namespace

SessionClock::Builder::Builder(std::vector<std::int64_t> reset_engine_us, std::vector<std::int64_t> resume_unix_us)
    : reset_engine_us_(std::move(reset_engine_us)), resume_unix_us_(std::move(resume_unix_us)) {}

void SessionClock::Builder::add(const model::TrialRecord& trial) {
  bool new_segment = segments_.empty();
  if (previous_) {
    new_segment = any_between(reset_engine_us_, previous_->planned_at_us, trial.planned_at_us) ||
                  any_between(resume_unix_us_, previous_->committed_at_unix_us, trial.committed_at_unix_us) ||
                  (trial.armed_device_us && previous_armed_us_ && *trial.armed_device_us < *previous_armed_us_);
  }
  if (new_segment) {
    segments_.push_back({trial.trial_number, 0, 0, false});
    previous_armed_us_.reset();
  }
  auto& segment = segments_.back();
  if (!segment.anchored && trial.armed_device_us) {
    segment.device_anchor_us = *trial.armed_device_us;
    segment.engine_anchor_us = trial.planned_at_us;
    segment.anchored = true;
  }
  if (trial.armed_device_us) previous_armed_us_ = trial.armed_device_us;
  previous_ = trial;
}

SessionClock SessionClock::Builder::finish() && {
  SessionClock clock;
  clock.segments_ = std::move(segments_);
  if (clock.segments_.empty()) clock.segments_.push_back({});
  return clock;
}

std::size_t SessionClock::segment_of_trial(std::uint32_t trial_number) const {
  const auto after = std::upper_bound(segments_.begin(), segments_.end(), trial_number,
                                      [](std::uint32_t n, const Segment& s) { return n < s.first_trial_number; });
  return after == segments_.begin() ? 0 : static_cast<std::size_t>(after - segments_.begin() - 1);
}

void SessionClock::use_ephys_clock(std::function<double(std::int64_t)> device_to_ephys_s) {
  if (segments_.size() > 1) {
    throw std::invalid_argument("the session spans " + std::to_string(segments_.size()) +
                                " boots of the device (its clock restarted); an alignment to one recording needs "
                                "a session of one boot");
  }
  device_to_ephys_s_ = std::move(device_to_ephys_s);
}

double SessionClock::seconds(std::size_t segment, std::int64_t device_us) const {
  if (device_to_ephys_s_) return device_to_ephys_s_(device_us);
  const auto& s = segments_.at(std::min(segment, segments_.size() - 1));
  return static_cast<double>(s.engine_anchor_us + (device_us - s.device_anchor_us)) / 1e6;
}

double SessionClock::engine_seconds(std::size_t segment, std::int64_t engine_us) const {
  const auto& s = segments_.at(std::min(segment, segments_.size() - 1));
  return seconds(segment, s.device_anchor_us + (engine_us - s.engine_anchor_us));
}

std::size_t SegmentTracker::place(std::optional<std::uint32_t> trial_number, std::int64_t device_us) {
  std::size_t segment = current_;
  if (trial_number) segment = std::max(segment, clock_.segment_of_trial(*trial_number));
  if (segment == current_ && last_device_us_ && device_us < *last_device_us_) {
    segment = std::min(current_ + 1, clock_.segment_count() - 1);
  }
  current_ = segment;
  last_device_us_ = device_us;
  return segment;
}

}  // namespace rig::store
