// The device keeps the mouse safe when the host goes silent.
#include <gtest/gtest.h>

#include "host/sim/scripted_host.hpp"

using namespace rig;
using rig::sim::make_trial;
using ScriptedHost = rig::sim::ScriptedHost<rig::sim::SimBoard>;

TEST(Watchdog, HostSilenceClosesValvesAbortsTheTrialAndLatchesAFault) {
  sim::SimBoard board;
  ScriptedHost host(board);
  host.hello();
  auto t = make_trial(21);
  t.open_us[wire::open_index(wire::Side::kRight, wire::Valve::kGrape)] = 500000;
  host.command(t);
  host.run(300000);
  board.hal().move_wheel(100);
  ASSERT_TRUE(board.hal().open_valve_mask());
  const uint64_t silent_from = board.now_us();  // the host sent its last heartbeat just before
  board.run_for(400000);                         // and then nothing
  const auto& log = board.hal().valve_log();
  ASSERT_EQ(log.size(), 1u);
  const uint64_t closed_after = log[0].close_us - silent_from;
  EXPECT_LE(closed_after, 250000u + 50000u + 1000u);  // timeout after the last frame, + one loop
  EXPECT_LT(log[0].close_us - log[0].open_us, 500000u);
  EXPECT_TRUE(board.device().latched_faults() & wire::kFaultHostTimeout);
  EXPECT_EQ(board.device().executor().state(), wire::TrialState::kIdle);

  // The host comes back: the result and the fault arrive.
  host.hello();
  host.run(50000);
  const auto result = host.result(21);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->outcome, static_cast<uint8_t>(wire::TrialOutcome::kWatchdogAbort));
  bool fault = false;
  for (const auto& f : host.all<wire::Fault>()) fault |= f.fault_bit == wire::kFaultHostTimeout;
  EXPECT_TRUE(fault);
}

TEST(Watchdog, ClosesWithinTimeoutOfTheLastFrame) {
  sim::SimBoard board;
  ScriptedHost host(board);
  host.hello();
  wire::PulseValve p{};
  p.valve = 0;
  p.count = 1;
  p.open_us = 500000;
  p.interval_us = 600000;
  host.command(p);
  board.run_for(1000);  // the command (the last frame) was received in this millisecond
  const uint64_t last_frame_us = board.now_us();
  board.run_for(600000);
  const auto& log = board.hal().valve_log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_GE(log[0].close_us - last_frame_us, 249000u);
  EXPECT_LE(log[0].close_us - last_frame_us, 251000u);
}

TEST(Watchdog, ConfigurableTimeoutIsHonoured) {
  sim::SimBoard board;
  ScriptedHost host(board);
  host.hello();
  wire::SetSafety s{};
  s.heartbeat_timeout_ms = 100;
  s.max_open_us = 500000;
  s.max_open_us_per_s = 600000;
  host.command(s);
  host.run(10000);
  const uint64_t last = board.now_us();
  board.run_for(300000);
  host.collect();
  std::vector<wire::Fault> faults = host.all<wire::Fault>();
  ASSERT_FALSE(faults.empty());
  EXPECT_NEAR(static_cast<double>(faults[0].t_us - last), 100000.0, 51000.0);
}

TEST(Watchdog, DoesNotTripBeforeAHostHasSpoken) {
  sim::SimBoard board;
  board.run_for(2000000);
  EXPECT_EQ(board.device().latched_faults(), 0);
}

TEST(Watchdog, RegularHeartbeatsKeepTheTrialAlive) {
  sim::SimBoard board;
  ScriptedHost host(board);
  host.hello();
  host.command(make_trial(22));
  host.run(3000000);
  EXPECT_EQ(board.device().latched_faults() & wire::kFaultHostTimeout, 0);
  ASSERT_TRUE(host.result(22));
  EXPECT_EQ(host.result(22)->outcome, static_cast<uint8_t>(wire::TrialOutcome::kMiss));
}

TEST(Watchdog, StopsAPulseTrainAndCountsOnlyWholePulses) {
  sim::SimBoard board;
  ScriptedHost host(board);
  host.hello();
  wire::PulseValve p{};
  p.valve = 1;
  p.count = 20;
  p.open_us = 100000;
  p.interval_us = 150000;
  host.command(p);
  host.run(400000);  // three pulses started, the third still open when the host goes silent
  board.run_for(1500000);
  const size_t pulses = board.hal().valve_log().size();
  EXPECT_LE(pulses, 5u) << "the train must stop at the watchdog";
  host.hello();
  host.run(50000);
  const auto done = host.all<wire::PulseDone>();
  ASSERT_EQ(done.size(), 1u);
  size_t whole = 0;
  for (const auto& pulse : board.hal().valve_log()) whole += pulse.close_us - pulse.open_us == 100000 ? 1 : 0;
  EXPECT_EQ(done[0].count, whole);
}
