// The host end of the wire protocol: framing, handshake, numbered commands with acknowledgement and
// retransmission, heartbeats, in-order exactly-once delivery of device events, and reconnection with backoff.
// One implementation for every kind of device; only the port opening differs (serial_port.hpp).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "firmware/wire/wire.hpp"
#include "host/model/device.hpp"
#include "host_clock.hpp"
#include "serial_port.hpp"

namespace rig::link {

struct LinkOptions {
  // Where the device is: a serial device or pty path, or a file holding that path (re-read at every
  // connection attempt, so a restarted simulator with a new pty is found again). One of the two.
  std::string port_path;
  std::string port_path_file;
  // Or a line inside this process (a simulation on HostClock's simulated time): called at every connection
  // attempt instead of opening a path; it throws std::runtime_error while no device is there.
  std::function<std::unique_ptr<OpenPort>()> open_line;
  // Device seconds per wall second: a simulated device running X times faster gets every timer below
  // divided by X (floors keep the wall-clock timers sane).
  double time_scale = 1.0;
  // All in device time.
  std::chrono::microseconds heartbeat_period{50000};
  std::chrono::microseconds device_timeout{150000};     // no frame for this long: the device is gone
  std::chrono::microseconds retransmit_after{100000};   // unacknowledged commands are sent again
  std::chrono::microseconds handshake_retry{200000};
  std::chrono::microseconds handshake_timeout{2000000};
  std::chrono::microseconds backoff_min{100000};
  std::chrono::microseconds backoff_max{2000000};
  // Names this host in the handshake; it also seeds the first command number. 0: a random one. A test gives
  // one so that every byte on the line depends only on its seed.
  uint32_t host_nonce = 0;
};

enum class LinkState { kStopped, kConnecting, kHandshaking, kConnected, kFailed };
const char* link_state_name(LinkState state);

struct LinkStatus {
  LinkState state = LinkState::kStopped;
  std::string reason;  // plain words: why the state changed
};

// What the handshake told about the device.
// What the device says about itself (host/model/device.def).
using DeviceInfo = model::DeviceInfo;

struct LinkStats {
  uint64_t frames_sent = 0;
  uint64_t frames_received = 0;
  uint64_t dropped[wire::kDropReasonCount] = {};
  uint64_t dropped_total = 0;
  uint64_t retransmitted = 0;     // commands sent again
  uint64_t replayed = 0;          // device events received again and suppressed as duplicates
  uint64_t out_of_order = 0;      // device events after a gap, dropped until the device resends the gap
  uint64_t reconnects = 0;        // handshakes after the first
  uint64_t disconnects = 0;
  uint64_t device_resets = 0;     // handshakes that found a new boot id, or the same one with other events
  uint64_t commands_failed = 0;   // commands dropped unacknowledged (device reset, link stopped)
};

// How a command ended: acknowledged by the device (with its status), or failed before that.
struct CommandResult {
  bool acknowledged = false;
  wire::AckStatus status = wire::AckStatus::kOk;
  uint32_t detail = 0;
  std::string error;  // when not acknowledged
};
using CommandDone = std::function<void(const CommandResult&)>;

// Lives on one io_context; its timers are HostTimers (simulated time when started on a thread that holds a
// SimulatedTime). Every method must be called from that io_context's thread (post() to it),
// except stats(), which is thread-safe. Callbacks run on that thread and must not block.
class Link : public std::enable_shared_from_this<Link> {
 public:
  struct Callbacks {
    std::function<void(const LinkStatus&)> on_status;
    // After every successful handshake; `reset` when the device restarted since the last one.
    std::function<void(const DeviceInfo&, bool reset)> on_device;
    // Device messages: reliable events exactly once and in order, best-effort ones as they come.
    std::function<void(const wire::FrameView&)> on_message;
  };

  static std::shared_ptr<Link> create(boost::asio::io_context& io, LinkOptions options, Callbacks callbacks);

  // Starts connecting (and keeps reconnecting until stop()).
  void start();
  // Closes the port; commands still unacknowledged fail with "link stopped". Idempotent. With
  // notify = false no callback runs (for owners being destroyed).
  void stop(bool notify = true);

  // Closes the port as if the cable had been pulled, then reconnects as usual (operators, fault tests).
  void drop_connection(const std::string& reason) { disconnect(reason); }

  // Queues a reliable command. It is sent now if connected, else after the next handshake, and again until
  // acknowledged. `done` runs once. Returns the command's sequence number.
  uint16_t send(uint8_t type, const void* payload, size_t size, CommandDone done = {});
  template <typename Message>
  uint16_t send(const Message& msg, CommandDone done = {}) {
    static_assert(Message::kDirection == wire::Direction::kHostToDevice, "not a host command");
    return send(Message::kId, &msg, sizeof(Message), std::move(done));
  }

  LinkState state() const { return state_; }
  const DeviceInfo& device() const { return device_; }
  size_t pending_commands() const { return unacked_.size(); }
  LinkStats stats() const;

 private:
  Link(boost::asio::io_context& io, LinkOptions options, Callbacks callbacks);

  using Clock = HostClock;
  struct Pending {
    uint16_t seq;
    std::vector<uint8_t> frame;
    CommandDone done;
    Clock::time_point last_sent;
  };

  std::chrono::nanoseconds wall(std::chrono::microseconds device_time, std::chrono::milliseconds floor) const;
  void connect();
  void set_state(LinkState state, std::string reason);
  void disconnect(const std::string& reason);
  void close_port();
  void schedule_reconnect();
  void start_read();
  void on_read(uint64_t generation, const boost::system::error_code& ec, size_t n);
  void handle_frame(const wire::FrameView& frame);
  void handle_hello_reply(const wire::HelloReply& reply);
  void handle_event(const wire::FrameView& frame);
  void send_hello();
  void handshake_tick(uint64_t generation, Clock::time_point started);
  void tick(uint64_t generation);
  void write_frame(std::vector<uint8_t> frame);
  void do_write(uint64_t generation);
  void fail_pending(const std::string& why);
  void sync_drop_stats();

  boost::asio::io_context& io_;
  LinkOptions options_;
  Callbacks callbacks_;
  uint32_t nonce_;

  std::unique_ptr<OpenPort> port_;
  PtyHold pty_hold_;  // the pty last connected to, until stop() or another path (serial_port.hpp)
  std::unique_ptr<boost::asio::posix::stream_descriptor> stream_;
  uint64_t generation_ = 0;
  LinkState state_ = LinkState::kStopped;
  bool stopping_ = false;
  std::chrono::microseconds backoff_;
  HostTimer tick_timer_;
  HostTimer handshake_timer_;
  HostTimer reconnect_timer_;
  Clock::time_point last_rx_;

  uint8_t read_buffer_[512];
  wire::FrameDecoder decoder_;
  std::deque<std::vector<uint8_t>> write_queue_;
  bool writing_ = false;

  uint16_t next_seq_ = 1;
  std::deque<Pending> unacked_;

  bool have_boot_ = false;
  bool handshaken_once_ = false;
  DeviceInfo device_;
  uint16_t last_event_seq_ = 0;
  bool ack_due_ = false;

  struct AtomicStats {
    std::atomic<uint64_t> frames_sent{0}, frames_received{0}, retransmitted{0}, replayed{0}, out_of_order{0},
        reconnects{0}, disconnects{0}, device_resets{0}, commands_failed{0};
    std::atomic<uint64_t> dropped[wire::kDropReasonCount] = {};
  };
  AtomicStats stats_;
};

}  // namespace rig::link
