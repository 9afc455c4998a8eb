// The hardware seen by the firmware core: clock, valves, cue, encoder fast path, UART. Two backends:
// avr_hal (the ATmega2560 registers and interrupts) and sim_hal (a simulated board for tests and the
// virtual MCU). C++14, C headers only.
#ifndef RIG_HAL_HAL_HPP
#define RIG_HAL_HAL_HPP

#include <stddef.h>
#include <stdint.h>

#include "firmware/core/fast_path.hpp"

namespace rig {
namespace hal {

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
