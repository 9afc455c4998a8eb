#include "in_process_line.hpp"

#include <cerrno>
#include <sys/socket.h>
#include <system_error>
#include <unistd.h>

#include "pty_endpoint.hpp"

namespace rig::device {

InProcessLine::~InProcessLine() {
  if (device_ >= 0) ::close(device_);
}

int InProcessLine::plug() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
    throw std::system_error(errno, std::generic_category(), "socketpair for the simulated serial line");
  }
  if (device_ >= 0) ::close(device_);
  device_ = fds[0];
  return fds[1];
}

size_t InProcessLine::read(uint8_t* out, size_t capacity) {
  return device_ >= 0 ? read_available(device_, out, capacity) : 0;
}

void InProcessLine::write(const uint8_t* data, size_t size) {
  size_t done = 0;
  while (device_ >= 0 && done < size) {
    // MSG_NOSIGNAL: a host end already closed is a pulled cable, not a reason to die of SIGPIPE.
    const ssize_t n = ::send(device_, data + done, size - done, MSG_NOSIGNAL);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  dropped_bytes_ += size - done;
}

}  // namespace rig::device
