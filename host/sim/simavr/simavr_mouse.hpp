// The simulated mouse (host/sim/sim_mouse.hpp) on the real firmware in simavr.
#pragma once

#include <vector>

#include "host/sim/sim_mouse.hpp"
#include "simavr_board.hpp"

namespace rig::device {

// Adapts a SimavrBoard to the mouse: pin changes come from the board's recorded output edges (pin 13 cue,
// 11 cherry, 12 grape) at their CPU cycle, and each wheel step is one quadrature edge on the encoder pins.
// Takes over output_edges(): each take_pin_changes() consumes and clears them. Not thread-safe, like the board.
class SimavrMouseAdapter final : public sim::MouseBoard {
 public:
  explicit SimavrMouseAdapter(SimavrBoard& board) : board_(board) {}

  uint64_t now_us() const override { return board_.now_us(); }
  void run_until(uint64_t t_us) override { board_.run_until(t_us); }
  void step_wheel(int direction) override;
  void set_lick(uint8_t spout, bool high) override;
  std::vector<sim::PinChange> take_pin_changes() override;

 private:
  SimavrBoard& board_;
};

}  // namespace rig::device
