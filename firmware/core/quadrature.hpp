// 4x quadrature decoding of the wheel encoder. Runs in the encoder interrupt path: no clock, no pins.
#ifndef RIG_CORE_QUADRATURE_HPP
#define RIG_CORE_QUADRATURE_HPP

#include <stdint.h>

namespace rig {
namespace core {

constexpr int8_t kQuadratureInvalid = 2;
// Position change indexed by (previous ab << 2) | next ab; kQuadratureInvalid when both levels changed.
constexpr int8_t kQuadratureDelta[16] = {
    0,  -1, +1, kQuadratureInvalid,  // from 00: to 01 is backward, to 10 forward
    +1, 0,  kQuadratureInvalid, -1,  // from 01: to 00 forward, to 11 backward
    -1, kQuadratureInvalid, 0,  +1,  // from 10: to 00 backward, to 11 forward
    kQuadratureInvalid, +1, -1, 0,   // from 11: to 01 forward, to 10 backward
};

// The levels after `ab` one step forward (+1: A leads B, 00 -> 10 -> 11 -> 01), backward (-1), or with both
// lines flipped (2: a missed edge). For simulators driving an encoder. Pure.
inline uint8_t quadrature_step(uint8_t ab, int8_t step) {
  static const uint8_t kForwardOrder[4] = {0x0, 0x2, 0x3, 0x1};
  uint8_t index = 0;
  while (index < 4 && kForwardOrder[index] != (ab & 3u)) ++index;
  return kForwardOrder[(index + 4 + step) % 4];
}

// Decodes the levels of channels A and B, packed as ab = (A << 1) | B, into a position in ticks (4 per
// encoder line). Channel A leading B (00 -> 10 -> 11 -> 01 -> 00) counts up (positive = rightward); swap
// the A and B wires to invert. A transition that changes both levels at once means an edge was missed: it
// is counted in invalid_transitions() and leaves the position unchanged, because its direction is unknown.
// Not thread-safe: one writer (the encoder ISR); readers must copy the position with interrupts masked.
class QuadratureDecoder {
 public:
  // Starts from the current levels `ab` (0..3) at position 0.
  void reset(uint8_t ab) {
    state_ = static_cast<uint8_t>(ab & 3u);
    position_ticks_ = 0;
    invalid_transitions_ = 0;
  }

  // Feeds the levels after an edge; returns the position change in ticks (-1, 0 or +1).
  __attribute__((always_inline)) int8_t update(uint8_t ab) {
    const uint8_t next = static_cast<uint8_t>(ab & 3u);
    const int8_t delta = kQuadratureDelta[(state_ << 2) | next];
    state_ = next;
    if (delta == kQuadratureInvalid) {
      if (invalid_transitions_ != 0xFFFFu) ++invalid_transitions_;
      return 0;
    }
    position_ticks_ += delta;
    return delta;
  }

  int32_t position_ticks() const { return position_ticks_; }
  uint16_t invalid_transitions() const { return invalid_transitions_; }

 private:
  uint8_t state_ = 0;
  int32_t position_ticks_ = 0;
  uint16_t invalid_transitions_ = 0;
};

}  // namespace core
}  // namespace rig

#endif
