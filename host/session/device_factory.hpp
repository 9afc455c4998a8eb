// Makes the Rig a session runs on: a real board on a serial port, the virtual MCU (in this process, behind a
// pty), or the real firmware in simavr (a rig-simavr child process, behind a pty). All three are the same
// SerialRig above the port; only what stands behind the pty differs.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>

#include "rig.hpp"
#include "host/sim/sim_mouse.hpp"

namespace rig::app {

enum class DeviceChoice { kSim, kSimavr, kSerial };

struct DeviceRequest {
  DeviceChoice kind = DeviceChoice::kSim;
  std::string serial_port;     // kSerial
  double speed = 1.0;          // kSim, kSimavr: simulated time per wall time
  uint64_t seed = 1;           // the simulated mouse
  std::unique_ptr<sim::Chooser> chooser;  // the simulated mouse's decisions (kSim, kSimavr uses its own)
  std::string simavr_program;  // path of rig-simavr
  std::string simavr_elf;      // firmware image for simavr ("" = rig-simavr's default)
};

// Owns the device behind the rig (virtual MCU thread or simavr process) and the SerialRig.
class DeviceHandle {
 public:
  virtual ~DeviceHandle() = default;
  virtual device::Rig& rig() = 0;
  // What the operator sees: "virtual MCU on /dev/pts/5 (speed 50x)" etc.
  virtual std::string describe() const = 0;
};

// Starts the device (not the rig: call rig().start()). Throws std::runtime_error with a clear message when
// the port, the pty or the child process cannot be set up. Call on the io_context's thread.
std::unique_ptr<DeviceHandle> make_device(boost::asio::io_context& io, DeviceRequest request);

}  // namespace rig::app
