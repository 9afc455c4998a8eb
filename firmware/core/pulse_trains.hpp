// The two pulse-train outputs as the main loop runs them: the sync line (random intervals, every rising
// edge reported in SyncEdges) and the camera trigger (a fixed rate, its start and its count reported in
// CameraFrames). The HAL's timer makes every edge; these classes keep its interval queue filled and report
// the edges it captured.
#ifndef RIG_CORE_PULSE_TRAINS_HPP
#define RIG_CORE_PULSE_TRAINS_HPP

#include <stdint.h>
#include <string.h>

#include "firmware/core/command_status.hpp"
#include "firmware/core/time.hpp"
#include "firmware/hal/hal.hpp"
#include "firmware/wire/limits.hpp"
#include "firmware/wire/messages.hpp"

namespace rig {
namespace core {

// xorshift32 (Marsaglia 2003): the sync intervals' generator; cheap on an 8-bit MCU, and the host can
// reproduce a train from its seed.
class XorShift32 {
 public:
  void seed(uint32_t s) { state_ = s == 0 ? 1u : s; }
  uint32_t next() {
    uint32_t x = state_;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    state_ = x;
    return x;
  }

 private:
  uint32_t state_ = 1;
};

// The sync line. Edge indices count every rising edge made since boot, across restarts. Not thread-safe;
// main loop only.
class SyncOutput {
 public:
  // Applies SetSync at `now_us`: starts (or restarts) the train, its first edge kSyncStartDelayUs later, or
  // stops it. kBadArgument (detail: field number) if an interval or the width is out of range; nothing
  // changes then.
  CommandStatus configure(const wire::SetSync& m, uint32_t now_us, hal::Hal& hal) {
    if (m.enabled != 0) {
      if (m.min_interval_us < wire::kMinSyncIntervalUs || m.min_interval_us > m.max_interval_us) {
        return CommandStatus{wire::AckStatus::kBadArgument, 2};
      }
      if (m.max_interval_us > wire::kMaxSyncIntervalUs) return CommandStatus{wire::AckStatus::kBadArgument, 3};
      if (m.width_us < wire::kMinPulseWidthUs || m.width_us > wire::kMaxPulseWidthUs ||
          !wire::pulse_leaves_gap(m.width_us, m.min_interval_us)) {
        return CommandStatus{wire::AckStatus::kBadArgument, 4};
      }
    }
    hal.train_stop(hal::kTrainSync);
    running_ = m.enabled != 0;
    if (!running_) return kCommandOk;
    min_us_ = m.min_interval_us;
    span_us_ = m.max_interval_us - m.min_interval_us;
    rng_.seed(m.seed);
    hal.train_start(hal::kTrainSync, now_us + wire::kSyncStartDelayUs, m.width_us);
    feed(hal);
    return kCommandOk;
  }

  // Main loop at `now_us`: keeps intervals queued and collects the captured edges. Returns true with `out`
  // filled when a batch is due: kSyncEdgesMax edges, the oldest waited kSyncFlushUs, or the next edge
  // follows a gap (edges of one batch are consecutive).
  bool poll(uint32_t now_us, hal::Hal& hal, wire::SyncEdges* out) {
    if (running_) feed(hal);
    bool gap_next = false;
    while (batch_.count < wire::kSyncEdgesMax) {
      if (!have_next_) {
        uint16_t lost = 0;
        const uint8_t taken = hal.train_take_rises(hal::kTrainSync, &next_rise_us_, 1, &lost);
        next_index_ += lost;
        if (taken == 0) break;
        have_next_ = true;
        next_gap_ = lost > 0;
      }
      if (next_gap_ && batch_.count > 0) {
        gap_next = true;
        break;
      }
      if (batch_.count == 0) batch_.first_edge_index = next_index_;
      batch_.rise_t_us[batch_.count++] = next_rise_us_;
      ++next_index_;
      have_next_ = false;
      next_gap_ = false;
    }
    if (batch_.count == 0) return false;
    const bool due = gap_next || batch_.count == wire::kSyncEdgesMax ||
                     elapsed_us(now_us, batch_.rise_t_us[0]) >= static_cast<int32_t>(wire::kSyncFlushUs);
    if (!due) return false;
    memcpy(out, &batch_, sizeof(batch_));
    batch_.count = 0;
    return true;
  }

