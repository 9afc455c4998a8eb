// The virtual MCU over its real pseudo-terminal: a host opens the path like a serial port, shakes hands,
// arms a trial that the simulated mouse answers, and survives the faults injected on the line.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <optional>
#include <thread>

#include "host/sim/scripted_host.hpp"
#include "vmcu/virtual_mcu.hpp"

using namespace rig;
using device::LineDirection;
using device::VirtualMcu;
using device::VirtualMcuOptions;

namespace {

// A bare host on the pty: raw termios, frames in and out, heartbeats and event acks while it waits.
class PtyHost {
 public:
  explicit PtyHost(const std::string& path) : fd_(::open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK)) {
    if (fd_ < 0) return;
    termios tio{};
    tcgetattr(fd_, &tio);
    cfmakeraw(&tio);
    tcsetattr(fd_, TCSANOW, &tio);
  }
  ~PtyHost() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool is_open() const { return fd_ >= 0; }

  template <typename Message>
  void send(const Message& msg, uint16_t seq) {
    uint8_t out[wire::kMaxEncodedFrame];
    const size_t n = wire::encode_message(msg, seq, out, sizeof(out));
    ASSERT_EQ(::write(fd_, out, n), static_cast<ssize_t>(n));
  }

  void hello(uint32_t nonce, uint16_t last_command_seq) {
    wire::Hello h{};
    h.protocol_version = wire::kProtocolVersion;
    h.host_nonce = nonce;
    send(h, last_command_seq);
  }

  // Reads frames until `done` accepts one (returned) or `timeout` of wall time passes (nullopt). Every
  // `every` it calls `repeat` (a heartbeat, a repeated Hello); reliable events are acknowledged.
  std::optional<sim::DeviceFrame> wait_for(const std::function<bool(const sim::DeviceFrame&)>& done,
                                           const std::function<void()>& repeat = {},
                                           std::chrono::milliseconds every = std::chrono::milliseconds(5),
                                           std::chrono::seconds timeout = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto next_repeat = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() < deadline) {
      if (repeat && std::chrono::steady_clock::now() >= next_repeat) {
        repeat();
        next_repeat += every;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 1) <= 0) continue;
      uint8_t buf[256];
      const ssize_t n = ::read(fd_, buf, sizeof(buf));
      for (ssize_t i = 0; i < n; ++i) {
        wire::FrameView view;
        if (decoder_.push(buf[i], view) != wire::FrameDecoder::Status::kFrame) continue;
        sim::DeviceFrame frame{view.type, view.seq, {view.payload, view.payload + view.payload_size}};
        if (wire::is_reliable(frame.type)) {
          wire::EventAck ack{};
          ack.acked_seq = frame.seq;
          send(ack, 0);
        }
        if (done(frame)) return frame;
      }
    }
    return std::nullopt;
  }

  std::optional<wire::HelloReply> handshake(uint32_t nonce, uint16_t last_command_seq) {
    const auto frame = wait_for(
        [nonce](const sim::DeviceFrame& f) {
          wire::HelloReply r;
          return f.as(r) && r.host_nonce == nonce;
        },
        [&] { hello(nonce, last_command_seq); }, std::chrono::milliseconds(20));
    wire::HelloReply reply;
    if (!frame || !frame->as(reply)) return std::nullopt;
    return reply;
  }

  const wire::DropCounters& drops() const { return decoder_.drops(); }

 private:
  int fd_;
  wire::FrameDecoder decoder_;
};

VirtualMcuOptions at_speed(double speed) {
  VirtualMcuOptions options;
  options.speed = speed;
  options.boot_id = 0xB0075;
  options.seed = 5;
  return options;
}

// Returns once the loop has run two whole slices after this call, so a fault injected before it applies to
// everything the test sends next.
void let_faults_apply(const VirtualMcu& vmcu) {
  const uint64_t from_us = vmcu.counters().sim_time_us;
  while (vmcu.counters().sim_time_us < from_us + 2 * VirtualMcuOptions{}.slice_us) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace

TEST(VirtualMcu, AnswersHelloOverItsPtyAsASimulatedBoard) {
  VirtualMcu vmcu(at_speed(20), nullptr);
  vmcu.start();
  PtyHost host(vmcu.path());
  ASSERT_TRUE(host.is_open()) << vmcu.path();
  const auto reply = host.handshake(0xFACE, 0);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->protocol_version, wire::kProtocolVersion);
  EXPECT_EQ(reply->boot_id, 0xB0075u);
  EXPECT_EQ(reply->hal_kind, static_cast<uint8_t>(wire::HalKind::kSimulated));
  EXPECT_EQ(reply->encoder_ticks_per_rev, 4096);
  vmcu.stop();
  EXPECT_GT(vmcu.counters().bytes_from_host, 0u);
  EXPECT_GT(vmcu.counters().bytes_to_host, 0u);
  EXPECT_GT(vmcu.counters().sim_time_us, 0u);
}

