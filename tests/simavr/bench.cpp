// `rig-simavr-check bench`: latency, pulse accuracy, encoder throughput and watchdog timing of the real firmware,
// measured by CPU cycle in simavr.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <random>

#include "io_checks.hpp"
#include "scenarios.hpp"
#include "session.hpp"

namespace rig::device {
namespace {

using Host = SimavrHost;
using Session = SimavrSession;

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size()))) - 1;
  return v[std::min(i, v.size() - 1)];
}

// Rising edges of a pin after edge index `from`.
const PinEdge* first_rise_after(const SimavrBoard& board, size_t from, uint8_t pin) {
  const auto& edges = board.output_edges();
  for (size_t i = from; i < edges.size(); ++i) {
    if (edges[i].pin == pin && edges[i].high) return &edges[i];
  }
  return nullptr;
}

// Runs in 1 ms steps until `done()` or `limit_us` passed. Returns done().
template <typename Done>
bool run_until(Host& host, SimavrBoard& board, uint64_t limit_us, Done done) {
  const uint64_t end = board.now_us() + limit_us;
  while (!done() && board.now_us() < end) host.run(1000);
  return done();
}

// The last wheel position the device streamed and its count of invalid quadrature transitions.
std::pair<int64_t, uint16_t> wheel_count(const Host& host) {
  int64_t position = INT64_MIN;
  uint16_t invalid = 0;
  for (const auto& b : host.all<wire::WheelBatch>()) {
    int64_t p = b.position0_ticks;
    for (int i = 0; i + 1 < b.count; ++i) p += b.delta_ticks[i];
    position = p;
  }
  for (const auto& st : host.all<wire::DeviceStatus>()) invalid = st.encoder_invalid;
  return {position, invalid};
}

// Turns on everything else the firmware does while a session records: the sync line, the camera trigger at
// 200 Hz (its fastest), and both lick inputs with the spouts licked at 15 Hz each for `seconds`.
void everything_on(Session& s, unsigned seed, double seconds) {
  s.host.command(default_sync(seed));
  s.host.command(camera_at(200));
  s.host.command(licks_on());
  s.host.run(30000);
  s.board.schedule_licks(lick_plan(s.board.cycle() + 1000, seconds, 15.0, 30000, seed));
}

nlohmann::json choice_to_valve(const BenchOptions& o, bool busy) {
  Session s(o.elf_path);
  // About 60 ms of simulated time per trial.
  if (busy) everything_on(s, o.seed, 0.1 * o.trials + 5);
  std::mt19937 rng(o.seed);
  std::uniform_int_distribution<uint32_t> phase(1, 800);
  std::vector<double> latencies;
  int lost = 0;
  for (int i = 0; i < o.trials; ++i) {
    const uint32_t id = 1000 + static_cast<uint32_t>(i);
    wire::ArmTrial t = sim::make_trial(id);
    t.quiescence_us = 5000;
    t.response_window_us = 200000;
    t.threshold_left_ticks = t.threshold_right_ticks = 20;
    t.cue_duration_us = 100000;
    for (int k = 0; k < 4; ++k) t.open_us[k] = 0;
    t.open_us[wire::open_index(wire::Side::kLeft, wire::Valve::kCherry)] = 1000;
    t.open_us[wire::open_index(wire::Side::kRight, wire::Valve::kGrape)] = 1000;
    s.host.command(t);
    if (!run_until(s.host, s.board, 50000, [&] { return s.board.cue_on(); })) {
      ++lost;
      continue;
    }
    const bool right = (i % 2) == 0;
    const size_t edge_base = s.board.encoder_edge_cycles().size();
    const size_t out_base = s.board.output_edges().size();
    s.board.move_wheel(right ? 24 : -24, 800, phase(rng));
    const uint8_t pin = right ? 12 : 11;
    if (!run_until(s.host, s.board, 20000, [&] { return s.host.result(id).has_value(); })) {
      ++lost;
      continue;
    }
    const PinEdge* rise = first_rise_after(s.board, out_base, pin);
    if (!rise || s.board.encoder_edge_cycles().size() < edge_base + 20) {
      ++lost;
      continue;
    }
    latencies.push_back((static_cast<double>(rise->cycle) - s.board.encoder_edge_cycles()[edge_base + 19]) / kCyclesPerUs);
    if (i % 100 == 99) {
      std::cerr << "bench: choice-to-valve" << (busy ? " (sync, camera, licks on) " : " ") << (i + 1) << "/"
                << o.trials << " trials\n";
    }
    s.board.clear_output_edges();
  }
  return {{"trials", latencies.size()},
          {"lost_trials", lost},
          {"p50", percentile(latencies, 0.50)},
          {"p99", percentile(latencies, 0.99)},
          {"max", latencies.empty() ? NAN : *std::max_element(latencies.begin(), latencies.end())},
          {"min", latencies.empty() ? NAN : *std::min_element(latencies.begin(), latencies.end())},
          {"samples_us", latencies}};
}

