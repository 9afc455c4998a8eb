// The sync line, the camera trigger and the lick inputs, end to end on the simulated board: commands in,
// pin edges out, reliable events back; and the event queue's reserved room for trial results.
#include <gtest/gtest.h>

#include <map>
#include <ostream>
#include <random>

#include "firmware/core/pulse_trains.hpp"
#include "host/sim/scripted_host.hpp"

using namespace rig;
using rig::sim::make_trial;
using ScriptedHost = rig::sim::ScriptedHost<rig::sim::SimBoard>;

namespace {

wire::SetSync sync_command(uint32_t seed, uint32_t min_us = wire::kDefaultSyncMinIntervalUs,
                           uint32_t max_us = wire::kDefaultSyncMaxIntervalUs, uint32_t width_us = wire::kDefaultSyncWidthUs) {
  wire::SetSync m{};
  m.enabled = 1;
  m.min_interval_us = min_us;
  m.max_interval_us = max_us;
  m.width_us = width_us;
  m.seed = seed;
  return m;
}

struct PinEdges {
  std::vector<uint64_t> rises[hal::kTrainCount];
  std::vector<uint64_t> falls[hal::kTrainCount];
};

// A simulated board whose train pins are watched, with a host that has said hello.
struct WatchedBoard {
  sim::SimBoard board;
  PinEdges pins;
  ScriptedHost host{board};
  WatchedBoard() {
    board.hal().on_train_edge([this](uint8_t line, bool high, uint64_t t_us) {
      (high ? pins.rises : pins.falls)[line].push_back(t_us);
    });
    host.hello();
  }
};

// Sends `command` and expects kBadArgument naming field `field`.
template <typename Message>
void expect_bad_argument(ScriptedHost& host, const Message& command, uint32_t field) {
  const uint16_t seq = host.command(command);
  host.run(20000);
  const auto ack = host.ack_for(seq);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->status, static_cast<uint8_t>(wire::AckStatus::kBadArgument));
  EXPECT_EQ(ack->detail, field);
}

std::vector<uint32_t> reported_sync_edges(const ScriptedHost& host, std::vector<uint32_t>* indices = nullptr) {
  std::vector<uint32_t> times;
  for (const auto& b : host.all<wire::SyncEdges>()) {
    for (uint8_t i = 0; i < b.count; ++i) {
      times.push_back(b.rise_t_us[i]);
      if (indices) indices->push_back(b.first_edge_index + i);
    }
  }
  return times;
}

struct Lick {
  uint8_t spout;
  bool onset;
  uint32_t t_us;
  bool operator==(const Lick& o) const { return spout == o.spout && onset == o.onset && t_us == o.t_us; }
};

[[maybe_unused]] std::ostream& operator<<(std::ostream& os, const Lick& l) {
  return os << (l.spout ? "grape " : "cherry ") << (l.onset ? "on " : "off ") << l.t_us;
}

std::vector<Lick> reported_licks(const ScriptedHost& host) {
  std::vector<Lick> out;
  for (const auto& b : host.all<wire::LickEdges>()) {
    for (uint8_t i = 0; i < b.count; ++i) {
      out.push_back(Lick{static_cast<uint8_t>(b.kind[i] & wire::kLickGrape), (b.kind[i] & wire::kLickOnset) != 0, b.t_us[i]});
    }
  }
  return out;
}

wire::SetLicks licks_on(uint16_t debounce_us = wire::kDefaultDebounceUs) {
  wire::SetLicks m{};
  m.enabled = 1;
  m.debounce_us = debounce_us;
  return m;
}

}  // namespace

TEST(XorShift32, MatchesMarsagliasSequenceAndTreatsSeedZeroAsOne) {
  core::XorShift32 rng;
  rng.seed(1);
  // Known-answer values of xorshift32 (13, 17, 5) from state 1.
  EXPECT_EQ(rng.next(), 270369u);
  EXPECT_EQ(rng.next(), 67634689u);
  EXPECT_EQ(rng.next(), 2647435461u);
  core::XorShift32 zero;
  zero.seed(0);
  EXPECT_EQ(zero.next(), 270369u);
}

