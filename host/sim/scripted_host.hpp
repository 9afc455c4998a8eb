// A minimal scripted host for driving a simulated board (SimBoard, or the firmware in simavr) in tests,
// scenarios and benchmarks: numbered commands, heartbeats, event acknowledgement with duplicate and gap
// detection, result lookup. Not the production link (host/link); it exists to test the device side.
// Board must provide: now_us(), run_until(t_us), run_for(us), send(msg, seq), receive() -> DeviceFrames.
#pragma once

#include <algorithm>
#include <optional>
#include <vector>

#include "host/sim/sim_board.hpp"

namespace rig::sim {

inline wire::ArmTrial make_trial(uint32_t trial_id, wire::TrialKind kind = wire::TrialKind::kFree) {
  wire::ArmTrial t{};
  t.trial_id = trial_id;
  t.kind = static_cast<uint8_t>(kind);
  t.cue_id = 0;
  t.quiescence_us = 200000;
  t.quiescence_tolerance_ticks = 4;
  t.quiescence_timeout_us = 0;
  t.response_window_us = 2000000;
  t.threshold_left_ticks = 100;
  t.threshold_right_ticks = 100;
  t.open_us[wire::open_index(wire::Side::kLeft, wire::Valve::kCherry)] = 30000;
  t.open_us[wire::open_index(wire::Side::kLeft, wire::Valve::kGrape)] = 0;
  t.open_us[wire::open_index(wire::Side::kRight, wire::Valve::kCherry)] = 0;
  t.open_us[wire::open_index(wire::Side::kRight, wire::Valve::kGrape)] = 45000;
  t.cue_duration_us = 100000;
  return t;
}

template <typename Board>
class ScriptedHost {
 public:
  explicit ScriptedHost(Board& board, uint32_t nonce = 0x1234) : board_(board), nonce_(nonce) {}

  // Sends Hello with seq = next command seq - 1 (the protocol's rule) and runs 5 ms.
  void hello() {
    wire::Hello h{};
    h.protocol_version = wire::kProtocolVersion;
    h.host_nonce = nonce_;
    board_.send(h, static_cast<uint16_t>(next_seq_ - 1));
    board_.run_for(5000);
    collect();
  }

  template <typename Message>
  uint16_t command(const Message& msg) {
    const uint16_t seq = next_seq_++;
    board_.send(msg, seq);
    return seq;
  }

  void heartbeat() {
    wire::Heartbeat hb{};
    board_.send(hb, 0);
  }

  // Runs `duration_us` with heartbeats every 50 ms, collecting frames and acknowledging events.
  void run(uint64_t duration_us, bool send_heartbeats = true, bool ack = true) {
    const uint64_t end = board_.now_us() + duration_us;
    while (board_.now_us() < end) {
      bool heartbeat_due = false;
      if (send_heartbeats && (!sent_heartbeat_ || board_.now_us() - last_heartbeat_us_ >= kHeartbeatPeriodUs)) {
        heartbeat();
        heartbeat_due = true;
        sent_heartbeat_ = true;
        last_heartbeat_us_ = board_.now_us();
      }
      board_.run_until(std::min<uint64_t>(end, board_.now_us() + kHeartbeatPeriodUs));
      collect();
      // Like the real link: acknowledge new events at once, and repeat the ack with each heartbeat.
      if (ack && have_event_seq_ && (heartbeat_due || !acked_once_ || last_acked_seq_ != last_event_seq_)) {
        wire::EventAck a{};
        a.acked_seq = last_event_seq_;
        board_.send(a, 0);
        acked_once_ = true;
        last_acked_seq_ = last_event_seq_;
      }
    }
  }

  void collect() {
    for (auto& f : board_.receive()) {
      if (wire::is_reliable(f.type)) {
        if (have_event_seq_ && static_cast<int16_t>(f.seq - last_event_seq_) <= 0) {
          ++duplicates_;
          continue;
        }
        if (have_event_seq_ && f.seq != static_cast<uint16_t>(last_event_seq_ + 1)) {
          ++gaps_;
          continue;  // go-back-N: wait for the retransmission
        }
        have_event_seq_ = true;
        last_event_seq_ = f.seq;
        events.push_back(f);
      } else {
        wire::HelloReply reply;
        if (!have_event_seq_ && f.as(reply) && reply.host_nonce == nonce_) {
          have_event_seq_ = true;  // a fresh host starts from the oldest event the device still holds
          last_event_seq_ = static_cast<uint16_t>(reply.oldest_unacked_seq - 1);
        }
        others.push_back(f);
      }
    }
  }

  template <typename Message>
  std::vector<Message> all() const {
    std::vector<Message> out;
    for (const auto& f : events) {
      Message m;
      if (f.as(m)) out.push_back(m);
    }
    for (const auto& f : others) {
      Message m;
      if (f.as(m)) out.push_back(m);
    }
    return out;
  }

  std::optional<wire::TrialResult> result(uint32_t trial_id) const {
    for (const auto& r : all<wire::TrialResult>()) {
      if (r.trial_id == trial_id) return r;
    }
    return std::nullopt;
  }

  std::optional<wire::CommandAck> ack_for(uint16_t seq) const {
    for (const auto& a : all<wire::CommandAck>()) {
      if (a.command_seq == seq) return a;
    }
    return std::nullopt;
  }

  static constexpr uint64_t kHeartbeatPeriodUs = 50000;
  std::vector<DeviceFrame> events;  // reliable, in order, once each
  std::vector<DeviceFrame> others;  // best effort
  int duplicates_ = 0;
  int gaps_ = 0;
  uint16_t last_event_seq_ = 0;
  bool have_event_seq_ = false;
  uint16_t next_seq_ = 100;

 private:
  Board& board_;
  bool sent_heartbeat_ = false;
  bool acked_once_ = false;
  uint16_t last_acked_seq_ = 0;
  uint64_t last_heartbeat_us_ = 0;
  uint32_t nonce_;
};

}  // namespace rig::sim