nlohmann::json pulse_error(const BenchOptions& o) {
  Session s(o.elf_path);
  const uint32_t durations_us[] = {1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000};
  nlohmann::json rows = nlohmann::json::array();
  double worst = 0;
  uint32_t id = 1;
  for (uint32_t duration : durations_us) {
    for (int path = 0; path < 2; ++path) {  // 0: manual PulseValve (main loop opens), 1: trial (interrupt opens)
      const size_t out_base = s.board.output_edges().size();
      uint8_t pin = 11;
      if (path == 0) {
        wire::PulseValve p{};
        p.valve = 0;
        p.count = 1;
        p.open_us = duration;
        p.interval_us = duration + 1000;
        s.host.command(p);
        pin = 11;
      } else {
        wire::ArmTrial t = sim::make_trial(id++);
        t.quiescence_us = 5000;
        for (int k = 0; k < 4; ++k) t.open_us[k] = 0;
        t.open_us[wire::open_index(wire::Side::kRight, wire::Valve::kGrape)] = duration;
        s.host.command(t);
        run_until(s.host, s.board, 50000, [&] { return s.board.cue_on(); });
        s.board.move_wheel(110, 800);
        pin = 12;
      }
      s.host.run(duration + 30000);
      const auto& edges = s.board.output_edges();
      uint64_t rise = 0, fall = 0;
      for (size_t i = out_base; i < edges.size(); ++i) {
        if (edges[i].pin != pin) continue;
        if (edges[i].high && rise == 0) rise = edges[i].cycle;
        if (!edges[i].high && rise != 0 && fall == 0) fall = edges[i].cycle;
      }
      const double measured = rise && fall ? (fall - rise) / kCyclesPerUs : NAN;
      const double error = measured - duration;
      if (!(std::fabs(error) <= worst)) worst = std::isnan(error) ? INFINITY : std::max(worst, std::fabs(error));
      rows.push_back({{"commanded_us", duration}, {"path", path == 0 ? "manual" : "trial"}, {"error_us", error}});
      s.host.run(duration >= 100000 ? 1100000 : 20000);  // stay clear of the per-second limit
      if (path == 1) s.board.move_wheel(-110, 800);
      s.host.run(20000);
    }
    std::cerr << "bench: pulse " << duration << " us done\n";
  }
  return {{"max_abs_error_us", worst}, {"pulses", rows}};
}

// Drives `rate` edges/s forward for `seconds`; true when the device counted every one and saw no invalid
// transition.
bool lossless_at(const BenchOptions& o, uint32_t rate, nlohmann::json& detail) {
  Session s(o.elf_path);
  const uint32_t period_cycles = SimavrBoard::kFrequencyHz / rate;
  const int32_t edges = static_cast<int32_t>(rate * o.encoder_seconds);
  s.board.move_wheel(edges, period_cycles, 100);
  s.host.run(static_cast<uint64_t>(o.encoder_seconds * 1e6) + 100000);
  s.host.run(200000);
  const auto [position, invalid] = wheel_count(s.host);
  const bool ok = position == edges && invalid == 0;
  detail.push_back({{"edges_per_s", rate}, {"edges", edges}, {"counted", position}, {"invalid", invalid}, {"lossless", ok}});
  std::cerr << "bench: encoder " << rate << " edges/s: " << (ok ? "lossless" : "LOST EDGES") << "\n";
  return ok;
}