 private:
  void feed(hal::Hal& hal) {
    while (hal.train_interval_room(hal::kTrainSync) > 0) {
      const uint32_t jitter = span_us_ == 0 ? 0 : rng_.next() % (span_us_ + 1);
      hal.train_push_interval(hal::kTrainSync, min_us_ + jitter);
    }
  }

  wire::SyncEdges batch_ = {};
  XorShift32 rng_;
  uint32_t min_us_ = wire::kDefaultSyncMinIntervalUs;
  uint32_t span_us_ = 0;
  uint32_t next_index_ = 0;  // index of the next edge to enter a batch
  uint32_t next_rise_us_ = 0;
  bool have_next_ = false;   // an edge taken from the HAL that waits for the next batch
  bool next_gap_ = false;    // edges were lost just before it
  bool running_ = false;
};

// The camera trigger. Not thread-safe; main loop only.
class CameraTrigger {
 public:
  // Applies SetCamera at `now_us`: starts (or restarts) the trigger, its first frame kSyncStartDelayUs
  // later, or stops it. A running trigger's CameraFrames "stopped" is reported before a restart's "started".
  // kBadArgument (detail: field number) if the period or the width is out of range; nothing changes then.
  CommandStatus configure(const wire::SetCamera& m, uint32_t now_us, hal::Hal& hal) {
    if (m.period_us != 0) {
      if (m.period_us < wire::kMinCameraPeriodUs || m.period_us > wire::kMaxCameraPeriodUs) {
        return CommandStatus{wire::AckStatus::kBadArgument, 1};
      }
      if (m.width_us < wire::kMinPulseWidthUs || m.width_us > wire::kMaxPulseWidthUs ||
          !wire::pulse_leaves_gap(m.width_us, m.period_us)) {
        return CommandStatus{wire::AckStatus::kBadArgument, 2};
      }
    }
    if (state_ != kStopped) {
      hal.train_stop(hal::kTrainCamera);
      collect(hal);
      stopped_ = report(wire::CameraEvent::kStopped);
      stop_pending_ = true;
      state_ = kStopped;
    }
    if (m.period_us == 0) return kCommandOk;
    period_us_ = m.period_us;
    frames_ = 0;
    state_ = kStarting;
    hal.train_start(hal::kTrainCamera, now_us + wire::kSyncStartDelayUs, m.width_us);
    feed(hal);
    return kCommandOk;
  }

  // Main loop: keeps the period queued and counts frames. Returns true with `out` filled when the trigger
  // has started (its first frame was made) or stopped.
  bool poll(hal::Hal& hal, wire::CameraFrames* out) {
    if (stop_pending_) {
      stop_pending_ = false;
      *out = stopped_;
      return true;
    }
    if (state_ == kStopped) return false;
    feed(hal);
    collect(hal);
    if (state_ == kStarting && frames_ > 0) {
      state_ = kRunning;
      *out = report(wire::CameraEvent::kStarted);
      return true;
    }
    return false;
  }

 private:
  enum State : uint8_t { kStopped, kStarting, kRunning };

  void feed(hal::Hal& hal) {
    while (hal.train_interval_room(hal::kTrainCamera) > 0) hal.train_push_interval(hal::kTrainCamera, period_us_);
  }

  void collect(hal::Hal& hal) {
    uint32_t rises[hal::kTrainRiseSlots];
    uint16_t lost = 0;
    const uint8_t n = hal.train_take_rises(hal::kTrainCamera, rises, hal::kTrainRiseSlots, &lost);
    // The timer makes every frame one period after the one before: frame k is at first + k * period.
    if (frames_ == 0 && n > 0) first_us_ = rises[0] - lost * period_us_;
    frames_ += lost + n;
  }

  wire::CameraFrames report(wire::CameraEvent event) const {
    wire::CameraFrames f = {};
    f.event = static_cast<uint8_t>(event);
    f.first_frame_t_us = frames_ > 0 ? first_us_ : 0;
    f.period_us = period_us_;
    f.frame_count = frames_;
    f.last_frame_t_us = frames_ > 0 ? first_us_ + (frames_ - 1) * period_us_ : 0;
    return f;
  }

  State state_ = kStopped;
  uint32_t period_us_ = 0;
  uint32_t first_us_ = 0;
  uint32_t frames_ = 0;
  bool stop_pending_ = false;
  wire::CameraFrames stopped_ = {};
};

}  // namespace core
}  // namespace rig

#endif
