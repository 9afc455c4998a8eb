#include "simavr_board.hpp"

#include "firmware/core/quadrature.hpp"

#include <avr_ioport.h>
#include <avr_uart.h>
#include <sim_avr.h>
#include <sim_elf.h>
#include <sim_io.h>
#include <sim_irq.h>
#include <sim_cycle_timers.h>

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <sys/stat.h>

namespace rig::device {
namespace {

// The time one UART byte takes at 250 kbaud with the 11 bit-times simavr charges per byte.
constexpr uint64_t kCyclesPerByte = SimavrBoard::kFrequencyHz / 250000 * 11;

}  // namespace

namespace {
// simavr logs loader chatter at info level; keep only its warnings and errors, on stderr.
void quiet_logger(avr_t*, const int level, const char* format, va_list args) {
  if (level > LOG_WARNING) return;
  std::vfprintf(stderr, format, args);
}
}  // namespace

SimavrBoard::SimavrBoard(const std::string& elf_path) {
  avr_global_logger_set(quiet_logger);
  struct stat st {};
  if (stat(elf_path.c_str(), &st) != 0) {
    throw std::runtime_error(elf_path + ": firmware image not found (build it with cmake --build, or pass --elf)");
  }
  elf_firmware_t firmware{};
  if (elf_read_firmware(elf_path.c_str(), &firmware) != 0) {
    throw std::runtime_error(elf_path + ": not a readable AVR ELF image");
  }
  avr_ = avr_make_mcu_by_name("atmega2560");
  if (!avr_) throw std::runtime_error("simavr has no atmega2560 model");
  avr_init(avr_);
  avr_->frequency = kFrequencyHz;
  avr_->log = 0;
  avr_load_firmware(avr_, &firmware);
  flash_bytes_ = firmware.flashsize;
  ram_bytes_ = firmware.datasize + firmware.bsssize;

  // UART0: no console echo and no "sleep while the firmware polls" (it would distort simulated time).
  uint32_t flags = 0;
  avr_ioctl(avr_, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
  flags &= ~(AVR_UART_FLAG_STDIO | AVR_UART_FLAG_POLL_SLEEP);
  avr_ioctl(avr_, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
  uart_in_ = avr_io_getirq(avr_, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
  avr_irq_register_notify(avr_io_getirq(avr_, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT), on_uart_output, this);
  avr_irq_register_notify(avr_io_getirq(avr_, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON), on_xon, this);
  avr_irq_register_notify(avr_io_getirq(avr_, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF), on_xoff, this);

  // Encoder on PE4/PE5 (INT4/INT5), idle high as with the pull-ups.
  enc_a_ = avr_io_getirq(avr_, AVR_IOCTL_IOPORT_GETIRQ('E'), 4);
  enc_b_ = avr_io_getirq(avr_, AVR_IOCTL_IOPORT_GETIRQ('E'), 5);
  avr_raise_irq(enc_a_, 1);
  avr_raise_irq(enc_b_, 1);

  // Valves PB5 (pin 11), PB6 (pin 12), cue PB7 (pin 13); sync PH3 (pin 6) and camera PL3 (pin 46), driven by
  // the compare units of Timer4 and Timer5.
  const struct {
    char port;
    uint8_t bit;
    uint8_t pin;
  } watched[5] = {{'B', 5, 11}, {'B', 6, 12}, {'B', 7, 13}, {'H', 3, 6}, {'L', 3, 46}};
  for (int i = 0; i < 5; ++i) {
    pin_watch_[i] = PinWatch{this, watched[i].pin};
    avr_irq_register_notify(avr_io_getirq(avr_, AVR_IOCTL_IOPORT_GETIRQ(watched[i].port), watched[i].bit), on_pin,
                            &pin_watch_[i]);
  }

  // TCCR1B (data address 0x81 on the ATmega2560): the write that starts Timer1 starts the device clock.
  avr_register_io_write(avr_, 0x81, on_timer1_control, this);

  // Lick inputs PL0 (pin 49, ICP4) and PL1 (pin 48, ICP5), low (no tongue) at start.
  lick_in_[0] = avr_io_getirq(avr_, AVR_IOCTL_IOPORT_GETIRQ('L'), 0);
  lick_in_[1] = avr_io_getirq(avr_, AVR_IOCTL_IOPORT_GETIRQ('L'), 1);
  avr_raise_irq(lick_in_[0], 0);
  avr_raise_irq(lick_in_[1], 0);
}

SimavrBoard::~SimavrBoard() {
  if (avr_) avr_terminate(avr_);
}

uint64_t SimavrBoard::cycle() const { return avr_->cycle; }

void SimavrBoard::on_timer1_control(avr_t* avr, uint16_t, uint8_t value, void* param) {
  auto* self = static_cast<SimavrBoard*>(param);
  if (self->timer1_start_cycle_ == UINT64_MAX && (value & 0x07) != 0) self->timer1_start_cycle_ = avr->cycle;
}

double SimavrBoard::device_us_at(uint64_t c) const {
  if (timer1_start_cycle_ == UINT64_MAX || c < timer1_start_cycle_) return NAN;
  return static_cast<double>(c - timer1_start_cycle_) / kCyclesPerUs;
}

void SimavrBoard::run_until_cycle(uint64_t c) {
  while (avr_->cycle < c) {
    const int state = avr_run(avr_);
    if (state == cpu_Crashed) throw std::runtime_error("the firmware crashed in simavr");
    if (state == cpu_Done) throw std::runtime_error("the firmware stopped in simavr");
  }
}

void SimavrBoard::send_bytes(const uint8_t* data, size_t size) {
  input_.insert(input_.end(), data, data + size);
  if (!feeding_) {
    feeding_ = true;
    avr_cycle_timer_register(avr_, 1, feed_uart, this);
  }
}

uint64_t SimavrBoard::feed_uart(avr_t* avr, uint64_t when, void* param) {
  auto* self = static_cast<SimavrBoard*>(param);
  if (self->input_.empty()) {
    self->feeding_ = false;
    return 0;
  }
  if (self->uart_ready_) {
    avr_raise_irq(self->uart_in_, self->input_.front());
    self->input_.pop_front();
    self->last_input_cycle_ = avr->cycle;
  }
  return when + kCyclesPerByte;
}

void SimavrBoard::on_uart_output(avr_irq_t*, uint32_t value, void* param) {
  static_cast<SimavrBoard*>(param)->output_.push_back(static_cast<uint8_t>(value));
}
void SimavrBoard::on_xon(avr_irq_t*, uint32_t, void* param) { static_cast<SimavrBoard*>(param)->uart_ready_ = true; }
void SimavrBoard::on_xoff(avr_irq_t*, uint32_t, void* param) { static_cast<SimavrBoard*>(param)->uart_ready_ = false; }

void SimavrBoard::on_pin(avr_irq_t*, uint32_t value, void* param) {
  auto* watch = static_cast<PinWatch*>(param);
  SimavrBoard* self = watch->board;
  const bool high = (value & 0xFF) != 0;  // a timer's compare output adds AVR_IOPORT_OUTPUT
  if (self->pin_high_[watch->pin] == high) return;
  self->pin_high_[watch->pin] = high;
  if (watch->pin == 13) self->cue_on_ = high;
  if (watch->pin == 11 || watch->pin == 12) self->valve_high_[watch->pin - 11] = high;
  self->output_edges_.push_back(PinEdge{watch->pin, high, self->avr_->cycle});
}

std::vector<uint8_t> SimavrBoard::take_output() {
  std::vector<uint8_t> out;
  out.swap(output_);
  return out;
}

std::vector<sim::DeviceFrame> SimavrBoard::receive() {
  std::vector<sim::DeviceFrame> frames;
  for (uint8_t byte : take_output()) {
    wire::FrameView view;
    if (decoder_.push(byte, view) == wire::FrameDecoder::Status::kFrame) {
      frames.push_back(sim::DeviceFrame{view.type, view.seq,
                                        std::vector<uint8_t>(view.payload, view.payload + view.payload_size)});
    }
  }
  return frames;
}

void SimavrBoard::set_encoder(uint8_t ab) {
  const uint8_t changed = static_cast<uint8_t>(ab ^ ab_);
  ab_ = ab;
  if (changed & 0b10) avr_raise_irq(enc_a_, (ab >> 1) & 1);
  if (changed & 0b01) avr_raise_irq(enc_b_, ab & 1);
  edge_cycles_.push_back(avr_->cycle);
}

void SimavrBoard::move_wheel(int32_t delta_ticks, uint32_t edge_period_cycles, uint32_t first_delay_cycles) {
  const bool was_idle = edges_.empty();
  for (int32_t i = 0; i < std::abs(delta_ticks); ++i) edges_.push_back(delta_ticks > 0 ? 1 : -1);
  edge_period_cycles_ = edge_period_cycles;
  if (was_idle && !edges_.empty()) avr_cycle_timer_register(avr_, first_delay_cycles, drive_encoder, this);
}

uint64_t SimavrBoard::drive_encoder(avr_t*, uint64_t when, void* param) {
  auto* self = static_cast<SimavrBoard*>(param);
  if (self->edges_.empty()) return 0;
  const int8_t step = self->edges_.front();
  self->edges_.pop_front();
  self->set_encoder(core::quadrature_step(self->ab_, step > 0 ? 1 : -1));
  if (self->edges_.empty()) return 0;
  return when + self->edge_period_cycles_;
}

void SimavrBoard::set_lick(uint8_t spout, bool high) {
  if (spout > 1) return;
  avr_raise_irq(lick_in_[spout], high ? 1 : 0);
  lick_driven_.push_back(LickDrive{avr_->cycle, spout, high});
}

void SimavrBoard::schedule_licks(const std::vector<LickDrive>& edges) {
  const bool was_idle = lick_plan_.empty();
  for (const LickDrive& e : edges) {
    if (e.cycle <= avr_->cycle) throw std::invalid_argument("schedule_licks: an edge is not in the future");
    if (!lick_plan_.empty() && e.cycle < lick_plan_.back().cycle) {
      throw std::invalid_argument("schedule_licks: edges must be in time order");
    }
    lick_plan_.push_back(e);
  }
  if (was_idle && !lick_plan_.empty()) avr_cycle_timer_register(avr_, lick_plan_.front().cycle - avr_->cycle, drive_licks, this);
}

uint64_t SimavrBoard::drive_licks(avr_t* avr, uint64_t when, void* param) {
  auto* self = static_cast<SimavrBoard*>(param);
  while (!self->lick_plan_.empty() && self->lick_plan_.front().cycle <= avr->cycle) {
    const LickDrive e = self->lick_plan_.front();
    self->lick_plan_.pop_front();
    self->set_lick(e.spout, e.high);
  }
  if (self->lick_plan_.empty()) return 0;
  return std::max(when + 1, self->lick_plan_.front().cycle);
}

void SimavrBoard::glitch_encoder() { set_encoder(core::quadrature_step(ab_, 2)); }

std::vector<hal::SimValvePulse> SimavrBoard::valve_log() const {
  std::vector<hal::SimValvePulse> log;
  size_t open_index[2] = {SIZE_MAX, SIZE_MAX};
  for (const PinEdge& e : output_edges_) {
    if (e.pin != 11 && e.pin != 12) continue;
    const uint8_t valve = static_cast<uint8_t>(e.pin - 11);
    if (e.high) {
      open_index[valve] = log.size();
      log.push_back(hal::SimValvePulse{valve, e.cycle / kCyclesPerUs, 0});
    } else if (open_index[valve] != SIZE_MAX) {
      log[open_index[valve]].close_us = e.cycle / kCyclesPerUs;
      open_index[valve] = SIZE_MAX;
    }
  }
  return log;
}

}  // namespace rig::device