nlohmann::json encoder(const BenchOptions& o) {
  nlohmann::json detail = nlohmann::json::array();
  uint32_t best = 0;
  for (uint32_t rate : {25000u, 50000u, 75000u, 100000u, 125000u, 150000u, 200000u}) {
    if (!lossless_at(o, rate, detail)) break;
    best = rate;
  }
  return {{"lossless_edges_per_s", best}, {"rates", detail}};
}

// The sync line, the camera trigger and both lick inputs while the wheel turns at 20,000 edges/s: every
// reported edge against the pins' real edges.
nlohmann::json inputs_and_trains(const BenchOptions& o) {
  Session s(o.elf_path);
  const double seconds = o.encoder_seconds * 2;
  everything_on(s, o.seed, seconds);
  const int32_t edges = static_cast<int32_t>(20000 * seconds);
  s.board.move_wheel(edges, SimavrBoard::kFrequencyHz / 20000, 100);
  s.host.run(static_cast<uint64_t>(seconds * 1e6) + 100000);
  s.host.command(wire::SetCamera{});
  s.host.command(wire::SetSync{});
  s.host.run(500000);
  const EdgeMatch sync = match_edges(pin_rises_us(s.board, wire::kPinSync), reported_sync(s.host));
  const LickMatch licks = match_licks(s.board, s.host);
  const auto frames = pin_rises_us(s.board, wire::kPinCamera);
  if (std::getenv("RIG_BENCH_DEBUG")) {
    for (size_t i = 1; i < frames.size(); ++i) {
      if (std::fabs(frames[i] - frames[i - 1] - 5000) > 1) std::cerr << "DEBUG frame " << i << " at " << frames[i] << " interval " << frames[i] - frames[i - 1] << "\n";
    }
    for (const auto& f : s.host.all<wire::CameraFrames>()) std::cerr << "DEBUG report " << int(f.event) << " first " << f.first_frame_t_us << " count " << f.frame_count << " last " << f.last_frame_t_us << "\n";
    std::cerr << "DEBUG pin first " << frames.front() << " last " << frames.back() << "\n";
  }
  double camera_error = NAN;
  uint32_t reported_frames = 0;
  for (const auto& f : s.host.all<wire::CameraFrames>()) {
    if (f.event == static_cast<uint8_t>(wire::CameraEvent::kStopped) && !frames.empty()) {
      reported_frames = f.frame_count;
      camera_error = std::max(std::fabs(f.first_frame_t_us - frames.front()), std::fabs(f.last_frame_t_us - frames.back()));
    }
  }
  const auto [position, invalid] = wheel_count(s.host);
  std::cerr << "bench: sync, camera and licks under a 20,000 edges/s wheel: " << sync.matched << " sync edges, "
            << licks.driven << " lick edges, " << frames.size() << " frames\n";
  return {{"seconds", seconds},
          {"sync_edges", sync.pin_edges},
          {"sync_reported", sync.reported},
          {"sync_matched", sync.matched},
          {"sync_edge_error_us_max", sync.error_us_max},
          {"lick_edges_driven", licks.driven},
          {"lick_edges_reported", licks.reported},
          {"licks_lost", licks.lost},
          {"licks_duplicated", licks.duplicated},
          {"licks_spurious", licks.spurious},
          {"lick_timestamp_error_us_max", licks.error_us_max},
          {"camera_frames", frames.size()},
          {"camera_frames_reported", reported_frames},
          {"camera_frame_error_us_max", camera_error},
          {"wheel_edges", edges},
          {"wheel_counted", position},
          {"wheel_invalid", invalid},
          {"wheel_lossless", position == edges && invalid == 0}};
}

// Licks on both spouts at increasing rates (contacts half a period long): the highest total rate (licks a
// second, both spouts together) at which no lick edge is lost, duplicated or invented.
nlohmann::json lick_throughput(const BenchOptions& o) {
  nlohmann::json rates = nlohmann::json::array();
  double best = 0;
  for (double per_spout : {25.0, 50.0, 100.0, 150.0, 200.0}) {
    Session s(o.elf_path);
    s.host.command(licks_on());
    s.host.run(20000);
    const double seconds = 5.0;
    s.board.schedule_licks(lick_plan(s.board.cycle() + 1000, seconds, per_spout, 0.5e6 / per_spout, o.seed));
    s.host.run(static_cast<uint64_t>(seconds * 1e6) + 300000);
    const LickMatch m = match_licks(s.board, s.host);
    const bool ok = m.lost == 0 && m.duplicated == 0 && m.spurious == 0 && m.driven > 0;
    rates.push_back({{"licks_per_s", 2 * per_spout}, {"edges", m.driven}, {"lost", m.lost}, {"duplicated", m.duplicated},
                     {"spurious", m.spurious}, {"error_us_max", m.error_us_max}, {"lossless", ok}});
    std::cerr << "bench: licks at " << 2 * per_spout << "/s: " << (ok ? "lossless" : "LOST OR DUPLICATED") << "\n";
    if (!ok) break;
    best = 2 * per_spout;
  }
  return {{"lossless_licks_per_s", best}, {"rates", rates}};
}

