// A simavr board with a scripted host that has completed the handshake: the starting point of every
// scenario and benchmark.
#pragma once

#include <string>

#include "host/sim/scripted_host.hpp"
#include "simavr_board.hpp"

namespace rig::device {

using SimavrHost = sim::ScriptedHost<SimavrBoard>;

struct SimavrSession {
  SimavrBoard board;
  SimavrHost host;
  explicit SimavrSession(const std::string& elf) : board(elf), host(board) {
    board.run_for(5000);
    host.hello();
  }
};

}  // namespace rig::device
