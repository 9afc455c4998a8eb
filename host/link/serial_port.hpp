// Opening a port is the only seam between real boards and simulated ones: libserialport for a USB serial
// device, termios for a pseudo-terminal (libserialport refuses ptys). Both return a file descriptor that
// Boost.Asio drives; everything above is the same code.
#pragma once

#include <memory>
#include <string>
#include <vector>

struct sp_port;

namespace rig::link {

constexpr int kBaudRate = 250000;

// A candidate board found on USB.
struct PortInfo {
  std::string path;         // e.g. /dev/ttyACM0
  std::string description;  // as the USB device names itself
  int usb_vid = -1;
  int usb_pid = -1;
  bool likely_arduino = false;  // VID/PID of an Arduino Mega or a common clone's USB-serial chip
};

// Lists serial ports, likely Arduino boards first. Throws std::runtime_error if enumeration fails.
// Thread-safe.
std::vector<PortInfo> list_ports();

// An open port. Owns the descriptor (and the libserialport handle for real devices); closes on destruction.
class OpenPort {
 public:
  OpenPort(int fd, sp_port* port, std::string path, bool is_pty);
  ~OpenPort();
  OpenPort(const OpenPort&) = delete;
  OpenPort& operator=(const OpenPort&) = delete;

  // Gives the descriptor away (to an Asio stream_descriptor, which will close it). Call once.
  int release_fd();
  const std::string& path() const { return path_; }
  bool is_pty() const { return is_pty_; }

 private:
  int fd_;
  sp_port* port_;
  std::string path_;
  bool is_pty_;
};

// Keeps a pseudo-terminal's number taken between connections: a descriptor on its slave that is never read.
// The kernel gives a pty's number to the next pty once every descriptor on it is closed, so a host reconnecting by
// path to a simulator that died would otherwise open some other simulator's pty (and read the bytes meant for
// that one's own host); while held, opening the dead one's path fails instead. Not thread-safe.
class PtyHold {
 public:
  PtyHold() = default;
  ~PtyHold() { release(); }
  PtyHold(const PtyHold&) = delete;
  PtyHold& operator=(const PtyHold&) = delete;
  // Holds `path` (an open pty: open it first), releasing a different one held before; no-op if held already.
  // A hold that cannot be taken is no hold (the connection works without it).
  void hold(const std::string& path);
  void release();

 private:
  int fd_ = -1;
  std::string path_;
};

// Opens `path` raw at kBaudRate 8N1, no flow control, DTR asserted (which resets an Arduino Mega: the
// firmware then announces itself). A /dev/pts/N path is opened with termios. Non-blocking descriptor.
// Throws std::runtime_error naming the path and the reason. Thread-safe.
std::unique_ptr<OpenPort> open_port(const std::string& path);

// Reads the first line of `file` (where a simulated device publishes its pty path). Returns "" if the file
// does not exist yet. Thread-safe.
std::string read_path_file(const std::string& file);

}  // namespace rig::link
