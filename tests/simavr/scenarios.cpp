#include "scenarios.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <sstream>
#include <stdexcept>

#include "io_checks.hpp"
#include "session.hpp"

namespace rig::device {
namespace {

using Host = SimavrHost;
using Session = SimavrSession;

struct Checker {
  ScenarioReport& report;
  void check(bool ok, const std::string& what) {
    if (!ok) report.failures.push_back(what);
  }
  void note(const std::string& what) { report.notes.push_back(what); }
};

std::string fmt(const char* format, double value) {
  char buf[96];
  std::snprintf(buf, sizeof(buf), format, value);
  return buf;
}

// Pulses of one valve pin as (rise cycle, fall cycle).
std::vector<std::pair<uint64_t, uint64_t>> pulses(const SimavrBoard& board, uint8_t pin) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const PinEdge& e : board.output_edges()) {
    if (e.pin != pin) continue;
    if (e.high) {
      out.push_back({e.cycle, 0});
    } else if (!out.empty() && out.back().second == 0) {
      out.back().second = e.cycle;
    }
  }
  return out;
}

uint8_t outcome_of(const Host& host, uint32_t trial_id) {
  const auto r = host.result(trial_id);
  return r ? r->outcome : 0xFF;
}

void full_trial(Checker& c, const std::string& elf) {
  Session s(elf);
  const uint16_t seq = s.host.command(sim::make_trial(1));
  s.host.run(300000);
  c.check(s.host.ack_for(seq).has_value() && s.host.ack_for(seq)->status == 0, "ArmTrial acknowledged with kOk");
  c.check(s.board.cue_on(), "go cue on after 200 ms of stillness");
  s.board.move_wheel(120, 800);
  s.host.run(200000);
  const auto result = s.host.result(1);
  c.check(result.has_value(), "TrialResult for trial 1 arrives");
  if (!result) return;
  c.check(result->outcome == static_cast<uint8_t>(wire::TrialOutcome::kRight), "outcome is right");
  c.check(result->delivered_open_us[1] == 45000 && result->delivered_open_us[0] == 0, "grape 45 ms delivered, cherry none");
  const auto grape = pulses(s.board, 12);
  c.check(grape.size() == 1 && pulses(s.board, 11).empty(), "exactly one grape pulse, no cherry");
  if (grape.size() != 1 || s.board.encoder_edge_cycles().size() < 100) return;
  const double open_us = (grape[0].second - grape[0].first) / kCyclesPerUs;
  const double latency_us = (grape[0].first - s.board.encoder_edge_cycles()[99]) / kCyclesPerUs;
  c.check(std::fabs(open_us - 45000) <= 8, fmt("pulse 45000 us +- 8 (measured %.2f us)", open_us));
  c.check(latency_us >= 0 && latency_us <= 20, fmt("choice-to-valve <= 20 us (measured %.2f us)", latency_us));
  c.note(fmt("choice_to_valve_us=%.2f", latency_us));
  c.note(fmt("pulse_us=%.2f", open_us));
}

void miss(Checker& c, const std::string& elf) {
  Session s(elf);
  auto t = sim::make_trial(2);
  t.response_window_us = 500000;
  s.host.command(t);
  s.host.run(250000);
  s.board.move_wheel(40, 800);  // some movement, not enough
  s.host.run(600000);
  c.check(outcome_of(s.host, 2) == static_cast<uint8_t>(wire::TrialOutcome::kMiss), "outcome is miss");
  c.check(s.board.valve_log().empty(), "no valve opened");
  c.check(!s.board.cue_on(), "cue off at the end");
}

void instructed(Checker& c, const std::string& elf) {
  Session s(elf);
  s.host.command(sim::make_trial(3, wire::TrialKind::kInstructedLeft));
  s.host.run(300000);
  s.board.move_wheel(150, 800);
  s.host.run(50000);
  c.check(s.board.valve_log().empty(), "the right side does not count on an instructed-left trial");
  s.board.move_wheel(-300, 800);
  s.host.run(100000);
  const auto result = s.host.result(3);
  c.check(result.has_value() && result->outcome == static_cast<uint8_t>(wire::TrialOutcome::kLeft), "outcome is left");
  c.check(result.has_value() && (result->flags & wire::kResultWrongSide), "wrong-side crossing flagged");
  const auto cherry = pulses(s.board, 11);
  c.check(cherry.size() == 1 && pulses(s.board, 12).empty(), "cherry opened once, grape never");
}