TEST(VirtualMcu, TheMouseAnswersAnArmedTrialAndTheResultArrives) {
  VirtualMcu vmcu(at_speed(20), std::make_unique<sim::RandomChooser>(3, 0.5, 0.0));
  vmcu.start();
  PtyHost host(vmcu.path());
  ASSERT_TRUE(host.handshake(0xBEEF, 0).has_value());
  // At 20x a 250 ms watchdog is 12.5 ms of wall time: the longest allowed timeout keeps a busy test
  // machine from tripping it.
  wire::SetSafety safety{};
  safety.heartbeat_timeout_ms = 2000;
  safety.max_open_us = core::kHardMaxOpenUs;
  safety.max_open_us_per_s = core::kHardMaxOpenUsPerS;
  host.send(safety, 1);
  host.send(sim::make_trial(7), 2);
  const auto heartbeat = [&] { host.send(wire::Heartbeat{}, 0); };
  const auto frame = host.wait_for(
      [](const sim::DeviceFrame& f) {
        wire::TrialResult r;
        return f.as(r) && r.trial_id == 7;
      },
      heartbeat);
  ASSERT_TRUE(frame.has_value());
  wire::TrialResult result;
  ASSERT_TRUE(frame->as(result));
  EXPECT_TRUE(result.outcome == static_cast<uint8_t>(wire::TrialOutcome::kLeft) ||
              result.outcome == static_cast<uint8_t>(wire::TrialOutcome::kRight))
      << "outcome " << int(result.outcome);
  EXPECT_GT(result.choice_t_us, result.go_cue_t_us);
  EXPECT_GE(vmcu.counters().trials_seen, 1u);
}

TEST(VirtualMcu, CorruptedBytesAreDroppedNeverActedOnAndTheLinkRecovers) {
  VirtualMcu vmcu(at_speed(20), nullptr);
  vmcu.start();
  PtyHost host(vmcu.path());
  vmcu.inject_corruption(LineDirection::kToDevice, 1.0);
  let_faults_apply(vmcu);
  const uint64_t sent_at_us = vmcu.counters().sim_time_us;
  for (int i = 0; i < 5; ++i) host.hello(0xBAD, 0);
  // Every byte has a flipped bit (the same ones every run: the stream is seeded); wait 200 ms of device time.
  const auto bad_reply = host.wait_for([&](const sim::DeviceFrame& f) {
    wire::HelloReply r;
    return (f.as(r) && r.host_nonce == 0xBAD) || vmcu.counters().sim_time_us > sent_at_us + 200000;
  });
  ASSERT_TRUE(bad_reply.has_value());
  wire::HelloReply r;
  EXPECT_FALSE(bad_reply->as(r) && r.host_nonce == 0xBAD);
  EXPECT_GE(vmcu.counters().device_frames_dropped, 1u);
  EXPECT_GT(vmcu.counters().bytes_corrupted, 0u);

  vmcu.inject_corruption(LineDirection::kToDevice, 0.0);
  EXPECT_TRUE(host.handshake(0x600D, 0).has_value());
}

TEST(VirtualMcu, AHostSurvivesABurstOfGarbageFromTheDevice) {
  VirtualMcu vmcu(at_speed(20), nullptr);
  vmcu.start();
  PtyHost host(vmcu.path());
  ASSERT_TRUE(host.handshake(0x1111, 0).has_value());
  vmcu.inject_garbage(LineDirection::kToHost, 200);
  const uint32_t dropped_before = host.drops().total();
  EXPECT_TRUE(host.handshake(0x2222, 0).has_value());
  EXPECT_GT(host.drops().total(), dropped_before);
  EXPECT_EQ(vmcu.counters().garbage_bytes, 200u);
}

TEST(VirtualMcu, DelayedDeviceOutputArrivesOnlyAfterTheDelayInDeviceTime) {
  VirtualMcu vmcu(at_speed(20), nullptr);
  vmcu.start();
  PtyHost host(vmcu.path());
  vmcu.delay_device_output(500000);
  let_faults_apply(vmcu);
  const uint64_t sent_at_us = vmcu.counters().sim_time_us;
  ASSERT_TRUE(host.handshake(0x3333, 0).has_value());
  EXPECT_GE(vmcu.counters().sim_time_us, sent_at_us + 500000);
}

TEST(VirtualMcu, RejectsANegativeSpeedAndAStartAfterStop) {
  EXPECT_THROW(VirtualMcu(at_speed(-1), nullptr), std::invalid_argument);
  VirtualMcu vmcu(at_speed(0), nullptr);
  vmcu.start();
  vmcu.stop();
  vmcu.stop();
  EXPECT_THROW(vmcu.start(), std::logic_error);
  EXPECT_THROW(vmcu.inject_corruption(LineDirection::kToHost, 2.0), std::invalid_argument);
}
