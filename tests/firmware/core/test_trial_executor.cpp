// The trial flow on the whole simulated board: quiescence, go cue, choice in the encoder path, delivery.
#include <gtest/gtest.h>

#include "host/sim/scripted_host.hpp"

using namespace rig;
using rig::sim::make_trial;
using ScriptedHost = rig::sim::ScriptedHost<rig::sim::SimBoard>;

namespace {

struct Rig {
  sim::SimBoard board;
  ScriptedHost host{board};
  Rig() { host.hello(); }

  uint64_t go_cue_time() const {
    for (const auto& e : host.all<wire::TrialEvent>()) {
      if (e.event == static_cast<uint8_t>(wire::TrialEventKind::kGoCue)) return e.t_us;
    }
    return 0;
  }
};

}  // namespace

TEST(TrialExecutor, FreeTrialRightChoiceOpensThatSidesValvesAtTheCrossing) {
  Rig r;
  const uint16_t seq = r.host.command(make_trial(7));
  r.host.run(300000);  // quiescence 200 ms passes, go cue
  ASSERT_TRUE(r.board.hal().cue_on());
  r.board.hal().move_wheel(99);
  EXPECT_EQ(r.board.hal().open_valve_mask(), 0);
  const uint64_t crossing_us = r.board.now_us();
  r.board.hal().move_wheel(1);  // the 100th tick crosses the threshold
  EXPECT_EQ(r.board.hal().open_valve_mask(), core::valve_bit(wire::Valve::kGrape));
  r.host.run(200000);

  const auto ack = r.host.ack_for(seq);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->status, static_cast<uint8_t>(wire::AckStatus::kOk));
  const auto result = r.host.result(7);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->outcome, static_cast<uint8_t>(wire::TrialOutcome::kRight));
  EXPECT_EQ(result->choice_t_us, crossing_us);
  EXPECT_EQ(result->valve_open_t_us, crossing_us);
  EXPECT_EQ(result->delivered_open_us[0], 0u);
  EXPECT_EQ(result->delivered_open_us[1], 45000u);
  EXPECT_EQ(result->position_at_choice_ticks, 100);
  EXPECT_GE(result->go_cue_t_us - result->armed_t_us, 200000u);

  const auto& log = r.board.hal().valve_log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].valve, 1);
  EXPECT_EQ(log[0].close_us - log[0].open_us, 45000u);
}

TEST(TrialExecutor, BothFlavoursOpenTogetherWhenTheChosenSideHasBoth) {
  Rig r;
  auto t = make_trial(8);
  t.open_us[wire::open_index(wire::Side::kLeft, wire::Valve::kCherry)] = 20000;
  t.open_us[wire::open_index(wire::Side::kLeft, wire::Valve::kGrape)] = 35000;
  r.host.command(t);
  r.host.run(300000);
  r.board.hal().move_wheel(-100);
  EXPECT_EQ(r.board.hal().open_valve_mask(), core::kAllValves);
  r.host.run(100000);
  const auto& log = r.board.hal().valve_log();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].open_us, log[1].open_us);
  EXPECT_EQ(log[0].close_us - log[0].open_us, 20000u);
  EXPECT_EQ(log[1].close_us - log[1].open_us, 35000u);
  EXPECT_EQ(r.host.result(8)->outcome, static_cast<uint8_t>(wire::TrialOutcome::kLeft));
}

TEST(TrialExecutor, MovementDuringQuiescenceRestartsTheWait) {
  Rig r;
  r.host.command(make_trial(9));
  r.host.run(150000);
  r.board.hal().move_wheel(10);  // beyond the 4-tick tolerance
  r.host.run(150000);
  EXPECT_FALSE(r.board.hal().cue_on());  // only 150 ms of stillness so far
  r.host.run(100000);
  EXPECT_TRUE(r.board.hal().cue_on());
  r.board.hal().move_wheel(-100);
  r.host.run(100000);
  const auto result = r.host.result(9);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->quiescence_restarts, 1);
  EXPECT_EQ(result->outcome, static_cast<uint8_t>(wire::TrialOutcome::kLeft));
}

TEST(TrialExecutor, SmallMovementWithinToleranceDoesNotRestart) {
  Rig r;
  r.host.command(make_trial(10));
  r.host.run(100000);
  r.board.hal().move_wheel(3);
  r.host.run(150000);
  EXPECT_TRUE(r.board.hal().cue_on());
}

TEST(TrialExecutor, NoCrossingWithinTheWindowIsAMissWithNoValve) {
  Rig r;
  r.host.command(make_trial(11));
  r.host.run(300000);
  r.board.hal().move_wheel(50);  // half way only
  r.host.run(2100000);
  const auto result = r.host.result(11);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->outcome, static_cast<uint8_t>(wire::TrialOutcome::kMiss));
  EXPECT_TRUE(r.board.hal().valve_log().empty());
  EXPECT_EQ(result->choice_t_us, 0u);
}

TEST(TrialExecutor, InstructedTrialIgnoresTheOtherSide) {
  Rig r;
  r.host.command(make_trial(12, wire::TrialKind::kInstructedLeft));
  r.host.run(300000);
  r.board.hal().move_wheel(150);  // right: does not count
  EXPECT_EQ(r.board.hal().open_valve_mask(), 0);
  r.board.hal().move_wheel(-300);  // back through the origin to -150: left counts
  EXPECT_EQ(r.board.hal().open_valve_mask(), core::valve_bit(wire::Valve::kCherry));
  r.host.run(100000);
  const auto result = r.host.result(12);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->outcome, static_cast<uint8_t>(wire::TrialOutcome::kLeft));
  EXPECT_TRUE(result->flags & wire::kResultWrongSide);
}

