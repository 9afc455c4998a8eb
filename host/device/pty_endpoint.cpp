#include "pty_endpoint.hpp"

#include "host/config/atomic_file.hpp"

#include <cerrno>
#include <fcntl.h>
#include <stdexcept>
#include <system_error>
#include <termios.h>
#include <unistd.h>

namespace rig::device {

PtyEndpoint::PtyEndpoint() {
  master_ = posix_openpt(O_RDWR | O_NOCTTY);
  if (master_ < 0) throw std::system_error(errno, std::generic_category(), "posix_openpt");
  if (grantpt(master_) != 0 || unlockpt(master_) != 0) {
    const int err = errno;
    ::close(master_);
    throw std::system_error(err, std::generic_category(), "grantpt/unlockpt");
  }
  char name[128];
  if (ptsname_r(master_, name, sizeof(name)) != 0) {
    const int err = errno;
    ::close(master_);
    throw std::system_error(err, std::generic_category(), "ptsname_r");
  }
  path_ = name;
  slave_ = ::open(name, O_RDWR | O_NOCTTY);
  if (slave_ < 0) {
    const int err = errno;
    ::close(master_);
    throw std::system_error(err, std::generic_category(), "open " + path_);
  }
  termios tio{};
  tcgetattr(slave_, &tio);
  cfmakeraw(&tio);
  tcsetattr(slave_, TCSANOW, &tio);
  fcntl(master_, F_SETFL, fcntl(master_, F_GETFL) | O_NONBLOCK);
}

PtyEndpoint::~PtyEndpoint() {
  if (slave_ >= 0) ::close(slave_);
  if (master_ >= 0) ::close(master_);
}

size_t read_available(int fd, uint8_t* out, size_t capacity) {
  const ssize_t n = ::read(fd, out, capacity);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

size_t write_what_fits(int fd, const uint8_t* data, size_t size) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, data + done, size - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

size_t PtyEndpoint::read(uint8_t* out, size_t capacity) { return read_available(master_, out, capacity); }

void PtyEndpoint::write(const uint8_t* data, size_t size) { dropped_bytes_ += size - write_what_fits(master_, data, size); }

void PtyEndpoint::publish_path(const std::string& file) const { config::write_file_atomically(file, path_ + "\n"); }

}  // namespace rig::device
