// The device side of the wire protocol: handshake, acknowledgements, duplicates, replay, stream, status.
#include <gtest/gtest.h>

#include "host/sim/scripted_host.hpp"

using namespace rig;
using rig::sim::make_trial;
using ScriptedHost = rig::sim::ScriptedHost<rig::sim::SimBoard>;

TEST(DeviceProtocol, AnnouncesItsBootAndAnswersHelloWithTheHardwareDescription) {
  sim::SimBoard board(0xB007);
  ScriptedHost host(board, 0xCAFE);
  board.run_for(1000);
  host.collect();
  auto replies = host.all<wire::HelloReply>();
  ASSERT_EQ(replies.size(), 1u);  // unsolicited, at boot
  EXPECT_EQ(replies[0].host_nonce, 0u);
  host.hello();
  replies = host.all<wire::HelloReply>();
  ASSERT_EQ(replies.size(), 2u);
  const auto& r = replies[1];
  EXPECT_EQ(r.protocol_version, wire::kProtocolVersion);
  EXPECT_EQ(r.host_nonce, 0xCAFEu);
  EXPECT_EQ(r.boot_id, 0xB007u);
  EXPECT_EQ(r.encoder_ticks_per_rev, 4096);
  EXPECT_EQ(r.pin_encoder_a, 2);
  EXPECT_EQ(r.pin_valve_cherry, 11);
  EXPECT_EQ(r.heartbeat_timeout_ms, core::kDefaultHeartbeatTimeoutMs);
  EXPECT_EQ(r.max_open_us, core::kHardMaxOpenUs);
  EXPECT_EQ(r.event_queue_capacity, core::kEventQueueCapacity);
  EXPECT_EQ(r.hal_kind, static_cast<uint8_t>(wire::HalKind::kSimulated));
  EXPECT_EQ(std::string(r.firmware_build_id, strnlen(r.firmware_build_id, 16)).rfind("rig-sim-", 0), 0u);
}

TEST(DeviceProtocol, ARepeatedCommandIsExecutedOnceAndAcknowledgedAgain) {
  sim::SimBoard board;
  ScriptedHost host(board);
  host.hello();
  const auto trial = make_trial(1);
  board.send(trial, host.next_seq_);
  board.send(trial, host.next_seq_);  // the host did not see the ack and sent it again
  host.run(50000);
  EXPECT_EQ(board.device().commands_executed(), 1u);
  EXPECT_EQ(board.device().commands_duplicated(), 1u);
  int acks = 0;
  for (const auto& a : host.all<wire::CommandAck>()) acks += a.command_seq == host.next_seq_;
  EXPECT_EQ(acks, 2);
  int armed = 0;
  for (const auto& e : host.all<wire::TrialEvent>()) armed += e.event == static_cast<uint8_t>(wire::TrialEventKind::kArmed);
  EXPECT_EQ(armed, 1);
}

TEST(DeviceProtocol, ARepeatGetsTheOriginalStatus) {
  sim::SimBoard board;
  ScriptedHost host(board);
  host.hello();
  wire::AbortTrial a{};
  a.trial_id = 5;  // nothing armed: kBadState
  board.send(a, host.next_seq_);
  host.run(20000);
  board.send(a, host.next_seq_);
  host.run(20000);
  const auto acks = host.all<wire::CommandAck>();
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[0].status, static_cast<uint8_t>(wire::AckStatus::kBadState));
  EXPECT_EQ(acks[1].status, static_cast<uint8_t>(wire::AckStatus::kBadState));
}

TEST(DeviceProtocol, ACommandAfterAGapIsNotExecuted) {
  sim::SimBoard board;
  ScriptedHost host(board);
  host.hello();
  board.send(make_trial(1), static_cast<uint16_t>(host.next_seq_ + 1));  // next_seq_ itself was lost
  host.run(20000);
  EXPECT_EQ(board.device().commands_executed(), 0u);
  EXPECT_TRUE(host.all<wire::CommandAck>().empty());
}

TEST(DeviceProtocol, UnacknowledgedEventsReplayAfterHello) {
  sim::SimBoard board;
  ScriptedHost host(board);
  host.hello();
  host.command(make_trial(3));
  host.run(100000, true, /*ack=*/false);
  const size_t before = host.events.size();
  ASSERT_GE(before, 1u);
  // The host "reconnects": forgets nothing, says Hello; the device replays everything unacknowledged.
  host.hello();
  host.run(20000, true, false);
  EXPECT_GT(host.duplicates_, 0);
  EXPECT_EQ(host.events.size(), before);
  EXPECT_EQ(board.device().commands_executed(), 1u);  // the Hello did not re-run the command
}

