// The hardware seen by the firmware core: clock, valves, cue, encoder fast path, pulse-train outputs (sync,
// camera trigger), lick inputs, UART. Two backends:
// avr_hal (the ATmega2560 registers and interrupts) and sim_hal (a simulated board for tests and the
// virtual MCU). C++14, C headers only.
#ifndef RIG_HAL_HAL_HPP
#define RIG_HAL_HAL_HPP

#include <stddef.h>
#include <stdint.h>

#include "firmware/core/fast_path.hpp"

namespace rig {
namespace hal {

// Pulse-train outputs, each made by a timer's compare unit: the pin changes at the compare match, never in
// software, so a rising edge happens exactly at its scheduled device time.
constexpr uint8_t kTrainSync = 0;
constexpr uint8_t kTrainCamera = 1;
constexpr uint8_t kTrainCount = 2;
constexpr uint8_t kTrainIntervalSlots = 4;  // rising-to-rising intervals queued ahead by the main loop
constexpr uint8_t kTrainRiseSlots = 8;      // captured rising edges awaiting the main loop

// Lick inputs: spout 0 cherry, 1 grape.
constexpr uint8_t kLickInputCount = 2;
constexpr uint8_t kLickEdgeSlots = 16;  // captured raw edges awaiting the main loop

// A raw level change of a lick input, timed in its interrupt.
struct LickInputEdge {
  uint32_t t_us;
  uint8_t spout;
  uint8_t high;
};

// Implementations own the encoder interrupt path (a core::FastPath fed at every encoder edge, which opens
// valves on a threshold crossing by itself) and the valve timers (each open valve closes by itself when
// its time is up). Everything else is called from the main loop only.
class Hal {
 public:
  // Free-running device clock in microseconds (wraps every 2^32 us).
  virtual uint32_t now_us() = 0;

  // Masks / unmasks the encoder and timer interrupts around main-loop access to fast_path(). Not nestable.
  virtual void lock() = 0;
  virtual void unlock() = 0;
  // The encoder path; access it only between lock() and unlock().
  virtual core::FastPath& fast_path() = 0;
  // Wheel position and invalid-transition count, read with interrupts masked for as short as possible
  // (masked time delays the choice interrupt, so the main loop prefers this to lock()).
  virtual void read_encoder(int32_t* position_ticks, uint16_t* invalid_transitions) = 0;

  // Opens the valves in `valve_mask` together now; valve v closes by itself after open_us[v] microseconds.
  // Returns the device time at which they opened. Valves already open are left as they are.
  virtual uint32_t open_valves(uint8_t valve_mask, const uint32_t open_us[wire::kValveCount]) = 0;
  // Closes every valve now and cancels their timers.
  virtual void close_all_valves() = 0;
  // Valves open right now (bit per valve).
  virtual uint8_t open_valve_mask() = 0;

  // Drives go-cue output `cue_id` (0 is the only cue on the reference board; others are ignored).
  virtual void set_cue(uint8_t cue_id, bool on) = 0;

  // Pulse trains (line kTrainSync or kTrainCamera). train_start stops the line's train and schedules its
  // first rising edge at device time first_rise_us (at least kMinPulseGapUs from now, at most one second);
  // every pulse is width_us high (kMinPulseWidthUs..kMaxPulseWidthUs); each later rising edge comes one queued
  // interval after the one before. When a pulse ends with no interval queued the train stops (the main loop
  // keeps intervals queued). train_stop ends it now, the pin low.
  virtual void train_start(uint8_t line, uint32_t first_rise_us, uint32_t width_us) = 0;
  virtual void train_stop(uint8_t line) = 0;
  // Free interval slots (0..kTrainIntervalSlots), and queues one interval (longer than width + kMinPulseGapUs).
  virtual uint8_t train_interval_room(uint8_t line) = 0;
  virtual void train_push_interval(uint8_t line, uint32_t interval_us) = 0;
  // Moves up to `capacity` captured rising edges (device times, oldest first) into `rise_us`; returns how
  // many. `*lost` gets the edges the capture ring could not keep since the last call.
  virtual uint8_t train_take_rises(uint8_t line, uint32_t* rise_us, uint8_t capacity, uint16_t* lost) = 0;

  // Lick inputs: turns both inputs' edge interrupts on or off (off drops edges not yet taken).
  virtual void licks_enable(bool on) = 0;
  // Moves up to `capacity` captured edges, oldest first, into `out`; returns how many. `*lost` gets the
  // edges the capture ring could not keep since the last call.
  virtual uint8_t take_lick_edges(LickInputEdge* out, uint8_t capacity, uint16_t* lost) = 0;
  // The inputs' levels now, bit per spout.
  virtual uint8_t lick_levels() = 0;

  // UART: non-blocking. read copies up to `capacity` received bytes; write_space is how many bytes write
  // accepts now; write queues `size` bytes (never more than write_space()).
  virtual size_t uart_read(uint8_t* out, size_t capacity) = 0;
  virtual size_t uart_write_space() = 0;
  virtual void uart_write(const uint8_t* data, size_t size) = 0;
  // Receive bytes lost to a full receive buffer or a hardware overrun since boot.
  virtual uint16_t uart_rx_overruns() = 0;

 protected:
  ~Hal() {}
};

// RAII lock of the encoder path.
class Locked {
 public:
  explicit Locked(Hal& hal) : hal_(hal) { hal_.lock(); }
  ~Locked() { hal_.unlock(); }
  Locked(const Locked&) = delete;
  Locked& operator=(const Locked&) = delete;

 private:
  Hal& hal_;
};

}  // namespace hal
}  // namespace rig

#endif
