// The ATmega2560 (Arduino Mega 2560) backend of the HAL. Pin map (valves and encoder on different ports,
// because a write to a PORT register re-applies pull-ups on that port's inputs in simavr):
//   encoder A  PE4 / INT4 / board pin 2     encoder B  PE5 / INT5 / board pin 3   (pull-ups on)
//   cherry     PB5 / board pin 11           grape      PB6 / board pin 12         go cue PB7 / pin 13 (LED)
//   sync  PH3 / OC4A / board pin 6          camera trigger PL3 / OC5A / board pin 46 (timer compare outputs)
//   lick cherry PL0 / ICP4 / board pin 49   lick grape PL1 / ICP5 / board pin 48   (driven by the sensor board;
//   the timers' input capture units latch each edge's tick in hardware)
//   UART0 (USB) 250000 baud 8N1.            Timer1 clk/8: the 0.5 us device clock and both valve timers.
//   Timer4 and Timer5 clk/8, started with Timer1 from the same prescaler reset, so TCNT4 == TCNT5 == TCNT1:
//   their compare units A make the sync (Timer4) and camera (Timer5) edges (an edge's time is its compare
//   value), their capture units time the lick edges.
#ifndef RIG_HAL_AVR_HAL_HPP
#define RIG_HAL_AVR_HAL_HPP

#include <stdint.h>

#include "firmware/hal/hal.hpp"
#include "firmware/wire/board.hpp"

namespace rig {
namespace hal {

constexpr uint32_t kUartBaud = 250000;
using wire::kPinCamera;
using wire::kPinCue;
using wire::kPinEncoderA;
using wire::kPinEncoderB;
using wire::kPinLickCherry;
using wire::kPinLickGrape;
using wire::kPinSync;
using wire::kPinValveCherry;
using wire::kPinValveGrape;

class AvrHal final : public Hal {
 public:
  // Configures pins, Timer1, the encoder interrupts and UART0. Call once with interrupts disabled.
  void init();

  uint32_t now_us() override;
  void lock() override;
  void unlock() override;
  core::FastPath& fast_path() override;
  void read_encoder(int32_t* position_ticks, uint16_t* invalid_transitions) override;
  uint32_t open_valves(uint8_t valve_mask, const uint32_t open_us[wire::kValveCount]) override;
  void close_all_valves() override;
  uint8_t open_valve_mask() override;
  void set_cue(uint8_t cue_id, bool on) override;
  size_t uart_read(uint8_t* out, size_t capacity) override;
  size_t uart_write_space() override;
  void uart_write(const uint8_t* data, size_t size) override;
  uint16_t uart_rx_overruns() override;
  void train_start(uint8_t line, uint32_t first_rise_us, uint32_t width_us) override;
  void train_stop(uint8_t line) override;
  uint8_t train_interval_room(uint8_t line) override;
  void train_push_interval(uint8_t line, uint32_t interval_us) override;
  uint8_t train_take_rises(uint8_t line, uint32_t* rise_us, uint8_t capacity, uint16_t* lost) override;
  void licks_enable(bool on) override;
  uint8_t take_lick_edges(LickInputEdge* out, uint8_t capacity, uint16_t* lost) override;
  uint8_t lick_levels() override;

  // A number that differs at every boot (an EEPROM boot counter).
  static uint32_t next_boot_id();

 private:
  uint8_t saved_sreg_ = 0;
};

}  // namespace hal
}  // namespace rig

#endif
