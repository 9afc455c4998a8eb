// The real firmware .elf running in simavr, with its pins and UART0 exposed to the host program: bytes in
// and out of the UART, scripted encoder edges, and every valve/cue pin edge recorded by CPU cycle.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "firmware/hal/sim_hal.hpp"
#include "host/sim/sim_board.hpp"
#include "firmware/wire/wire.hpp"

struct avr_t;
struct avr_irq_t;

namespace rig::device {

// One edge of an output pin (valves, cue, sync, camera trigger).
struct PinEdge {
  uint8_t pin;  // board pin: 11 cherry, 12 grape, 13 cue, 6 sync, 46 camera
  bool high;
  uint64_t cycle;
};

// One scheduled or driven edge of a lick input (spout 0 cherry on pin 49, 1 grape on pin 48).
struct LickDrive {
  uint64_t cycle;
  uint8_t spout;
  bool high;
};

// Not thread-safe: one thread owns the board and runs the simulation.
class SimavrBoard {
 public:
  static constexpr uint32_t kFrequencyHz = 16000000;
  static constexpr uint32_t kCyclesPerUs = kFrequencyHz / 1000000;

  // Loads `elf_path` into a new ATmega2560 at 16 MHz. Throws std::runtime_error naming the file if it
  // cannot be read or is not an AVR ELF.
  explicit SimavrBoard(const std::string& elf_path);
  ~SimavrBoard();
  SimavrBoard(const SimavrBoard&) = delete;
  SimavrBoard& operator=(const SimavrBoard&) = delete;

  uint64_t cycle() const;
  // The device's microsecond clock at CPU cycle `c`: Timer1 counts 0.5 us ticks from the cycle the firmware
  // started it (seen as its write of TCCR1B), and the clock is ticks / 2. NaN before the timer started.
  double device_us_at(uint64_t c) const;
  uint64_t now_us() const { return cycle() / kCyclesPerUs; }
  // Runs the CPU until simulated time `t_us` / cycle `c`. Throws std::runtime_error if the CPU crashed.
  void run_until(uint64_t t_us) { run_until_cycle(t_us * kCyclesPerUs); }
  void run_for(uint64_t duration_us) { run_until(now_us() + duration_us); }
  void run_until_cycle(uint64_t c);

  // Host -> device bytes, fed into UART0 at the line rate (250 kbaud) while its receive FIFO has room.
  void send_bytes(const uint8_t* data, size_t size);
  template <typename Message>
  void send(const Message& msg, uint16_t seq) {
    uint8_t out[wire::kMaxEncodedFrame];
    const size_t n = wire::encode_message(msg, seq, out, sizeof(out));
    send_bytes(out, n);
  }
  size_t input_pending() const { return input_.size(); }
  // Cycle at which the last host byte entered the UART.
  uint64_t last_input_cycle() const { return last_input_cycle_; }

  // Device -> host: the raw bytes sent since the last call, or the frames decoded from them.
  std::vector<uint8_t> take_output();
  std::vector<sim::DeviceFrame> receive();

  // Schedules `delta_ticks` quadrature edges (sign = direction), the first `first_delay_cycles` from now,
  // then one every `edge_period_cycles`. Edges already scheduled run first.
  void move_wheel(int32_t delta_ticks, uint32_t edge_period_cycles = 800, uint32_t first_delay_cycles = 1);
  bool wheel_moving() const { return !edges_.empty(); }
  // Cycle of every encoder edge driven so far.
  const std::vector<uint64_t>& encoder_edge_cycles() const { return edge_cycles_; }
  // Fault: both encoder lines change at once.
  void glitch_encoder();

  // Lick inputs: drives a level now, or schedules edges at absolute cycles (after the ones already scheduled;
  // cycles must increase). Every edge driven is kept in lick_edges_driven().
  void set_lick(uint8_t spout, bool high);
  void schedule_licks(const std::vector<LickDrive>& edges);
  const std::vector<LickDrive>& lick_edges_driven() const { return lick_driven_; }

  const std::vector<PinEdge>& output_edges() const { return output_edges_; }
  void clear_output_edges() { output_edges_.clear(); }
  // Valve openings in microseconds, in the same form as the simulated HAL's log.
  std::vector<hal::SimValvePulse> valve_log() const;
  bool cue_on() const { return cue_on_; }
  bool valve_open(uint8_t valve) const { return valve_high_[valve]; }

  // Flash and RAM of the loaded image (text+data, data+bss), from the ELF.
  uint32_t flash_bytes() const { return flash_bytes_; }
  uint32_t ram_bytes() const { return ram_bytes_; }

 private:
  static uint64_t feed_uart(avr_t* avr, uint64_t when, void* param);
  static uint64_t drive_encoder(avr_t* avr, uint64_t when, void* param);
  static uint64_t drive_licks(avr_t* avr, uint64_t when, void* param);
  static void on_timer1_control(avr_t* avr, uint16_t addr, uint8_t value, void* param);
  static void on_uart_output(avr_irq_t* irq, uint32_t value, void* param);
  static void on_xon(avr_irq_t* irq, uint32_t value, void* param);
  static void on_xoff(avr_irq_t* irq, uint32_t value, void* param);
  static void on_pin(avr_irq_t* irq, uint32_t value, void* param);
  void set_encoder(uint8_t ab);

  avr_t* avr_ = nullptr;
  avr_irq_t* uart_in_ = nullptr;
  avr_irq_t* enc_a_ = nullptr;
  avr_irq_t* enc_b_ = nullptr;
  std::deque<uint8_t> input_;
  bool uart_ready_ = true;
  bool feeding_ = false;
  uint64_t last_input_cycle_ = 0;
  std::vector<uint8_t> output_;
  wire::FrameDecoder decoder_;
  struct PinWatch {
    SimavrBoard* board;
    uint8_t pin;
  };
  PinWatch pin_watch_[5];
  std::vector<PinEdge> output_edges_;
  bool pin_high_[64] = {};
  bool cue_on_ = false;
  bool valve_high_[2] = {false, false};
  avr_irq_t* lick_in_[2] = {nullptr, nullptr};
  std::deque<LickDrive> lick_plan_;
  std::vector<LickDrive> lick_driven_;
  uint8_t ab_ = 0b11;  // pull-ups: both lines idle high
  std::deque<int8_t> edges_;
  uint32_t edge_period_cycles_ = 800;
  std::vector<uint64_t> edge_cycles_;
  uint64_t timer1_start_cycle_ = UINT64_MAX;
  uint32_t flash_bytes_ = 0;
  uint32_t ram_bytes_ = 0;
};

}  // namespace rig::device
