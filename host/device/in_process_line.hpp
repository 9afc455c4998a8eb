// A serial line inside one process, for a simulated board on simulated time: a connected pair of stream
// sockets. What one end writes is readable at the other as soon as the write returns (a pty hands bytes over
// through a kernel worker, some time later), so a simulation that alternates device and host sees the same
// bytes at the same simulated moment on every run.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rig::device {

// Not thread-safe: one owner (the simulation's thread).
class InProcessLine {
 public:
  InProcessLine() = default;  // unplugged
  ~InProcessLine();
  InProcessLine(const InProcessLine&) = delete;
  InProcessLine& operator=(const InProcessLine&) = delete;

  // Plugs in a new cable: the device end of a new socket pair replaces the old one (whose host end then reads
  // end-of-file). Returns the host end, non-blocking and close-on-exec, which the caller owns. Throws
  // std::system_error when no socket pair can be made.
  int plug();

  // Non-blocking: up to `capacity` bytes the host wrote; 0 when none or unplugged.
  size_t read(uint8_t* out, size_t capacity);
  // Non-blocking: what does not fit (a host that does not read) or finds no cable is dropped and counted.
  void write(const uint8_t* data, size_t size);
  uint64_t dropped_bytes() const { return dropped_bytes_; }

 private:
  int device_ = -1;
  uint64_t dropped_bytes_ = 0;
};

}  // namespace rig::device
