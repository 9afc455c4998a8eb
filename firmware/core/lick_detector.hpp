// The two lick inputs as the main loop sees them: raw edges timed in their interrupt are debounced here and
// reported as onsets and offsets in LickEdges.
#ifndef RIG_CORE_LICK_DETECTOR_HPP
#define RIG_CORE_LICK_DETECTOR_HPP

#include <stdint.h>
#include <string.h>

#include "firmware/core/command_status.hpp"
#include "firmware/core/time.hpp"
#include "firmware/hal/hal.hpp"
#include "firmware/wire/limits.hpp"
#include "firmware/wire/messages.hpp"

namespace rig {
namespace core {

// Debounce: a new level counts once it has held for debounce_us; it is reported at the time of the raw edge
// that began it. A level that returns before debounce_us is a glitch: counted, never reported. Edges the
// capture ring lost count as glitches too. Not thread-safe; main loop only.
class LickDetector {
 public:
  // Applies SetLicks: turns the inputs on (their present levels are the starting state, counters from 0) or
  // off. kBadArgument (detail 2) if the debounce is out of range; nothing changes then.
  CommandStatus configure(const wire::SetLicks& m, hal::Hal& hal) {
    if (m.enabled != 0 && (m.debounce_us < wire::kMinDebounceUs || m.debounce_us > wire::kMaxDebounceUs)) {
      return CommandStatus{wire::AckStatus::kBadArgument, 2};
    }
    hal.licks_enable(false);
    enabled_ = m.enabled != 0;
    if (!enabled_) return kCommandOk;
    debounce_us_ = m.debounce_us;
    const uint8_t levels = hal.lick_levels();
    for (uint8_t s = 0; s < hal::kLickInputCount; ++s) {
      inputs_[s].stable = static_cast<uint8_t>((levels >> s) & 1u);
      inputs_[s].pending = false;
    }
    if (batch_.count == 0) batch_.first_index = next_index_;
    glitches_ = 0;
    hal.licks_enable(true);
    return kCommandOk;
  }

  // Main loop at `now_us`: debounces the captured edges. Returns true with `out` filled when a batch is due
  // (kLickEdgesMax edges, or the oldest waited kLickFlushUs).
  bool poll(uint32_t now_us, hal::Hal& hal, wire::LickEdges* out) {
    bool drained = !enabled_;
    while (enabled_ && batch_.count < wire::kLickEdgesMax) {
      hal::LickInputEdge edge;
      uint16_t lost = 0;
      const uint8_t n = hal.take_lick_edges(&edge, 1, &lost);
      glitches_ = static_cast<uint16_t>(glitches_ + lost);
      if (n == 0) {
        drained = true;
        break;
      }
      on_edge(edge);
    }
    // Confirm what has held long enough, once every captured edge is in (an edge still in the ring could end it).
    for (uint8_t s = 0; s < hal::kLickInputCount && drained; ++s) {
      Input& in = inputs_[s];
      if (in.pending && batch_.count < wire::kLickEdgesMax &&
          elapsed_us(now_us, in.pending_t_us) >= static_cast<int32_t>(debounce_us_)) {
        confirm(s);
      }
    }
    if (batch_.count == 0) return false;
    const bool due = batch_.count == wire::kLickEdgesMax ||
                     elapsed_us(now_us, batch_.t_us[0]) >= static_cast<int32_t>(wire::kLickFlushUs);
    if (!due) return false;
    batch_.glitches = glitches_;
    memcpy(out, &batch_, sizeof(batch_));
    batch_.count = 0;
    batch_.first_index = next_index_;
    return true;
  }

  bool enabled() const { return enabled_; }

 private:
  struct Input {
    uint8_t stable = 0;
    bool pending = false;
    uint8_t pending_level = 0;
    uint32_t pending_t_us = 0;
  };

  void on_edge(const hal::LickInputEdge& edge) {
    if (edge.spout >= hal::kLickInputCount) return;
    Input& in = inputs_[edge.spout];
    const uint8_t level = edge.high != 0 ? 1 : 0;
    if (in.pending && elapsed_us(edge.t_us, in.pending_t_us) >= static_cast<int32_t>(debounce_us_)) {
      confirm(edge.spout);
    }
    if (in.pending) {
      if (level != in.pending_level) {
        in.pending = false;  // back before the debounce: a glitch
        ++glitches_;
      }
      return;
    }
    if (level == in.stable) return;  // a repeat of the level held (an edge the interrupt saw late)
    in.pending = true;
    in.pending_level = level;
    in.pending_t_us = edge.t_us;
  }

  // Reports input `s`'s pending level as a lick edge. The batch has room (callers check or it was emptied).
  void confirm(uint8_t s) {
    Input& in = inputs_[s];
    in.pending = false;
    in.stable = in.pending_level;
    if (batch_.count >= wire::kLickEdgesMax) return;
    uint8_t kind = s == 1 ? wire::kLickGrape : 0;
    if (in.stable != 0) kind = static_cast<uint8_t>(kind | wire::kLickOnset);
    batch_.kind[batch_.count] = kind;
    batch_.t_us[batch_.count] = in.pending_t_us;
    ++batch_.count;
    ++next_index_;
  }

  Input inputs_[hal::kLickInputCount];
  wire::LickEdges batch_ = {};
  uint16_t next_index_ = 0;
  uint16_t glitches_ = 0;
  uint16_t debounce_us_ = wire::kDefaultDebounceUs;
  bool enabled_ = false;
};

}  // namespace core
}  // namespace rig

#endif