TEST(SyncOutput, EveryPinEdgeIsReportedOnceAtItsExactTimeWithConsecutiveIndices) {
  WatchedBoard w;
  auto& [board, pins, host] = w;
  const uint64_t commanded_at = board.now_us();
  const uint16_t seq = host.command(sync_command(42));
  host.run(10'000'000);
  ASSERT_EQ(host.ack_for(seq)->status, static_cast<uint8_t>(wire::AckStatus::kOk));
  const auto& rises = pins.rises[hal::kTrainSync];
  ASSERT_GT(rises.size(), 60u);  // 10 s at 50-150 ms
  EXPECT_GE(rises.front(), commanded_at + wire::kSyncStartDelayUs);
  for (size_t i = 1; i < rises.size(); ++i) {
    const uint64_t interval = rises[i] - rises[i - 1];
    EXPECT_GE(interval, wire::kDefaultSyncMinIntervalUs);
    EXPECT_LE(interval, wire::kDefaultSyncMaxIntervalUs);
    EXPECT_EQ(pins.falls[hal::kTrainSync][i - 1] - rises[i - 1], wire::kDefaultSyncWidthUs);
  }
  std::vector<uint32_t> indices;
  const auto reported = reported_sync_edges(host, &indices);
  // Everything up to the last kSyncFlushUs has been reported, in order, at the pin's time.
  ASSERT_GE(reported.size() + 3, rises.size());
  for (size_t i = 0; i < reported.size(); ++i) {
    EXPECT_EQ(reported[i], static_cast<uint32_t>(rises[i])) << "edge " << i;
    EXPECT_EQ(indices[i], i);
  }
}

TEST(SyncOutput, TheIntervalsAreReproducibleFromTheSeed) {
  std::vector<uint64_t> first, second;
  for (auto* out : {&first, &second}) {
    WatchedBoard w;
    w.host.command(sync_command(7));
    w.host.run(3'000'000);
    const auto& rises = w.pins.rises[hal::kTrainSync];
    for (size_t i = 1; i < rises.size(); ++i) out->push_back(rises[i] - rises[i - 1]);
  }
  ASSERT_GT(first.size(), 15u);
  EXPECT_EQ(first, second);
}

TEST(SyncOutput, RefusesIntervalsAndWidthsOutOfRangeAndLeavesTheTrainAsItWas) {
  sim::SimBoard board;
  ScriptedHost host(board);
  host.hello();
  struct Case {
    wire::SetSync command;
    uint32_t field;
  };
  const Case cases[] = {
      {sync_command(1, wire::kMinSyncIntervalUs - 1, 100000), 2},
      {sync_command(1, 120000, 100000), 2},
      {sync_command(1, 50000, wire::kMaxSyncIntervalUs + 1), 3},
      {sync_command(1, 50000, 150000, wire::kMinPulseWidthUs - 1), 4},
      {sync_command(1, 50000, 150000, 50000), 4},
      {sync_command(1, 50000, 150000, wire::kMaxPulseWidthUs + 1), 4},
  };
  for (const Case& c : cases) expect_bad_argument(host, c.command, c.field);
  EXPECT_FALSE(board.hal().train_running(hal::kTrainSync));
}

TEST(SyncOutput, StopsOnCommandAndReportsTheLastEdges) {
  WatchedBoard w;
  auto& [board, pins, host] = w;
  host.command(sync_command(3));
  host.run(2'000'000);
  wire::SetSync off{};
  host.command(off);
  host.run(1'000'000);
  const size_t made = pins.rises[0].size();
  host.run(1'000'000);
  EXPECT_EQ(pins.rises[0].size(), made);
  EXPECT_EQ(pins.falls[0].size(), made);  // the last pulse ended low
  EXPECT_EQ(reported_sync_edges(host).size(), made);
}

TEST(SyncOutput, KeepsRunningThroughTrialsAndAHostWatchdogTrip) {
  WatchedBoard w;
  auto& [board, pins, host] = w;
  host.command(sync_command(9));
  host.command(make_trial(1));
  host.run(1'000'000);
  board.hal().move_wheel(150);
  host.run(1'000'000);
  ASSERT_TRUE(host.result(1));
  const size_t before = pins.rises[0].size();
  board.run_for(2'000'000);  // the host falls silent: the watchdog trips, the sync line goes on
  EXPECT_NE(board.device().latched_faults() & wire::kFaultHostTimeout, 0);
  EXPECT_GT(pins.rises[0].size(), before + 10);
}