void abort_trial(Checker& c, const std::string& elf) {
  Session s(elf);
  s.host.command(sim::make_trial(4));
  s.host.run(100000);
  wire::AbortTrial a{};
  a.trial_id = 4;
  s.host.command(a);
  s.host.run(50000);
  c.check(outcome_of(s.host, 4) == static_cast<uint8_t>(wire::TrialOutcome::kAborted), "abort in quiescence ends the trial");

  auto t = sim::make_trial(5);
  t.open_us[wire::open_index(wire::Side::kRight, wire::Valve::kGrape)] = 400000;
  s.host.command(t);
  s.host.run(300000);
  s.board.move_wheel(110, 800);
  s.host.run(100000);
  c.check(s.board.valve_open(1), "grape open during delivery");
  a.trial_id = 5;
  s.host.command(a);
  s.host.run(2000, false);
  const uint64_t abort_arrived = s.board.last_input_cycle();
  s.host.run(50000);
  const auto grape = pulses(s.board, 12);
  c.check(grape.size() == 1 && grape[0].second != 0, "grape closed by the abort");
  if (grape.size() == 1 && grape[0].second != 0) {
    const double close_after_us = (static_cast<double>(grape[0].second) - abort_arrived) / kCyclesPerUs;
    c.check(close_after_us < 1000, fmt("valve closed within 1 ms of the abort (%.1f us)", close_after_us));
  }
  const auto result = s.host.result(5);
  c.check(result.has_value() && result->outcome == static_cast<uint8_t>(wire::TrialOutcome::kAborted), "outcome aborted");
  c.check(result.has_value() && result->delivered_open_us[1] < 400000, "delivered time reports the cut pulse");
}

void host_silence(Checker& c, const std::string& elf) {
  Session s(elf);
  auto t = sim::make_trial(6);
  t.open_us[wire::open_index(wire::Side::kRight, wire::Valve::kGrape)] = 500000;
  s.host.command(t);
  s.host.run(300000);
  s.board.move_wheel(110, 800);
  s.host.run(20000);
  c.check(s.board.valve_open(1), "grape open when the host goes silent");
  s.board.run_for(400000);  // silence (the bytes already queued still go out first)
  const uint64_t last_host_byte = s.board.last_input_cycle();
  const auto grape = pulses(s.board, 12);
  c.check(grape.size() == 1 && grape[0].second != 0, "the watchdog closed the valve");
  if (grape.size() == 1 && grape[0].second != 0) {
    const double ms = (static_cast<double>(grape[0].second) - last_host_byte) / kCyclesPerUs / 1000.0;
    c.check(ms <= 255.0, fmt("closed within 250 + 5 ms of the last host byte (%.2f ms)", ms));
    c.note(fmt("watchdog_close_ms=%.2f", ms));
  }
  s.host.hello();
  s.host.run(100000);
  const auto result = s.host.result(6);
  c.check(result.has_value() && result->outcome == static_cast<uint8_t>(wire::TrialOutcome::kWatchdogAbort),
          "the trial was reported as a watchdog abort when the host returned");
  bool fault = false;
  for (const auto& f : s.host.all<wire::Fault>()) fault |= f.fault_bit == wire::kFaultHostTimeout;
  c.check(fault, "the host-timeout fault was reported when the host returned");
}

// The sync line runs through a trial: every rising edge on pin 6 is reported once, within 2 us of the pin;
// intervals and widths are as commanded.
void sync_pulses(Checker& c, const std::string& elf) {
  Session s(elf);
  const uint16_t seq = s.host.command(default_sync(2024));
  s.host.command(sim::make_trial(1));
  s.host.run(600000);
  s.board.move_wheel(120, 800);
  s.host.run(4'400'000);
  c.check(s.host.ack_for(seq) && s.host.ack_for(seq)->status == 0, "SetSync acknowledged with kOk");
  c.check(s.host.result(1).has_value(), "the trial ran alongside");
  const auto rises = pin_rises_us(s.board, wire::kPinSync);
  const auto reported = reported_sync(s.host);
  const EdgeMatch m = match_edges(rises, reported);
  c.check(rises.size() >= 30, "at least 30 sync pulses in 5 s (" + std::to_string(rises.size()) + ")");
  c.check(m.matched == m.reported && m.reported + 3 >= m.pin_edges,
          "every reported edge is a pin edge and every pin edge older than the flush is reported (" +
              std::to_string(m.matched) + " of " + std::to_string(m.pin_edges) + ")");
  c.check(m.error_us_max <= 2.0, fmt("reported edge within 2 us of the pin (worst %.3f us)", m.error_us_max));
  bool intervals_ok = true, widths_ok = true;
  const auto& edges = s.board.output_edges();
  double last_rise = -1;
  for (const PinEdge& e : edges) {
    if (e.pin != wire::kPinSync) continue;
    const double t = s.board.device_us_at(e.cycle);
    if (e.high) {
      if (last_rise >= 0) {
        const double interval = t - last_rise;
        intervals_ok &= interval >= wire::kDefaultSyncMinIntervalUs - 1 && interval <= wire::kDefaultSyncMaxIntervalUs + 1;
      }
      last_rise = t;
    } else {
      widths_ok &= std::fabs(t - last_rise - wire::kDefaultSyncWidthUs) <= 1.0;
    }
  }
  c.check(intervals_ok, "every interval within 50-150 ms");
  c.check(widths_ok, "every pulse 5 ms wide (+-1 us)");
  c.note(fmt("sync_edge_error_us_max=%.3f", m.error_us_max));
}