nlohmann::json watchdog(const BenchOptions& o) {
  std::vector<double> ms;
  for (int i = 0; i < 5; ++i) {
    Session s(o.elf_path);
    s.host.run(static_cast<uint64_t>(1000 + 7919 * i));
    wire::PulseValve p{};
    p.valve = static_cast<uint8_t>(i % 2);
    p.count = 1;
    p.open_us = 500000;
    p.interval_us = 600000;
    s.host.command(p);
    s.host.run(1000, false);
    s.board.run_for(600000);
    const uint64_t last = s.board.last_input_cycle();
    const uint8_t pin = static_cast<uint8_t>(11 + i % 2);
    for (const PinEdge& e : s.board.output_edges()) {
      if (e.pin == pin && !e.high) ms.push_back((static_cast<double>(e.cycle) - last) / kCyclesPerUs / 1000.0);
    }
  }
  return {{"max_ms", ms.empty() ? NAN : *std::max_element(ms.begin(), ms.end())}, {"samples_ms", ms},
          {"timeout_ms", 250}};
}

}  // namespace

nlohmann::json run_bench(const BenchOptions& o) {
  SimavrBoard probe(o.elf_path);
  // Each part: its --only name, its run, its key under "details", and the summary keys it fills (from which
  // of its own fields).
  struct Part {
    const char* name;
    std::function<nlohmann::json()> run;
    const char* detail;
    std::vector<std::pair<const char*, const char*>> keys;
  };
  const std::vector<Part> parts = {
      {"choice", [&] { return choice_to_valve(o, false); }, "choice_to_valve",
       {{"choice_to_valve_us_p50", "p50"}, {"choice_to_valve_us_p99", "p99"}, {"choice_to_valve_us_max", "max"}}},
      {"choice_busy", [&] { return choice_to_valve(o, true); }, "choice_to_valve_busy",
       {{"choice_to_valve_busy_us_p50", "p50"}, {"choice_to_valve_busy_us_p99", "p99"},
        {"choice_to_valve_busy_us_max", "max"}}},
      {"pulses", [&] { return pulse_error(o); }, "pulses", {{"pulse_error_us_max", "max_abs_error_us"}}},
      {"encoder", [&] { return encoder(o); }, "encoder", {{"encoder_lossless_edges_per_s", "lossless_edges_per_s"}}},
      {"watchdog", [&] { return watchdog(o); }, "watchdog", {{"watchdog_close_ms", "max_ms"}}},
      {"io", [&] { return inputs_and_trains(o); }, "inputs_and_trains",
       {{"sync_edge_error_us_max", "sync_edge_error_us_max"},
        {"lick_timestamp_error_us_max", "lick_timestamp_error_us_max"},
        {"camera_frame_error_us_max", "camera_frame_error_us_max"}}},
      {"licks", [&] { return lick_throughput(o); }, "lick_throughput", {{"licks_lossless_per_s", "lossless_licks_per_s"}}},
  };
  nlohmann::json out;
  nlohmann::json details = {{"elf", o.elf_path}, {"seed", o.seed}};
  for (const Part& part : parts) {
    if (!o.only.empty() && std::find(o.only.begin(), o.only.end(), part.name) == o.only.end()) continue;
    const nlohmann::json result = part.run();
    for (const auto& [key, field] : part.keys) out[key] = result[field];
    details[part.detail] = result;
  }
  out["flash_bytes"] = probe.flash_bytes();
  out["ram_bytes"] = probe.ram_bytes();
  out["details"] = details;
  return out;
}

}  // namespace rig::device