TEST(DeviceProtocol, LostEventIsRetransmittedWhenNoAckComes) {
  sim::SimBoard board;
  ScriptedHost host(board);
  host.hello();
  host.command(make_trial(4));
  board.run_for(10000);
  board.receive();  // the armed event is lost on the line
  host.run(400000);
  ASSERT_FALSE(host.events.empty());
  wire::TrialEvent first{};
  ASSERT_TRUE(host.events[0].as(first));
  EXPECT_EQ(first.event, static_cast<uint8_t>(wire::TrialEventKind::kArmed));
  EXPECT_EQ(board.device().events().depth(), 0);
}

TEST(DeviceProtocol, QueueOverflowIsReportedNeverSilent) {
  sim::SimBoard board;
  ScriptedHost host(board);
  host.hello();
  // 40 pulse trains of one pulse each, never acknowledged: each PulseDone is an event.
  for (int i = 0; i < 40; ++i) {
    wire::PulseValve p{};
    p.valve = 0;
    p.count = 1;
    p.open_us = 1000;
    p.interval_us = 2000;
    host.command(p);
    host.run(5000, true, false);
  }
  EXPECT_TRUE(board.device().latched_faults() & wire::kFaultEventOverflow);
  EXPECT_EQ(board.device().events().depth(), core::kEventQueueCapacity);
  bool reported = false;
  for (const auto& f : host.all<wire::Fault>()) reported |= f.fault_bit == wire::kFaultEventOverflow;
  EXPECT_TRUE(reported);
}

TEST(DeviceProtocol, StreamsTheWheelAtOneKilohertzByDefault) {
  sim::SimBoard board;
  ScriptedHost host(board);
  host.hello();
  for (int i = 0; i < 100; ++i) {
    board.hal().move_wheel(1);
    host.run(1000);
  }
  const auto batches = host.all<wire::WheelBatch>();
  ASSERT_GE(batches.size(), 4u);
  for (size_t i = 1; i < batches.size(); ++i) {
    EXPECT_EQ(batches[i].batch_seq, static_cast<uint16_t>(batches[i - 1].batch_seq + 1));
    EXPECT_EQ(batches[i].t0_us - batches[i - 1].t0_us, 20000u);
    EXPECT_EQ(batches[i].count, 20);
    EXPECT_EQ(batches[i].period_us, 1000);
  }
  int sum = 0;
  for (int i = 0; i < 19; ++i) sum += batches[2].delta_ticks[i];
  EXPECT_NEAR(sum, 19, 1);
}

TEST(DeviceProtocol, SendsStatusEveryHundredMilliseconds) {
  sim::SimBoard board;
  ScriptedHost host(board);
  host.hello();
  host.run(1000000);
  const auto status = host.all<wire::DeviceStatus>();
  EXPECT_GE(status.size(), 10u);
  EXPECT_LE(status.size(), 11u);
}

TEST(DeviceProtocol, CorruptFramesAreCountedAndNeverActedOn) {
  sim::SimBoard board;
  ScriptedHost host(board);
  host.hello();
  uint8_t out[wire::kMaxEncodedFrame];
  const size_t n = wire::encode_message(make_trial(1), host.next_seq_, out, sizeof(out));
  out[n / 2] ^= 0x40;
  board.hal().host_send(out, n);
  host.run(50000);
  EXPECT_EQ(board.device().commands_executed(), 0u);
  EXPECT_EQ(board.device().rx_drops().total(), 1u);
}

TEST(DeviceProtocol, ClearFaultsUnlatches) {
  sim::SimBoard board;
  ScriptedHost host(board);
  host.hello();
  board.hal().inject_encoder_glitch();
  host.run(10000);
  EXPECT_TRUE(board.device().latched_faults() & wire::kFaultEncoderInvalid);
  wire::ClearFaults c{};
  c.fault_mask = wire::kFaultEncoderInvalid;
  host.command(c);
  host.run(10000);
  EXPECT_EQ(board.device().latched_faults(), 0);
}
