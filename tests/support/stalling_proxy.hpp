// A TCP proxy on 127.0.0.1 for the network-fault tests: it forwards each connection to a port on 127.0.0.1 until
// stall() is called; from then on it forwards nothing in either direction while keeping every connection open
// (new ones are accepted and held too): a server or network path that stops answering without closing
// anything, which TCP itself never reports (the proxy's kernel still acknowledges data and keepalives).
// resume() forwards again. Runs on a thread of its own, joined when it is destroyed.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace rig::testing {

class StallingProxy {
 public:
  // Listens on a free port of 127.0.0.1 and forwards to 127.0.0.1:target_port. Throws std::runtime_error when it
  // cannot listen.
  explicit StallingProxy(int target_port) : target_port_(target_port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address = loopback(0);
    socklen_t length = sizeof address;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_, 16) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0 ||
        ::pipe2(wake_, O_CLOEXEC) != 0) {
      throw std::runtime_error("StallingProxy: cannot listen on 127.0.0.1");
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::jthread([this] { run(); });
  }
  ~StallingProxy() {
    stopping_ = true;
    poke();
    thread_.join();
    for (const auto& [client, server] : pairs_) {
      ::close(client);
      ::close(server);
    }
    ::close(listener_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }
  StallingProxy(const StallingProxy&) = delete;
  StallingProxy& operator=(const StallingProxy&) = delete;

  int port() const { return port_; }
  // From now on nothing is forwarded. Thread-safe.
  void stall() {
    stalled_ = true;
    poke();
  }
  // Forwards again, including what waited meanwhile. Thread-safe.
  void resume() {
    stalled_ = false;
    poke();
  }

 private:
  static sockaddr_in loopback(int port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
  }
  void poke() {
    const char byte = 1;
    [[maybe_unused]] const auto n = ::write(wake_[1], &byte, 1);
  }
  // Copies what `from` has to `to`; false when either side has closed.
  static bool forward(int from, int to) {
    std::array<char, 65536> buffer;
    const ssize_t n = ::read(from, buffer.data(), buffer.size());
    if (n <= 0) return false;
    for (ssize_t sent = 0; sent < n;) {
      const ssize_t m = ::write(to, buffer.data() + sent, static_cast<std::size_t>(n - sent));
      if (m <= 0) return false;
      sent += m;
    }
    return true;
  }
  void run() {
    while (!stopping_) {
      const bool forwarding = !stalled_;
      const std::size_t polled = forwarding ? pairs_.size() : 0;  // pairs [0, polled) have fds from index 2 on
      std::vector<pollfd> fds{{wake_[0], POLLIN, 0}, {listener_, POLLIN, 0}};
      for (std::size_t p = 0; p < polled; ++p) {
        fds.push_back({pairs_[p].first, POLLIN, 0});
        fds.push_back({pairs_[p].second, POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), -1) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        std::array<char, 64> drain;
        [[maybe_unused]] const auto n = ::read(wake_[0], drain.data(), drain.size());
      }
      // Pairs that closed on either side are closed on both.
      std::vector<std::pair<int, int>> open;
      for (std::size_t p = 0; p < pairs_.size(); ++p) {
        bool alive = true;
        if (p < polled) {
          const auto& [client, server] = pairs_[p];
          const short from_client = fds[2 + 2 * p].revents, from_server = fds[3 + 2 * p].revents;
          if (from_client & (POLLIN | POLLHUP | POLLERR)) alive = forward(client, server);
          if (alive && (from_server & (POLLIN | POLLHUP | POLLERR))) alive = forward(server, client);
        }
        if (alive) {
          open.push_back(pairs_[p]);
        } else {
          ::close(pairs_[p].first);
          ::close(pairs_[p].second);
        }
      }
      pairs_ = std::move(open);
      if (fds[1].revents & POLLIN) {
        const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (client >= 0) {
          const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
          const sockaddr_in target = loopback(target_port_);
          if (server >= 0 && ::connect(server, reinterpret_cast<const sockaddr*>(&target), sizeof target) == 0) {
            pairs_.emplace_back(client, server);
          } else {
            if (server >= 0) ::close(server);
            ::close(client);
          }
        }
      }
    }
  }

  int target_port_;
  int listener_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stalled_{false};
  std::atomic<bool> stopping_{false};
  std::vector<std::pair<int, int>> pairs_;  // (client, server); the proxy's thread only once it runs
  std::jthread thread_;  // last: started once everything above exists
};

}  // namespace rig::testing
