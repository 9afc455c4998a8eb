// The clock of an exported session (docs/data-format.md, "NWB"): every time the device stamped (microseconds
// since the device booted) as seconds from the session's start, so that trials, wheel, licks, valves, sync
// edges and camera frames of a session share one time axis.
//
// The device clock restarts when the device does (a reset during the session, or a session resumed on a device
// that booted since). A session is therefore cut into boot segments; within a segment, times are the device's
// own (exact to the microsecond, differences unchanged); each segment is placed on the session's axis by its
// first armed trial: device time armed_device_us is put at that trial's planned_at_us (the engine's clock:
// the host's time since the session started, compressed by a simulated rig's speed), which is later by the
// arm's transit over the link (about a millisecond on the bench).
//
// With an alignment to an ephys recording (a device-time-to-ephys-seconds map), times are the recording's
// instead; that needs a session of one segment (the sync edges of one boot).
//
// Pure: no files, no clocks. Not thread-safe while being built; const use afterwards is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "host/model/trial_record.hpp"

namespace rig::store {

class SessionClock {
 public:
  // One boot segment: its first trial and its anchor (device time placed at engine time).
  struct Segment {
    std::uint32_t first_trial_number = 0;
    std::int64_t device_anchor_us = 0;
    std::int64_t engine_anchor_us = 0;
    bool anchored = false;  // a trial of the segment had a device time (else device time 0 = engine time 0)
  };

  // Builds the clock from the session's trials, fed in trial order, and its restarts: the engine times of its
  // `device_reset` events and the wall-clock times (unix us) of its `session_resumed` events. A trial starts a
  // new segment when a reset lies between the previous trial's planning and its own, when a resume lies between
  // the previous trial's commit and its own, or when its arming is earlier on the device clock than the
  // previous trial's.
  class Builder {
   public:
    Builder(std::vector<std::int64_t> reset_engine_us, std::vector<std::int64_t> resume_unix_us);
    void add(const model::TrialRecord& trial);
    SessionClock finish() &&;

   private:
    std::vector<std::int64_t> reset_engine_us_;
    std::vector<std::int64_t> resume_unix_us_;
    std::vector<Segment> segments_;
    std::optional<model::TrialRecord> previous_;
    std::optional<std::int64_t> previous_armed_us_;
  };

  std::size_t segment_count() const { return segments_.size(); }
  const std::vector<Segment>& segments() const { return segments_; }
  // The segment `trial_number` belongs to (trials before the first: segment 0). Thread-safe (const).
  std::size_t segment_of_trial(std::uint32_t trial_number) const;
  // Puts the session on an ephys recording's clock: `device_to_ephys_s` maps device microseconds to the
  // recording's seconds. Throws std::invalid_argument when the session has more than one segment.
  void use_ephys_clock(std::function<double(std::int64_t)> device_to_ephys_s);
  bool on_ephys_clock() const { return static_cast<bool>(device_to_ephys_s_); }

  // `device_us` of segment `segment` in seconds on the file's axis (the session's start, or the recording's
  // zero). Thread-safe (const).
  double seconds(std::size_t segment, std::int64_t device_us) const;
  // An engine time (planned_at_us) in seconds on the same axis, through its segment's anchor.
  double engine_seconds(std::size_t segment, std::int64_t engine_us) const;

 private:
  std::vector<Segment> segments_;
  std::function<double(std::int64_t)> device_to_ephys_s_;
};

// Places rows of one recording stream (licks, sync edges or camera runs, in the order recorded) in the
// session's segments: a row belongs to its trial's segment, or to a later one when its device time went back
// (the device restarted before the next trial was armed). Not thread-safe.
class SegmentTracker {
 public:
  explicit SegmentTracker(const SessionClock& clock) : clock_(clock) {}
  // The segment of a row at `device_us`, recorded during `trial_number` (nullopt: the stream has no trial
  // numbers).
  std::size_t place(std::optional<std::uint32_t> trial_number, std::int64_t device_us);

 private:
  const SessionClock& clock_;
  std::size_t current_ = 0;
  std::optional<std::int64_t> last_device_us_;
};

}  // namespace rig::store
