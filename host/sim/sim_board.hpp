// A whole simulated board: the firmware core (Device) on the simulated HAL, with a main loop that runs in
// simulated time, and a host-side frame codec. Used by the tests and by the virtual MCU. Host-only.
#ifndef RIG_SIM_SIM_BOARD_HPP
#define RIG_SIM_SIM_BOARD_HPP

#include <cstdint>
#include <cstring>
#include <vector>

#include "firmware/core/device.hpp"
#include "firmware/hal/sim_hal.hpp"
#include "firmware/wire/wire.hpp"

namespace rig {
namespace sim {

// A frame the device sent, decoded.
struct DeviceFrame {
  uint8_t type;
  uint16_t seq;
  std::vector<uint8_t> payload;

  template <typename Message>
  bool as(Message& out) const {
    if (type != Message::kId || payload.size() != sizeof(Message)) return false;
    std::memcpy(&out, payload.data(), sizeof(Message));
    return true;
  }
};

// The board description the virtual MCU reports (same pins as the Arduino Mega build).
core::BoardInfo simulated_board_info(uint32_t boot_id);

// Not thread-safe: one thread owns the board.
class SimBoard {
 public:
  // `loop_period_us` is the simulated main-loop period (the AVR loop runs every ~10-50 us).
  explicit SimBoard(uint32_t boot_id = 1, uint32_t loop_period_us = 20, uint64_t start_us = 0);

  hal::SimHal& hal() { return hal_; }
  core::Device& device() { return device_; }
  const core::Device& device() const { return device_; }
  uint64_t now_us() const { return hal_.time_us(); }

  // Runs the main loop until simulated time `t_us` (one iteration per loop period; valves close exactly on
  // time in between).
  void run_until(uint64_t t_us);
  void run_for(uint64_t duration_us) { run_until(now_us() + duration_us); }

  // Host side: encodes and delivers a message to the device's UART.
  template <typename Message>
  void send(const Message& msg, uint16_t seq) {
    uint8_t out[wire::kMaxEncodedFrame];
    const size_t n = wire::encode_message(msg, seq, out, sizeof(out));
    hal_.host_send(out, n);
  }
  void send_bytes(const std::vector<uint8_t>& bytes) { hal_.host_send(bytes.data(), bytes.size()); }

  // Host side: every complete frame the device sent since the last call, decoded (invalid ones counted).
  std::vector<DeviceFrame> receive();
  const wire::DropCounters& host_drops() const { return host_decoder_.drops(); }

 private:
  hal::SimHal hal_;
  core::Device device_;
  uint32_t loop_period_us_;
  wire::FrameDecoder host_decoder_;
};

}  // namespace sim
}  // namespace rig

#endif