TEST(TrialExecutor, AbortDuringDeliveryClosesValvesAndReportsWhatFlowed) {
  Rig r;
  auto t = make_trial(13);
  t.open_us[wire::open_index(wire::Side::kRight, wire::Valve::kGrape)] = 400000;
  r.host.command(t);
  r.host.run(300000);
  r.board.hal().move_wheel(100);
  r.host.run(100000);
  EXPECT_TRUE(r.board.hal().open_valve_mask());
  wire::AbortTrial a{};
  a.trial_id = 13;
  r.host.command(a);
  r.host.run(1000);
  EXPECT_EQ(r.board.hal().open_valve_mask(), 0);
  r.host.run(50000);
  const auto result = r.host.result(13);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->outcome, static_cast<uint8_t>(wire::TrialOutcome::kAborted));
  EXPECT_GT(result->delivered_open_us[1], 90000u);
  EXPECT_LT(result->delivered_open_us[1], 200000u);
}

TEST(TrialExecutor, AbortDuringQuiescenceEndsTheTrial) {
  Rig r;
  r.host.command(make_trial(14));
  r.host.run(100000);
  wire::AbortTrial a{};
  a.trial_id = 14;
  r.host.command(a);
  r.host.run(100000);
  ASSERT_TRUE(r.host.result(14));
  EXPECT_EQ(r.host.result(14)->outcome, static_cast<uint8_t>(wire::TrialOutcome::kAborted));
  EXPECT_EQ(r.board.device().executor().state(), wire::TrialState::kIdle);
}

TEST(TrialExecutor, AbortOfAnotherTrialIsRefused) {
  Rig r;
  r.host.command(make_trial(15));
  wire::AbortTrial a{};
  a.trial_id = 99;
  const uint16_t seq = r.host.command(a);
  r.host.run(50000);
  ASSERT_TRUE(r.host.ack_for(seq));
  EXPECT_EQ(r.host.ack_for(seq)->status, static_cast<uint8_t>(wire::AckStatus::kBadState));
  EXPECT_EQ(r.host.ack_for(seq)->detail, 15u);
}

TEST(TrialExecutor, SecondArmWhileArmedIsRefused) {
  Rig r;
  r.host.command(make_trial(16));
  const uint16_t seq = r.host.command(make_trial(17));
  r.host.run(50000);
  EXPECT_EQ(r.host.ack_for(seq)->status, static_cast<uint8_t>(wire::AckStatus::kBadState));
}

TEST(TrialExecutor, OpenTimeAboveTheHardLimitIsClampedAndFlagged) {
  Rig r;
  auto t = make_trial(18);
  t.open_us[wire::open_index(wire::Side::kRight, wire::Valve::kGrape)] = 5000000;
  const uint16_t seq = r.host.command(t);
  r.host.run(300000);
  r.board.hal().move_wheel(100);
  r.host.run(700000);
  EXPECT_EQ(r.host.ack_for(seq)->status, static_cast<uint8_t>(wire::AckStatus::kClamped));
  const auto result = r.host.result(18);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->delivered_open_us[1], core::kHardMaxOpenUs);
  EXPECT_TRUE(result->flags & wire::kResultClamped);
  const auto& log = r.board.hal().valve_log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].close_us - log[0].open_us, core::kHardMaxOpenUs);
  EXPECT_TRUE(r.board.device().latched_faults() & wire::kFaultValveLimit);
}

TEST(TrialExecutor, QuiescenceTimeoutEndsTheTrial) {
  Rig r;
  auto t = make_trial(19);
  t.quiescence_timeout_us = 500000;
  r.host.command(t);
  for (int i = 0; i < 12; ++i) {
    r.host.run(50000);
    r.board.hal().move_wheel(i % 2 ? 10 : -10);
  }
  const auto result = r.host.result(19);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->outcome, static_cast<uint8_t>(wire::TrialOutcome::kNoQuiescence));
}

TEST(TrialExecutor, ManualPulsesAreEqualAndSpacedByTheInterval) {
  Rig r;
  wire::PulseValve p{};
  p.valve = 0;
  p.count = 5;
  p.open_us = 40000;
  p.interval_us = 100000;
  r.host.command(p);
  r.host.run(700000);
  const auto& log = r.board.hal().valve_log();
  ASSERT_EQ(log.size(), 5u);
  for (size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i].close_us - log[i].open_us, 40000u);
    if (i > 0) {
      EXPECT_NEAR(static_cast<double>(log[i].open_us - log[i - 1].open_us), 100000.0, 40.0);
    }
  }
  const auto done = r.host.all<wire::PulseDone>();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].count, 5);
}

TEST(TrialExecutor, PulseTrainWaitsForThePerSecondWindow) {
  Rig r;
  wire::SetSafety s{};
  s.heartbeat_timeout_ms = 250;
  s.max_open_us = 200000;
  s.max_open_us_per_s = 400000;
  r.host.command(s);
  wire::PulseValve p{};
  p.valve = 1;
  p.count = 4;
  p.open_us = 200000;
  p.interval_us = 250000;
  r.host.command(p);
  r.host.run(3000000);
  const auto& log = r.board.hal().valve_log();
  ASSERT_EQ(log.size(), 4u);
  for (size_t i = 0; i < log.size(); ++i) {
    uint64_t in_window = 0;
    for (const auto& q : log) {
      if (q.open_us >= log[i].open_us && q.open_us < log[i].open_us + 1000000) in_window += q.close_us - q.open_us;
    }
    EXPECT_LE(in_window, 400000u);
  }
}
