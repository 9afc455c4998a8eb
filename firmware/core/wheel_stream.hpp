// The wheel position stream: samples on a fixed period, grouped into WheelBatch messages.
#ifndef RIG_CORE_WHEEL_STREAM_HPP
#define RIG_CORE_WHEEL_STREAM_HPP

#include <stdint.h>
#include <string.h>

#include "firmware/core/time.hpp"
#include "firmware/wire/limits.hpp"
#include "firmware/wire/messages.hpp"

namespace rig {
namespace core {

// Defaults and the shortest period, shared with the host (firmware/wire/limits.hpp).
using wire::kDefaultWheelBatch;
using wire::kDefaultWheelPeriodUs;
using wire::kMinWheelPeriodUs;

// Samples the position at t0 + i * period_us. A sample taken late (the main loop was busy) carries the
// position read when it was taken, at its nominal time. If the loop falls more than a batch behind, the
// missed samples are skipped and counted (skipped_samples()), never invented.
// Not thread-safe; main loop only.
class WheelStream {
 public:
  // Turns the stream on (period_us > 0) or off (0) from `now_us`. Returns false if the arguments are out
  // of range (period below kMinWheelPeriodUs, batch not 1..kWheelBatchMax); nothing changes then.
  bool configure(uint16_t period_us, uint8_t samples_per_batch, uint32_t now_us) {
    if (period_us != 0 && (period_us < kMinWheelPeriodUs || samples_per_batch == 0 ||
                           samples_per_batch > wire::kWheelBatchMax)) {
      return false;
    }
    period_us_ = period_us;
    per_batch_ = samples_per_batch;
    count_ = 0;
    next_sample_us_ = now_us;
    return true;
  }

  // Takes the samples due at `now_us`; when a batch is complete, fills `out` and returns true.
  bool poll(uint32_t now_us, int32_t position_ticks, wire::WheelBatch* out) {
    if (period_us_ == 0 || !reached(now_us, next_sample_us_)) return false;
    const uint32_t behind = static_cast<uint32_t>(elapsed_us(now_us, next_sample_us_)) / period_us_;
    if (behind > per_batch_) {
      // Too far behind: restart the grid at now rather than emit a burst of stale samples.
      skipped_samples_ += behind;
      next_sample_us_ = now_us;
      if (count_ > 0) return finish(out);
    }
    if (count_ == 0) {
      batch_.t0_us = next_sample_us_;
      batch_.position0_ticks = position_ticks;
      last_ticks_ = position_ticks;
    } else {
      int32_t delta = position_ticks - last_ticks_;
      if (delta > 32767) delta = 32767;
      if (delta < -32768) delta = -32768;
      batch_.delta_ticks[count_ - 1] = static_cast<int16_t>(delta);
      last_ticks_ += delta;
    }
    ++count_;
    next_sample_us_ += period_us_;
    if (count_ < per_batch_) return false;
    return finish(out);
  }

  // True when poll() would take a sample at `now_us`.
  bool due(uint32_t now_us) const { return period_us_ != 0 && reached(now_us, next_sample_us_); }

  uint16_t period_us() const { return period_us_; }
  uint32_t skipped_samples() const { return skipped_samples_; }

 private:
  bool finish(wire::WheelBatch* out) {
    batch_.batch_seq = batch_seq_++;
    batch_.period_us = period_us_;
    batch_.count = count_;
    for (uint8_t i = count_ > 0 ? static_cast<uint8_t>(count_ - 1) : 0; i < wire::kWheelBatchMax; ++i) {
      batch_.delta_ticks[i] = 0;
    }
    memcpy(out, &batch_, sizeof(batch_));
    count_ = 0;
    return true;
  }

  wire::WheelBatch batch_ = {};
  uint16_t period_us_ = 0;
  uint8_t per_batch_ = kDefaultWheelBatch;
  uint8_t count_ = 0;
  uint16_t batch_seq_ = 0;
  int32_t last_ticks_ = 0;
  uint32_t next_sample_us_ = 0;
  uint32_t skipped_samples_ = 0;
};

}  // namespace core
}  // namespace rig

#endif
