#include "simavr_mouse.hpp"

#include "firmware/wire/board.hpp"

namespace rig::device {

void SimavrMouseAdapter::step_wheel(int direction) {
  // One edge, one cycle from now: the mouse already spaces its steps in time.
  board_.move_wheel(direction > 0 ? 1 : -1, SimavrBoard::kCyclesPerUs, 1);
}

std::vector<sim::PinChange> SimavrMouseAdapter::take_pin_changes() {
  std::vector<sim::PinChange> changes;
  for (const PinEdge& edge : board_.output_edges()) {
    if (edge.pin != wire::kPinCue && edge.pin != wire::kPinValveCherry && edge.pin != wire::kPinValveGrape) continue;
    const sim::MousePin pin = edge.pin == 13 ? sim::MousePin::kCue
                              : edge.pin == 11 ? sim::MousePin::kCherry
                                               : sim::MousePin::kGrape;
    changes.push_back({pin, edge.high, edge.cycle / SimavrBoard::kCyclesPerUs});
  }
  board_.clear_output_edges();
  return changes;
}

void SimavrMouseAdapter::set_lick(uint8_t spout, bool high) { board_.set_lick(spout, high); }

}  // namespace rig::device