TEST(CameraTrigger, TriggersAtAFixedRateAndReportsItsStartAndItsCount) {
  WatchedBoard w;
  auto& [board, pins, host] = w;
  wire::SetCamera cam{};
  cam.period_us = 10000;  // 100 Hz
  cam.width_us = wire::kDefaultCameraWidthUs;
  host.command(cam);
  host.run(2'000'000);
  wire::SetCamera off{};
  host.command(off);
  host.run(200'000);
  const auto& rises = pins.rises[hal::kTrainCamera];
  ASSERT_GT(rises.size(), 190u);
  for (size_t i = 1; i < rises.size(); ++i) ASSERT_EQ(rises[i] - rises[i - 1], 10000u);
  const auto reports = host.all<wire::CameraFrames>();
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].event, static_cast<uint8_t>(wire::CameraEvent::kStarted));
  EXPECT_EQ(reports[0].first_frame_t_us, static_cast<uint32_t>(rises.front()));
  EXPECT_EQ(reports[0].period_us, 10000u);
  EXPECT_EQ(reports[1].event, static_cast<uint8_t>(wire::CameraEvent::kStopped));
  EXPECT_EQ(reports[1].frame_count, rises.size());
  EXPECT_EQ(reports[1].last_frame_t_us, static_cast<uint32_t>(rises.back()));
  EXPECT_EQ(pins.falls[hal::kTrainCamera].size(), rises.size());
}

TEST(CameraTrigger, RefusesRatesOutsideOneTo200HzAndWidthsThatDoNotFit) {
  sim::SimBoard board;
  ScriptedHost host(board);
  host.hello();
  const std::pair<wire::SetCamera, uint32_t> cases[] = {
      {{wire::kMinCameraPeriodUs - 1, 1000}, 1},
      {{wire::kMaxCameraPeriodUs + 1, 1000}, 1},
      {{10000, wire::kMinPulseWidthUs - 1}, 2},
      {{10000, 10000}, 2},
  };
  for (const auto& [command, field] : cases) expect_bad_argument(host, command, field);
  EXPECT_TRUE(host.all<wire::CameraFrames>().empty());
}

