#include "serial_port.hpp"

#include <libserialport.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <stdexcept>
#include <termios.h>
#include <unistd.h>

namespace rig::link {
namespace {

bool is_arduino_like(int vid, int pid) {
  if (vid == 0x2341 || vid == 0x2A03) return true;  // Arduino LLC / Arduino SRL
  if (vid == 0x1A86 && pid == 0x7523) return true;  // CH340 (common Mega clones)
  if (vid == 0x0403 && pid == 0x6001) return true;  // FTDI FT232R
  if (vid == 0x10C4 && pid == 0xEA60) return true;  // CP210x
  return false;
}

std::string sp_error(const std::string& what) {
  char* message = sp_last_error_message();
  std::string out = what + ": " + (message ? message : "unknown error");
  if (message) sp_free_error_message(message);
  return out;
}

bool looks_like_pty(const std::string& path) { return path.rfind("/dev/pts/", 0) == 0; }

}  // namespace

std::vector<PortInfo> list_ports() {
  sp_port** ports = nullptr;
  if (sp_list_ports(&ports) != SP_OK) throw std::runtime_error(sp_error("cannot list serial ports"));
  std::vector<PortInfo> out;
  for (sp_port** p = ports; *p; ++p) {
    PortInfo info;
    info.path = sp_get_port_name(*p);
    const char* description = sp_get_port_description(*p);
    info.description = description ? description : "";
    if (sp_get_port_transport(*p) == SP_TRANSPORT_USB) {
      sp_get_port_usb_vid_pid(*p, &info.usb_vid, &info.usb_pid);
      info.likely_arduino = is_arduino_like(info.usb_vid, info.usb_pid);
    }
    out.push_back(std::move(info));
  }
  sp_free_port_list(ports);
  std::stable_sort(out.begin(), out.end(),
                   [](const PortInfo& a, const PortInfo& b) { return a.likely_arduino > b.likely_arduino; });
  return out;
}

OpenPort::OpenPort(int fd, sp_port* port, std::string path, bool is_pty)
    : fd_(fd), port_(port), path_(std::move(path)), is_pty_(is_pty) {}

OpenPort::~OpenPort() {
  if (fd_ >= 0) ::close(fd_);
  if (port_) {
    sp_close(port_);
    sp_free_port(port_);
  }
}

int OpenPort::release_fd() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

std::unique_ptr<OpenPort> open_port(const std::string& path) {
  if (path.empty()) throw std::runtime_error("no serial port given");
  if (looks_like_pty(path)) {
    const int fd = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
    termios tio{};
    if (tcgetattr(fd, &tio) == 0) {
      cfmakeraw(&tio);
      cfsetspeed(&tio, B230400);  // nominal only: a pty has no line rate
      tcsetattr(fd, TCSANOW, &tio);
    }
    return std::make_unique<OpenPort>(fd, nullptr, path, true);
  }
  sp_port* port = nullptr;
  if (sp_get_port_by_name(path.c_str(), &port) != SP_OK) throw std::runtime_error(sp_error(path));
  if (sp_open(port, SP_MODE_READ_WRITE) != SP_OK) {
    const std::string message = sp_error(path + ": cannot open");
    sp_free_port(port);
    throw std::runtime_error(message);
  }
  const bool configured = sp_set_baudrate(port, kBaudRate) == SP_OK && sp_set_bits(port, 8) == SP_OK &&
                          sp_set_parity(port, SP_PARITY_NONE) == SP_OK && sp_set_stopbits(port, 1) == SP_OK &&
                          sp_set_flowcontrol(port, SP_FLOWCONTROL_NONE) == SP_OK &&
                          sp_set_dtr(port, SP_DTR_ON) == SP_OK;
  if (!configured) {
    const std::string message = sp_error(path + ": cannot configure 250000 baud 8N1");
    sp_close(port);
    sp_free_port(port);
    throw std::runtime_error(message);
  }
  int handle = -1;
  sp_get_port_handle(port, &handle);
  // Asio takes its own descriptor; libserialport keeps the original until the port is closed.
  const int fd = ::fcntl(handle, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) {
    sp_close(port);
    sp_free_port(port);
    throw std::runtime_error(path + ": cannot duplicate descriptor");
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return std::make_unique<OpenPort>(fd, port, path, false);
}

void PtyHold::hold(const std::string& path) {
  if (fd_ >= 0 && path == path_) return;
  release();
  fd_ = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd_ >= 0) path_ = path;
}

void PtyHold::release() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  path_.clear();
}

std::string read_path_file(const std::string& file) {
  std::ifstream in(file);
  std::string line;
  if (!in || !std::getline(in, line)) return "";
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

}  // namespace rig::link
