// The encoder interrupt path: quadrature decoding plus the choice trigger that turns a threshold crossing
// into open valves within microseconds, without waiting for the main loop.
#ifndef RIG_CORE_FAST_PATH_HPP
#define RIG_CORE_FAST_PATH_HPP

#include <stdint.h>

#include "firmware/core/quadrature.hpp"
#include "firmware/wire/messages.hpp"

namespace rig {
namespace core {

// Valve bit in a valve mask.
inline uint8_t valve_bit(wire::Valve valve) { return static_cast<uint8_t>(1u << static_cast<uint8_t>(valve)); }
constexpr uint8_t kAllValves = 0x03;

// What the trigger needs for one response window. Positions are absolute wheel positions in ticks.
struct ChoiceArm {
  int32_t left_limit_ticks = 0;   // a left choice when the position reaches this or less
  int32_t right_limit_ticks = 0;  // a right choice when the position reaches this or more
  bool left_counts = true;        // false on an instructed-right trial
  bool right_counts = true;       // false on an instructed-left trial
  uint8_t valves[2] = {0, 0};                     // valve mask to open, by side
  uint32_t open_us[2][wire::kValveCount] = {};    // open time by side and valve
};

// A threshold crossing captured in the interrupt path.
struct FiredChoice {
  wire::Side side = wire::Side::kLeft;
  int32_t position_ticks = 0;
  uint32_t t_us = 0;        // device time read right after the valves were driven (same interrupt)
  uint8_t valves = 0;       // valves that were opened
  bool wrong_side_crossed = false;
};

// Shared by the encoder interrupt (on_edge, on_fired_at) and the main loop (everything else). The main loop
// must call its methods with the encoder and timer interrupts masked (Hal::lock); the interrupt path never
// blocks and does a bounded amount of work.
class FastPath {
 public:
  static constexpr uint8_t kFired = 0x80;

  void reset(uint8_t ab) {
    decoder_.reset(ab);
    armed_ = false;
    fired_ = false;
    wrong_side_ = false;
  }

  // Interrupt path, at every encoder edge with the new levels ab = (A << 1) | B. Returns 0, or kFired | the
  // valve mask to open now. After a non-zero return the caller drives the valves, reads the clock and
  // calls on_fired_at(); the open times to schedule are open_us_for(valve).
  __attribute__((always_inline)) uint8_t on_edge(uint8_t ab) {
    if (decoder_.update(ab) == 0 || !armed_) return 0;
    const int32_t position = decoder_.position_ticks();
    if (position >= arm_.right_limit_ticks) {
      if (arm_.right_counts) return fire(wire::Side::kRight, position);
      wrong_side_ = true;
    } else if (position <= arm_.left_limit_ticks) {
      if (arm_.left_counts) return fire(wire::Side::kLeft, position);
      wrong_side_ = true;
    }
    return 0;
  }

  // Interrupt path: the time at which the valves of the fired choice were driven.
  void on_fired_at(uint32_t t_us) { fired_choice_.t_us = t_us; }

  // Interrupt path: open time of `valve` for the fired choice.
  uint32_t open_us_for(uint8_t valve) const { return arm_.open_us[static_cast<uint8_t>(fired_choice_.side)][valve]; }

  // Main loop (locked): starts watching for a crossing.
  void arm(const ChoiceArm& arm) {
    arm_ = arm;
    fired_ = false;
    wrong_side_ = false;
    armed_ = true;
  }

  // Main loop (locked): stops watching. Returns true if a choice fired and has not been taken yet.
  bool disarm() {
    armed_ = false;
    return fired_;
  }

  // Main loop (locked): moves a fired choice into `out` once. Returns false if none is pending.
  bool take_fired(FiredChoice* out) {
    if (!fired_) return false;
    *out = fired_choice_;
    out->wrong_side_crossed = wrong_side_;
    fired_ = false;
    return true;
  }

  // Main loop, without locking: whether a choice may be waiting (a one-byte read cannot tear). Lock and
  // take_fired() only when this says so, so the response window costs no masked time per loop.
  bool fired_pending() const { return *static_cast<const volatile bool*>(&fired_); }

  bool wrong_side_crossed() const { return wrong_side_; }
  bool armed() const { return armed_; }
  int32_t position_ticks() const { return decoder_.position_ticks(); }
  uint16_t invalid_transitions() const { return decoder_.invalid_transitions(); }

 private:
  __attribute__((always_inline)) uint8_t fire(wire::Side side, int32_t position) {
    armed_ = false;
    fired_ = true;
    fired_choice_.side = side;
    fired_choice_.position_ticks = position;
    fired_choice_.valves = arm_.valves[static_cast<uint8_t>(side)];
    return static_cast<uint8_t>(kFired | fired_choice_.valves);
  }

  QuadratureDecoder decoder_;
  ChoiceArm arm_;
  FiredChoice fired_choice_;
  bool armed_ = false;
  bool fired_ = false;
  bool wrong_side_ = false;
};

}  // namespace core
}  // namespace rig

#endif
