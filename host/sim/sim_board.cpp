#include "host/sim/sim_board.hpp"

#include <algorithm>

#include "firmware/wire/board.hpp"

namespace rig {
namespace sim {

core::BoardInfo simulated_board_info(uint32_t boot_id) {
  core::BoardInfo info;
  info.build_id = "rig-sim-" RIG_FIRMWARE_VERSION;
  info.boot_id = boot_id;
  info.clock_hz = 16000000;
  info.encoder_ticks_per_rev = 4096;
  // The reference board's pin map, so a simulated rig's config is checked as a real one's.
  info.pin_encoder_a = wire::kPinEncoderA;
  info.pin_encoder_b = wire::kPinEncoderB;
  info.pin_valve_cherry = wire::kPinValveCherry;
  info.pin_valve_grape = wire::kPinValveGrape;
  info.pin_cue = wire::kPinCue;
  info.pin_sync = wire::kPinSync;
  info.pin_camera = wire::kPinCamera;
  info.pin_lick_cherry = wire::kPinLickCherry;
  info.pin_lick_grape = wire::kPinLickGrape;
  info.hal_kind = wire::HalKind::kSimulated;
  return info;
}

SimBoard::SimBoard(uint32_t boot_id, uint32_t loop_period_us, uint64_t start_us)
    : hal_(start_us), device_(hal_, simulated_board_info(boot_id)), loop_period_us_(std::max<uint32_t>(1, loop_period_us)) {
  device_.begin(hal_.now_us());
}

void SimBoard::run_until(uint64_t t_us) {
  while (hal_.time_us() < t_us) {
    hal_.advance_to(std::min(t_us, hal_.time_us() + loop_period_us_));
    device_.poll(hal_.now_us());
  }
}

std::vector<DeviceFrame> SimBoard::receive() {
  std::vector<DeviceFrame> frames;
  for (uint8_t byte : hal_.host_receive()) {
    wire::FrameView view;
    if (host_decoder_.push(byte, view) == wire::FrameDecoder::Status::kFrame) {
      frames.push_back(DeviceFrame{view.type, view.seq,
                                   std::vector<uint8_t>(view.payload, view.payload + view.payload_size)});
    }
  }
  return frames;
}

}  // namespace sim
}  // namespace rig