TEST(LickDetector, ReportsOnsetsAndOffsetsOfBothSpoutsAtTheirRawEdgeTimes) {
  sim::SimBoard board;
  ScriptedHost host(board);
  host.hello();
  host.command(licks_on());
  host.run(20000);
  std::vector<Lick> expected;
  // Cherry licks at 10 Hz, grape at 7 Hz, 40 ms contacts, for 2 s.
  std::vector<std::pair<uint64_t, Lick>> plan;
  const uint64_t t0 = board.now_us() + 1000;
  for (int k = 0; k < 20; ++k) {
    plan.push_back({t0 + k * 100000, Lick{0, true, 0}});
    plan.push_back({t0 + k * 100000 + 40000, Lick{0, false, 0}});
  }
  for (int k = 0; k < 14; ++k) {
    plan.push_back({t0 + 3333 + k * 142857, Lick{1, true, 0}});
    plan.push_back({t0 + 3333 + k * 142857 + 40000, Lick{1, false, 0}});
  }
  std::sort(plan.begin(), plan.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [t, lick] : plan) {
    host.run(t - board.now_us());  // acknowledging as a host does
    board.hal().set_lick(lick.spout, lick.onset);
    lick.t_us = static_cast<uint32_t>(t);
    expected.push_back(lick);
  }
  host.run(300000);
  auto reported = reported_licks(host);
  auto by_time = [](const Lick& a, const Lick& b) { return a.t_us < b.t_us; };
  std::stable_sort(reported.begin(), reported.end(), by_time);
  ASSERT_EQ(reported.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(reported[i], expected[i]) << "lick edge " << i;
  const auto batches = host.all<wire::LickEdges>();
  ASSERT_FALSE(batches.empty());
  EXPECT_EQ(batches.back().glitches, 0);
  uint16_t index = 0;
  for (const auto& b : batches) {
    EXPECT_EQ(b.first_index, index);
    index = static_cast<uint16_t>(index + b.count);
  }
}

TEST(LickDetector, CountsPulsesShorterThanTheDebounceAsGlitchesAndNeverReportsThem) {
  sim::SimBoard board;
  ScriptedHost host(board);
  host.hello();
  host.command(licks_on(2000));
  host.run(20000);
  // A 500 us spike, then a real lick whose onset bounces once (a 300 us drop 1 ms in).
  board.hal().set_lick(0, true);
  board.run_for(500);
  board.hal().set_lick(0, false);
  board.run_for(20000);
  const uint32_t onset = static_cast<uint32_t>(board.now_us());
  board.hal().set_lick(0, true);
  board.run_for(1000);
  board.hal().set_lick(0, false);
  board.run_for(300);
  board.hal().set_lick(0, true);
  const uint32_t settled = static_cast<uint32_t>(board.now_us());
  board.run_for(50000);
  board.hal().set_lick(0, false);
  const uint32_t offset = static_cast<uint32_t>(board.now_us());
  host.run(200000);
  const auto licks = reported_licks(host);
  ASSERT_EQ(licks.size(), 2u);
  EXPECT_TRUE(licks[0].onset);
  // The bounce broke the first contact: the onset counts from the contact that held.
  EXPECT_EQ(licks[0].t_us, settled);
  EXPECT_NE(licks[0].t_us, onset);
  EXPECT_FALSE(licks[1].onset);
  EXPECT_EQ(licks[1].t_us, offset);
  EXPECT_EQ(host.all<wire::LickEdges>().back().glitches, 2);
}

TEST(LickDetector, IgnoresTheInputsUntilTurnedOnAndRefusesADebounceOutOfRange) {
  sim::SimBoard board;
  ScriptedHost host(board);
  host.hello();
  board.hal().set_lick(1, true);
  board.run_for(10000);
  board.hal().set_lick(1, false);
  host.run(100000);
  EXPECT_TRUE(reported_licks(host).empty());
  expect_bad_argument(host, licks_on(wire::kMaxDebounceUs + 1), 2);
  EXPECT_FALSE(board.device().licks().enabled());
}

// A host that stops acknowledging events while licks, sync edges and trials keep coming: data batches give
// way first, the armed trial's result always reaches the host, and a trial is refused (kBusy) rather than
// armed without room for its result.
TEST(EventQueueReservation, TrialResultsSurviveAQueueFullOfLicksAndSyncEdges) {
  sim::SimBoard board;
  ScriptedHost host(board);
  host.hello();
  host.command(sync_command(5, 10000, 12000, 1000));
  host.command(licks_on(200));
  host.run(30000);
  std::mt19937 rng(11);
  uint32_t id = 1;
  int busy = 0;
  std::vector<uint32_t> armed;
  // Withhold acknowledgements: only heartbeats keep the device's watchdog quiet.
  for (int round = 0; round < 40; ++round) {
    const uint16_t seq = host.command(make_trial(id));
    for (int k = 0; k < 200; ++k) {
      board.hal().set_lick(static_cast<uint8_t>(k % 2), true);
      board.run_for(500 + rng() % 500);
      board.hal().set_lick(static_cast<uint8_t>(k % 2), false);
      board.run_for(500 + rng() % 500);
    }
    host.run(250000, true, false);
    board.hal().move_wheel(round % 2 ? 150 : -150);
    host.run(300000, true, false);
    const auto ack = host.ack_for(seq);
    ASSERT_TRUE(ack) << "round " << round;
    if (ack->status == static_cast<uint8_t>(wire::AckStatus::kBusy)) {
      ++busy;
    } else {
      ASSERT_EQ(ack->status, static_cast<uint8_t>(wire::AckStatus::kOk));
      armed.push_back(id);
      ++id;
    }
  }
  EXPECT_GT(busy, 0) << "the queue never filled";
  EXPECT_NE(board.device().latched_faults() & wire::kFaultEventOverflow, 0);
  // Acknowledge again: every armed trial's result arrives.
  host.run(2'000'000);
  for (uint32_t trial : armed) EXPECT_TRUE(host.result(trial)) << "trial " << trial << " lost its result";
  EXPECT_EQ(board.device().events().reserved_results(), 0);
}
