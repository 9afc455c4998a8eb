// The device end of a private pseudo-terminal: what a simulated board (virtual MCU, simavr) exposes so a
// host, or a person with a terminal program, can open it like a USB serial port.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace rig::device {

// Non-blocking read of what `fd` has, up to `capacity` bytes; 0 when nothing (or an error). Thread-safe.
size_t read_available(int fd, uint8_t* out, size_t capacity);
// Non-blocking write of as much of `data` as `fd` takes now; returns the bytes written. Thread-safe.
size_t write_what_fits(int fd, const uint8_t* data, size_t size);

// Opens a new pty pair in raw mode and keeps its slave side open too, so the master never reads EIO when
// the host closes and reopens the port. Not thread-safe; one owner. Closes both ends on destruction.
class PtyEndpoint {
 public:
  // Throws std::system_error if no pty can be allocated.
  PtyEndpoint();
  ~PtyEndpoint();
  PtyEndpoint(const PtyEndpoint&) = delete;
  PtyEndpoint& operator=(const PtyEndpoint&) = delete;

  // The path a host opens (/dev/pts/N).
  const std::string& path() const { return path_; }
  int fd() const { return master_; }

  // Non-blocking: copies up to `capacity` bytes the host wrote; 0 when none.
  size_t read(uint8_t* out, size_t capacity);
  // Non-blocking: writes what fits in the pty buffer; the rest is dropped and counted (a host that does
  // not read loses data, like a USB serial adapter would).
  void write(const uint8_t* data, size_t size);
  uint64_t dropped_bytes() const { return dropped_bytes_; }

  // Writes the path to `file` atomically (config::write_file_atomically), for tests and scripts to pick up.
  // Throws std::runtime_error naming the file on failure.
  void publish_path(const std::string& file) const;

 private:
  int master_ = -1;
  int slave_ = -1;
  std::string path_;
  uint64_t dropped_bytes_ = 0;
};

}  // namespace rig::device
