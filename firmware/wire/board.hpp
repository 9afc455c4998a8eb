// The reference board's pin map (Arduino Mega 2560 board pin numbers): the AVR HAL drives these pins, the
// simulated board reports them, and the host checks a rig config's recording pins against them. One
// definition for both builds; C++14 with C headers only.
#ifndef RIG_WIRE_BOARD_HPP
#define RIG_WIRE_BOARD_HPP

#include <stdint.h>

namespace rig {
namespace wire {

constexpr uint8_t kPinEncoderA = 2, kPinEncoderB = 3;
constexpr uint8_t kPinValveCherry = 11, kPinValveGrape = 12, kPinCue = 13;
constexpr uint8_t kPinSync = 6, kPinCamera = 46;              // compare outputs OC4A (Timer4), OC5A (Timer5)
constexpr uint8_t kPinLickCherry = 49, kPinLickGrape = 48;    // Timer4 and Timer5 input capture ICP4, ICP5

}  // namespace wire
}  // namespace rig

#endif
