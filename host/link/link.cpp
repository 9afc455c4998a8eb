#include "link.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <random>

namespace rig::link {

namespace asio = boost::asio;
using namespace std::chrono_literals;

const char* link_state_name(LinkState state) {
  switch (state) {
    case LinkState::kStopped: return "stopped";
    case LinkState::kConnecting: return "connecting";
    case LinkState::kHandshaking: return "handshaking";
    case LinkState::kConnected: return "connected";
    case LinkState::kFailed: return "failed";
  }
  return "unknown";
}

std::shared_ptr<Link> Link::create(asio::io_context& io, LinkOptions options, Callbacks callbacks) {
  return std::shared_ptr<Link>(new Link(io, std::move(options), std::move(callbacks)));
}

Link::Link(asio::io_context& io, LinkOptions options, Callbacks callbacks)
    : io_(io),
      options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      nonce_(options_.host_nonce),
      backoff_(options_.backoff_min),
      tick_timer_(io),
      handshake_timer_(io),
      reconnect_timer_(io) {
  if (options_.time_scale <= 0) options_.time_scale = 1.0;
  if (nonce_ == 0) {
    std::random_device rd;
    while (nonce_ == 0) nonce_ = rd();
  }
  // The first command number is arbitrary (a restarted host must not look like a replay of the last one);
  // drawn from the nonce so that a seeded host is deterministic.
  next_seq_ = static_cast<uint16_t>(std::mt19937(nonce_)());
}

std::chrono::nanoseconds Link::wall(std::chrono::microseconds device_time, std::chrono::milliseconds floor) const {
  const auto scaled = std::chrono::nanoseconds(
      static_cast<int64_t>(static_cast<double>(device_time.count()) * 1000.0 / options_.time_scale));
  return std::max<std::chrono::nanoseconds>(scaled, floor);
}

LinkStats Link::stats() const {
  LinkStats s;
  s.frames_sent = stats_.frames_sent;
  s.frames_received = stats_.frames_received;
  for (int i = 0; i < wire::kDropReasonCount; ++i) {
    s.dropped[i] = stats_.dropped[i];
    s.dropped_total += s.dropped[i];
  }
  s.retransmitted = stats_.retransmitted;
  s.replayed = stats_.replayed;
  s.out_of_order = stats_.out_of_order;
  s.reconnects = stats_.reconnects;
  s.disconnects = stats_.disconnects;
  s.device_resets = stats_.device_resets;
  s.commands_failed = stats_.commands_failed;
  return s;
}

void Link::set_state(LinkState state, std::string reason) {
  state_ = state;
  if (callbacks_.on_status) callbacks_.on_status(LinkStatus{state, std::move(reason)});
}

void Link::start() {
  stopping_ = false;
  connect();
}

void Link::stop(bool notify) {
  if (stopping_ && state_ == LinkState::kStopped) return;
  if (!notify) {
    callbacks_ = Callbacks{};
    for (Pending& p : unacked_) p.done = nullptr;
  }
  stopping_ = true;
  ++generation_;
  tick_timer_.cancel();
  handshake_timer_.cancel();
  reconnect_timer_.cancel();
  close_port();
  pty_hold_.release();
  fail_pending("link stopped");
  set_state(LinkState::kStopped, "stopped by the host");
}

void Link::connect() {
  if (stopping_) return;
  ++generation_;
  std::string path = options_.port_path;
  if (options_.open_line) {
    try {
      port_ = options_.open_line();
    } catch (const std::exception& e) {
      set_state(LinkState::kConnecting, e.what());
      schedule_reconnect();
      return;
    }
    path = port_->path();
  } else if (path.empty() && !options_.port_path_file.empty()) {
    path = read_path_file(options_.port_path_file);
    if (path.empty()) {
      set_state(LinkState::kConnecting, "waiting for the device to publish its port in " + options_.port_path_file);
      schedule_reconnect();
      return;
    }
  }
  if (!port_) {
    set_state(LinkState::kConnecting, "opening " + path);
    try {
      port_ = open_port(path);
    } catch (const std::exception& e) {
      set_state(LinkState::kConnecting, e.what());
      schedule_reconnect();
      return;
    }
    if (port_->is_pty()) pty_hold_.hold(path);
  }
  stream_ = std::make_unique<asio::posix::stream_descriptor>(io_, port_->release_fd());
  device_.port = path;
  decoder_.reset();
  write_queue_.clear();
  writing_ = false;
  last_rx_ = Clock::now();
  set_state(LinkState::kHandshaking, "handshake with " + path);
  start_read();
  send_hello();
  handshake_tick(generation_, Clock::now());
}

void Link::schedule_reconnect() {
  if (stopping_) return;
  reconnect_timer_.expires_after(wall(backoff_, 20ms));
  backoff_ = std::min(backoff_ * 2, options_.backoff_max);
  reconnect_timer_.async_wait([self = shared_from_this(), gen = generation_](const boost::system::error_code& ec) {
    if (!ec && gen == self->generation_) self->connect();
  });
}

void Link::close_port() {
  if (stream_) {
    boost::system::error_code ignored;
    stream_->close(ignored);
    stream_.reset();
  }
  port_.reset();
  write_queue_.clear();
  writing_ = false;
}

void Link::disconnect(const std::string& reason) {
  if (state_ == LinkState::kConnected || state_ == LinkState::kHandshaking) ++stats_.disconnects;
  ++generation_;
  tick_timer_.cancel();
  handshake_timer_.cancel();
  close_port();
  set_state(LinkState::kConnecting, reason);
  schedule_reconnect();
}

void Link::start_read() {
  stream_->async_read_some(asio::buffer(read_buffer_),
                           [self = shared_from_this(), gen = generation_](const boost::system::error_code& ec,
                                                                          size_t n) { self->on_read(gen, ec, n); });
}

void Link::on_read(uint64_t generation, const boost::system::error_code& ec, size_t n) {
  if (generation != generation_) return;
  if (ec) {
    disconnect(ec == asio::error::eof ? "the device closed the port" : "read failed: " + ec.message());
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    wire::FrameView frame;
    if (decoder_.push(read_buffer_[i], frame) == wire::FrameDecoder::Status::kFrame) {
      handle_frame(frame);
      if (generation != generation_) return;  // the frame ended this connection
    }
  }
  sync_drop_stats();
  if (ack_due_ && state_ == LinkState::kConnected) {
    wire::EventAck ack{};
    ack.acked_seq = last_event_seq_;
    uint8_t out[wire::kMaxEncodedFrame];
    write_frame(std::vector<uint8_t>(out, out + wire::encode_message(ack, 0, out, sizeof(out))));
    ack_due_ = false;
  }
  start_read();
}

void Link::sync_drop_stats() {
  for (int i = 0; i < wire::kDropReasonCount; ++i) stats_.dropped[i] = decoder_.drops().by_reason[i];
}

void Link::handle_frame(const wire::FrameView& frame) {
  last_rx_ = Clock::now();
  ++stats_.frames_received;
  if (frame.type == wire::HelloReply::kId) {
    wire::HelloReply reply{};
    wire::decode_message(frame, reply);
    handle_hello_reply(reply);
    return;
  }
  if (state_ != LinkState::kConnected) return;  // the device replays everything after the handshake
  if (frame.type == wire::CommandAck::kId) {
    wire::CommandAck ack{};
    wire::decode_message(frame, ack);
    for (auto it = unacked_.begin(); it != unacked_.end(); ++it) {
      if (it->seq != ack.command_seq) continue;
      CommandDone done = std::move(it->done);
      unacked_.erase(it);
      if (done) done(CommandResult{true, static_cast<wire::AckStatus>(ack.status), ack.detail, {}});
      break;
    }
    return;
  }
  if (wire::is_reliable(frame.type)) {
    handle_event(frame);
    return;
  }
  if (callbacks_.on_message) callbacks_.on_message(frame);
}

void Link::handle_event(const wire::FrameView& frame) {
  const int16_t ahead = static_cast<int16_t>(frame.seq - last_event_seq_);
  ack_due_ = true;  // duplicates are acknowledged again so the device can free them
  if (ahead <= 0) {
    ++stats_.replayed;
    return;
  }
  if (ahead > 1) {
    ++stats_.out_of_order;
    return;
  }
  last_event_seq_ = frame.seq;
  if (callbacks_.on_message) callbacks_.on_message(frame);
}

void Link::handle_hello_reply(const wire::HelloReply& reply) {
  if (reply.host_nonce != nonce_) {
    // An unsolicited reply announces a (re)boot: handshake again to learn what happened.
    if (reply.host_nonce == 0 && state_ == LinkState::kConnected) {
      set_state(LinkState::kHandshaking, "the device announced a restart");
      send_hello();
      handshake_tick(generation_, Clock::now());
    }
    return;
  }
  if (state_ != LinkState::kHandshaking) return;  // a late answer to a retried Hello
  handshake_timer_.cancel();
  if (reply.protocol_version != wire::kProtocolVersion) {
    const std::string build(reply.firmware_build_id, strnlen(reply.firmware_build_id, sizeof(reply.firmware_build_id)));
    stopping_ = true;
    ++generation_;
    if (stream_) stream_.reset();
    port_.reset();
    fail_pending("protocol version mismatch");
    set_state(LinkState::kFailed, "protocol version mismatch: this host speaks version " +
                                      std::to_string(wire::kProtocolVersion) + ", the device firmware '" + build +
                                      "' speaks version " + std::to_string(reply.protocol_version) +
                                      "; flash the firmware built with this host");
    return;
  }
  // The same boot id with an event window that cannot hold what this host last took (it took events the
  // device never numbered, or the device freed events this host never took) is not the device this host
  // talked to: a restart the boot id did not reveal. Carrying on would drop every new event as a replay.
  const uint16_t newest = static_cast<uint16_t>(reply.next_event_seq - 1);
  const bool window_holds = static_cast<int16_t>(last_event_seq_ - static_cast<uint16_t>(reply.oldest_unacked_seq - 1)) >= 0 &&
                            static_cast<int16_t>(newest - last_event_seq_) >= 0;
  const bool new_boot = have_boot_ && reply.boot_id != device_.boot_id;
  const bool reset = new_boot || (have_boot_ && !window_holds);
  if (reset) {
    ++stats_.device_resets;
    fail_pending("the device restarted before acknowledging");
  }
  if (!have_boot_ || reset) last_event_seq_ = static_cast<uint16_t>(reply.oldest_unacked_seq - 1);
  have_boot_ = true;
  if (handshaken_once_) ++stats_.reconnects;
  handshaken_once_ = true;

  device_.firmware_build_id.assign(reply.firmware_build_id, strnlen(reply.firmware_build_id, sizeof(reply.firmware_build_id)));
  device_.boot_id = reply.boot_id;
  device_.clock_hz = reply.clock_hz;
  device_.encoder_ticks_per_rev = reply.encoder_ticks_per_rev;
  device_.pin_encoder_a = reply.pin_encoder_a;
  device_.pin_encoder_b = reply.pin_encoder_b;
  device_.pin_valve_cherry = reply.pin_valve_cherry;
  device_.pin_valve_grape = reply.pin_valve_grape;
  device_.pin_cue = reply.pin_cue;
  device_.pin_sync = reply.pin_sync;
  device_.pin_camera = reply.pin_camera;
  device_.pin_lick_cherry = reply.pin_lick_cherry;
  device_.pin_lick_grape = reply.pin_lick_grape;
  device_.max_open_us = reply.max_open_us;
  device_.max_open_us_per_s = reply.max_open_us_per_s;
  device_.heartbeat_timeout_ms = reply.heartbeat_timeout_ms;
  device_.latched_faults = reply.latched_faults;
  device_.hal_kind = static_cast<wire::HalKind>(reply.hal_kind);
  backoff_ = options_.backoff_min;

  set_state(LinkState::kConnected, !reset    ? "connected"
                                   : new_boot ? "connected; the device had restarted (boot id changed)"
                                              : "connected; the device had restarted (same boot id, but its events "
                                                "are not the ones this host took)");
  if (callbacks_.on_device) callbacks_.on_device(device_, reset);
  for (Pending& p : unacked_) {
    p.last_sent = Clock::now();
    write_frame(p.frame);
  }
  tick(generation_);
}

void Link::send_hello() {
  wire::Hello hello{};
  hello.protocol_version = wire::kProtocolVersion;
  hello.host_nonce = nonce_;
  // The device's next command is this number + 1: the oldest we still need acknowledged, or the next new one.
  const uint16_t first = unacked_.empty() ? next_seq_ : unacked_.front().seq;
  uint8_t out[wire::kMaxEncodedFrame];
  const size_t n = wire::encode_message(hello, static_cast<uint16_t>(first - 1), out, sizeof(out));
  write_frame(std::vector<uint8_t>(out, out + n));
}

void Link::handshake_tick(uint64_t generation, Clock::time_point started) {
  handshake_timer_.expires_after(wall(options_.handshake_retry, 20ms));
  handshake_timer_.async_wait([self = shared_from_this(), generation, started](const boost::system::error_code& ec) {
    if (ec || generation != self->generation_ || self->state_ != LinkState::kHandshaking) return;
    if (Clock::now() - started > self->wall(self->options_.handshake_timeout, 500ms)) {
      self->disconnect("no handshake reply from " + self->device_.port);
      return;
    }
    self->send_hello();
    self->handshake_tick(generation, started);
  });
}

void Link::tick(uint64_t generation) {
  if (generation != generation_ || state_ != LinkState::kConnected) return;
  const auto now = Clock::now();
  const auto silent = now - last_rx_;
  if (silent > wall(options_.device_timeout, 60ms)) {
    disconnect("the device went silent for " +
               std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(silent).count()) + " ms");
    return;
  }
  uint8_t out[wire::kMaxEncodedFrame];
  wire::Heartbeat hb{};
  hb.host_time_ms = static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
  write_frame(std::vector<uint8_t>(out, out + wire::encode_message(hb, 0, out, sizeof(out))));
  wire::EventAck ack{};
  ack.acked_seq = last_event_seq_;
  write_frame(std::vector<uint8_t>(out, out + wire::encode_message(ack, 0, out, sizeof(out))));
  ack_due_ = false;
  if (!unacked_.empty() && now - unacked_.front().last_sent > wall(options_.retransmit_after, 10ms)) {
    // Go-back-N: the device executes commands strictly in order, so everything after a loss goes again.
    for (Pending& p : unacked_) {
      p.last_sent = now;
      ++stats_.retransmitted;
      write_frame(p.frame);
    }
  }
  tick_timer_.expires_after(wall(options_.heartbeat_period, 1ms));
  tick_timer_.async_wait([self = shared_from_this(), generation](const boost::system::error_code& ec) {
    if (!ec) self->tick(generation);
  });
}