// Both spouts licking at 15 Hz during a trial: every onset and offset reported once, within 10 us.
void licks(Checker& c, const std::string& elf) {
  Session s(elf);
  const uint16_t seq = s.host.command(licks_on());
  s.host.run(20000);
  c.check(s.host.ack_for(seq) && s.host.ack_for(seq)->status == 0, "SetLicks acknowledged with kOk");
  s.board.schedule_licks(lick_plan(s.board.cycle() + 1000, 3.0, 15.0, 30000, 7));
  s.host.command(sim::make_trial(1));
  s.host.run(600000);
  s.board.move_wheel(-120, 800);
  s.host.run(2'700'000);
  const LickMatch m = match_licks(s.board, s.host);
  c.check(m.driven >= 170, "both spouts licked about 45 times each (" + std::to_string(m.driven) + " edges)");
  c.check(m.lost == 0 && m.duplicated == 0 && m.spurious == 0,
          "no lick edge lost, duplicated or invented (lost " + std::to_string(m.lost) + ", duplicated " +
              std::to_string(m.duplicated) + ", spurious " + std::to_string(m.spurious) + ")");
  c.check(m.error_us_max <= 10.0, fmt("every lick edge within 10 us (worst %.3f us)", m.error_us_max));
  c.check(s.host.result(1).has_value(), "the trial ran alongside");
  c.note(fmt("lick_timestamp_error_us_max=%.3f", m.error_us_max));
}

// The camera trigger at 100 Hz: a frame every 10 ms on pin 46; its start and its count reported.
void camera_trigger(Checker& c, const std::string& elf) {
  Session s(elf);
  s.host.command(camera_at(100));
  s.host.run(2'000'000);
  wire::SetCamera off{};
  s.host.command(off);
  s.host.run(200'000);
  const auto rises = pin_rises_us(s.board, wire::kPinCamera);
  c.check(rises.size() >= 190, "about 200 frames triggered (" + std::to_string(rises.size()) + ")");
  bool periodic = true;
  for (size_t i = 1; i < rises.size(); ++i) periodic &= std::fabs(rises[i] - rises[i - 1] - 10000.0) <= 0.5;
  c.check(periodic, "every frame 10 ms after the one before (+-0.5 us)");
  const auto reports = s.host.all<wire::CameraFrames>();
  c.check(reports.size() == 2, "CameraFrames reported twice (started, stopped)");
  if (reports.size() != 2 || rises.empty()) return;
  const double first_error = reports[0].first_frame_t_us - rises.front();
  c.check(std::fabs(first_error) <= 2.0, fmt("first frame reported within 2 us (%.3f us)", first_error));
  c.check(reports[1].frame_count == rises.size(), "the stop reports every frame (" +
                                                      std::to_string(reports[1].frame_count) + " of " +
                                                      std::to_string(rises.size()) + ")");
  const double last_error = reports[1].last_frame_t_us - rises.back();
  c.check(std::fabs(last_error) <= 2.0, fmt("last frame reported within 2 us (%.3f us)", last_error));
  size_t falls = 0;
  for (const PinEdge& e : s.board.output_edges()) falls += e.pin == wire::kPinCamera && !e.high;
  c.check(falls == rises.size(), "the trigger line ends low");
}

// Every scenario, in the order `all` runs them: its name once, here.
using Scenario = void (*)(Checker&, const std::string&);
const std::vector<std::pair<std::string, Scenario>>& scenarios() {
  static const std::vector<std::pair<std::string, Scenario>> kScenarios = {
      {"full_trial", full_trial},   {"miss", miss},   {"instructed", instructed},   {"abort", abort_trial},
      {"host_silence", host_silence}, {"sync_pulses", sync_pulses}, {"licks", licks},
      {"camera_trigger", camera_trigger}};
  return kScenarios;
}

}  // namespace

std::vector<std::string> scenario_names() {
  std::vector<std::string> names;
  for (const auto& [name, run] : scenarios()) names.push_back(name);
  return names;
}

ScenarioReport run_scenario(const std::string& name, const std::string& elf_path) {
  ScenarioReport report;
  report.name = name;
  Checker c{report};
  for (const auto& [known, run] : scenarios()) {
    if (known != name) continue;
    run(c, elf_path);
    return report;
  }
  throw std::invalid_argument("unknown scenario '" + name + "'");
}

}  // namespace rig::device
