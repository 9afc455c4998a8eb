// Measurements shared by the simavr scenarios and the benchmark: the sync and camera edges the firmware
// reported against the pins' real edges, and the lick edges it reported against the edges driven.
#pragma once

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "firmware/wire/board.hpp"
#include "session.hpp"

namespace rig::device {

// The simulated board's clock: cycles per microsecond, to turn cycle stamps into times.
inline constexpr double kCyclesPerUs = SimavrBoard::kCyclesPerUs;

inline wire::SetSync default_sync(uint32_t seed) {
  wire::SetSync m{};
  m.enabled = 1;
  m.min_interval_us = wire::kDefaultSyncMinIntervalUs;
  m.max_interval_us = wire::kDefaultSyncMaxIntervalUs;
  m.width_us = wire::kDefaultSyncWidthUs;
  m.seed = seed;
  return m;
}

inline wire::SetLicks licks_on() {
  wire::SetLicks m{};
  m.enabled = 1;
  m.debounce_us = wire::kDefaultDebounceUs;
  return m;
}

inline wire::SetCamera camera_at(double rate_hz) {
  wire::SetCamera m{};
  m.period_us = static_cast<uint32_t>(std::lround(1e6 / rate_hz));
  m.width_us = wire::kDefaultCameraWidthUs;
  return m;
}

// Rising edges of board pin `pin` as device microseconds.
inline std::vector<double> pin_rises_us(const SimavrBoard& board, uint8_t pin) {
  std::vector<double> out;
  for (const PinEdge& e : board.output_edges()) {
    if (e.pin == pin && e.high) out.push_back(board.device_us_at(e.cycle));
  }
  return out;
}

struct EdgeMatch {
  size_t pin_edges = 0;       // edges on the pin
  size_t reported = 0;        // edges the firmware reported
  size_t matched = 0;         // reported edges within 50 us of a pin edge, each pin edge at most once
  double error_us_max = 0;    // largest |reported - pin|, us
  std::vector<double> errors_us;
};

// Matches reported edge times (device us, in order) to the pin's edges (in order).
inline EdgeMatch match_edges(const std::vector<double>& pin_us, const std::vector<uint32_t>& reported_us) {
  EdgeMatch m;
  m.pin_edges = pin_us.size();
  m.reported = reported_us.size();
  size_t j = 0;
  for (uint32_t r : reported_us) {
    while (j < pin_us.size() && pin_us[j] < static_cast<double>(r) - 50.0) ++j;
    if (j < pin_us.size() && std::fabs(pin_us[j] - r) <= 50.0) {
      const double e = static_cast<double>(r) - pin_us[j];
      m.errors_us.push_back(e);
      m.error_us_max = std::max(m.error_us_max, std::fabs(e));
      ++m.matched;
      ++j;
    }
  }
  return m;
}

inline std::vector<uint32_t> reported_sync(const SimavrHost& host) {
  std::vector<uint32_t> out;
  for (const auto& b : host.all<wire::SyncEdges>()) {
    for (uint8_t i = 0; i < b.count; ++i) out.push_back(b.rise_t_us[i]);
  }
  return out;
}

// Lick bouts on both spouts: `rate_hz` licks a second on each, contacts of `contact_us`, each lick's start
// jittered by up to +-10% of the period, from cycle `start` for `seconds`.
inline std::vector<LickDrive> lick_plan(uint64_t start, double seconds, double rate_hz, double contact_us, unsigned seed) {
  std::mt19937 rng(seed);
  const double period_us = 1e6 / rate_hz;
  std::uniform_real_distribution<double> jitter(-0.1 * period_us, 0.1 * period_us);
  std::vector<LickDrive> plan;
  for (uint8_t spout = 0; spout < 2; ++spout) {
    const double phase = spout * period_us / 3.0 + period_us * 0.15;
    for (double t = phase; t + contact_us < seconds * 1e6; t += period_us) {
      const double on = t + jitter(rng);
      if (on < 0) continue;
      const uint64_t on_cycle = start + static_cast<uint64_t>(on * SimavrBoard::kCyclesPerUs);
      plan.push_back({on_cycle, spout, true});
      plan.push_back({on_cycle + static_cast<uint64_t>(contact_us * SimavrBoard::kCyclesPerUs), spout, false});
    }
  }
  std::sort(plan.begin(), plan.end(), [](const LickDrive& a, const LickDrive& b) { return a.cycle < b.cycle; });
  return plan;
}

struct LickMatch {
  size_t driven = 0;
  size_t reported = 0;
  size_t lost = 0;        // driven edges with no report
  size_t duplicated = 0;  // reports of an edge already reported
  size_t spurious = 0;    // reports matching no driven edge
  double error_us_max = 0;
};

// Matches every reported lick edge to the driven edge of the same spout and direction within 100 us.
inline LickMatch match_licks(const SimavrBoard& board, const SimavrHost& host) {
  LickMatch m;
  struct Driven {
    double t_us;
    uint8_t spout;
    bool onset;
    int reports = 0;
  };
  std::vector<Driven> driven;
  for (const LickDrive& d : board.lick_edges_driven()) driven.push_back({board.device_us_at(d.cycle), d.spout, d.high});
  m.driven = driven.size();
  for (const auto& b : host.all<wire::LickEdges>()) {
    for (uint8_t i = 0; i < b.count; ++i) {
      ++m.reported;
      const uint8_t spout = b.kind[i] & wire::kLickGrape;
      const bool onset = (b.kind[i] & wire::kLickOnset) != 0;
      Driven* best = nullptr;
      for (Driven& d : driven) {
        if (d.spout != spout || d.onset != onset || std::fabs(d.t_us - b.t_us[i]) > 100.0) continue;
        if (!best || std::fabs(d.t_us - b.t_us[i]) < std::fabs(best->t_us - b.t_us[i])) best = &d;
      }
      if (!best) {
        ++m.spurious;
        continue;
      }
      if (best->reports++ > 0) ++m.duplicated;
      m.error_us_max = std::max(m.error_us_max, std::fabs(best->t_us - b.t_us[i]));
    }
  }
  for (const Driven& d : driven) m.lost += d.reports == 0;
  return m;
}

}  // namespace rig::device