uint16_t Link::send(uint8_t type, const void* payload, size_t size, CommandDone done) {
  const uint16_t seq = next_seq_++;
  uint8_t out[wire::kMaxEncodedFrame];
  const size_t n = wire::encode_frame(type, seq, payload, size, out, sizeof(out));
  unacked_.push_back(Pending{seq, std::vector<uint8_t>(out, out + n), std::move(done), Clock::now()});
  if (state_ == LinkState::kConnected) write_frame(unacked_.back().frame);
  return seq;
}

void Link::write_frame(std::vector<uint8_t> frame) {
  if (!stream_ || frame.empty()) return;
  ++stats_.frames_sent;
  write_queue_.push_back(std::move(frame));
  if (!writing_) do_write(generation_);
}

void Link::do_write(uint64_t generation) {
  writing_ = true;
  asio::async_write(*stream_, asio::buffer(write_queue_.front()),
                    [self = shared_from_this(), generation](const boost::system::error_code& ec, size_t) {
                      if (generation != self->generation_) return;
                      self->write_queue_.pop_front();
                      if (ec) {
                        self->disconnect("write failed: " + ec.message());
                        return;
                      }
                      if (self->write_queue_.empty()) {
                        self->writing_ = false;
                      } else {
                        self->do_write(generation);
                      }
                    });
}

void Link::fail_pending(const std::string& why) {
  std::deque<Pending> failed;
  failed.swap(unacked_);
  for (Pending& p : failed) {
    ++stats_.commands_failed;
    if (p.done) p.done(CommandResult{false, wire::AckStatus::kOk, 0, why});
  }
}

}  // namespace rig::link
