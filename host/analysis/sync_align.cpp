#include "host/analysis/sync_align.hpp"

#include "host/analysis/csv_text.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <cmath>
#include <string>
#include <utility>

namespace rig::analysis {
namespace {

// Matched pulses per segment of a piecewise map: about 10 s of pulses, enough to average the ephys side's
// sampling (33 us at 30 kHz) down to a few microseconds.
constexpr std::size_t kSegmentPulses = 100;

struct Line {
  double slope = 1.0, offset_s = 0.0;
  double at(std::int64_t device_us) const { return offset_s + slope * static_cast<double>(device_us) * 1e-6; }
};

// Least squares of ephys time on device time over pairs [first, last). Centred: the fit is exact to well
// under a microsecond over days of device time.
Line fit_line(const std::vector<std::int64_t>& device_us, const std::vector<double>& ephys_s, std::size_t first,
              std::size_t last) {
  const std::size_t n = last - first;
  const std::int64_t x0 = device_us[first];
  const double y0 = ephys_s[first];
  double mean_x = 0.0, mean_y = 0.0;
  for (std::size_t i = first; i < last; ++i) {
    mean_x += static_cast<double>(device_us[i] - x0) * 1e-6;
    mean_y += ephys_s[i] - y0;
  }
  mean_x /= static_cast<double>(n);
  mean_y /= static_cast<double>(n);
  double sxx = 0.0, sxy = 0.0;
  for (std::size_t i = first; i < last; ++i) {
    const double dx = static_cast<double>(device_us[i] - x0) * 1e-6 - mean_x;
    sxx += dx * dx;
    sxy += dx * (ephys_s[i] - y0 - mean_y);
  }
  Line line;
  line.slope = sxx > 0.0 ? sxy / sxx : 1.0;
  // ephys = y0 + mean_y + slope * (x - x0 - mean_x), with x in seconds.
  line.offset_s = y0 + mean_y - line.slope * (static_cast<double>(x0) * 1e-6 + mean_x);
  return line;
}

template <class T>
void require_increasing(const std::vector<T>& values, const char* side) {
  for (std::size_t i = 1; i < values.size(); ++i) {
    if (!(values[i] > values[i - 1])) {
      throw std::invalid_argument(std::string(side) + " sync edges are not strictly increasing at edge " +
                                  std::to_string(i + 1));
    }
  }
}

// For each rig pulse, its ephys pulse (or -1), from windows of consecutive intervals that agree with exactly
// one place in the ephys intervals.
std::vector<long> match_windows(const std::vector<std::int64_t>& rig_us, const std::vector<double>& ephys_s,
                                const SyncAlignOptions& o) {
  std::vector<long> partner(rig_us.size(), -1);
  const std::size_t w = std::max<std::size_t>(1, o.window_intervals);
  if (rig_us.size() < w + 1 || ephys_s.size() < w + 1) return partner;
  std::vector<double> rig_iv(rig_us.size() - 1), ephys_iv(ephys_s.size() - 1);
  for (std::size_t i = 0; i + 1 < rig_us.size(); ++i) rig_iv[i] = static_cast<double>(rig_us[i + 1] - rig_us[i]);
  for (std::size_t j = 0; j + 1 < ephys_s.size(); ++j) ephys_iv[j] = (ephys_s[j + 1] - ephys_s[j]) * 1e6;
  std::vector<std::pair<double, std::size_t>> by_length(ephys_iv.size());
  for (std::size_t j = 0; j < ephys_iv.size(); ++j) by_length[j] = {ephys_iv[j], j};
  std::sort(by_length.begin(), by_length.end());

  const double tol = o.interval_tolerance_us;
  for (std::size_t i = 0; i + w <= rig_iv.size(); ++i) {
    auto it = std::lower_bound(by_length.begin(), by_length.end(), std::make_pair(rig_iv[i] - tol, std::size_t{0}));
    long found = -1;
    bool ambiguous = false;
    for (; it != by_length.end() && it->first <= rig_iv[i] + tol; ++it) {
      const std::size_t j = it->second;
      if (j + w > ephys_iv.size()) continue;
      bool all = true;
      for (std::size_t k = 1; k < w && all; ++k) all = std::fabs(rig_iv[i + k] - ephys_iv[j + k]) <= tol;
      if (!all) continue;
      if (found >= 0) ambiguous = true;
      found = static_cast<long>(j);
    }
    if (found < 0 || ambiguous) continue;
    for (std::size_t k = 0; k <= w; ++k) {
      if (partner[i + k] < 0) partner[i + k] = found + static_cast<long>(k);
    }
  }
  return partner;
}

}  // namespace

double SyncAlignment::to_ephys_s(std::int64_t device_us) const {
  if (!piecewise || segments.empty()) return Line{slope, offset_s}.at(device_us);
  auto it = std::lower_bound(segments.begin(), segments.end(), device_us,
                             [](const Segment& s, std::int64_t t) { return s.last_device_us < t; });
  if (it == segments.end()) --it;
  return Line{it->slope, it->offset_s}.at(device_us);
}

SyncAlignment align_sync_pulses(const std::vector<std::int64_t>& device_edges_us,
                                const std::vector<double>& ephys_edges_s, const SyncAlignOptions& options) {
  require_increasing(device_edges_us, "rig");
  require_increasing(ephys_edges_s, "ephys");
  std::vector<long> partner = match_windows(device_edges_us, ephys_edges_s, options);

  // Keep pairs in order on both sides (a pulse matched out of order is dropped).
  const auto collect = [&](SyncAlignment& a) {
    a.matched_device_us.clear();
    a.matched_ephys_s.clear();
    long last_ephys = -1;
    for (std::size_t i = 0; i < partner.size(); ++i) {
      if (partner[i] <= last_ephys) {
        partner[i] = -1;
        continue;
      }
      last_ephys = partner[i];
      a.matched_device_us.push_back(device_edges_us[i]);
      a.matched_ephys_s.push_back(ephys_edges_s[static_cast<std::size_t>(partner[i])]);
    }
    a.matched = a.matched_device_us.size();
  };
  SyncAlignment a;
  collect(a);
  const auto too_few = [&] {
    return SyncAlignError("only " + std::to_string(a.matched) + " sync pulses matched (at least " +
                          std::to_string(options.min_matched) + " needed; the rig has " +
                          std::to_string(device_edges_us.size()) + " edges, the ephys file " +
                          std::to_string(ephys_edges_s.size()) +
                          "): do the two recordings overlap, and is it the same sync line?");
  };
  if (a.matched < std::max<std::size_t>(2, options.min_matched)) throw too_few();

  // Pulses next to a missing one fail every window that spans the gap: each unmatched rig pulse takes the
  // unmatched ephys pulse where its matched neighbours (or, beyond them, a first line) put it.
  {
    const Line first = fit_line(a.matched_device_us, a.matched_ephys_s, 0, a.matched);
    const auto predict = [&](std::int64_t device_us) {
      const auto& d = a.matched_device_us;
      const auto k = static_cast<std::size_t>(std::upper_bound(d.begin(), d.end(), device_us) - d.begin());
      if (k == 0 || k == d.size()) return first.at(device_us);
      const double f = static_cast<double>(device_us - d[k - 1]) / static_cast<double>(d[k] - d[k - 1]);
      return a.matched_ephys_s[k - 1] + f * (a.matched_ephys_s[k] - a.matched_ephys_s[k - 1]);
    };
    std::vector<bool> taken(ephys_edges_s.size(), false);
    for (const long j : partner) {
      if (j >= 0) taken[static_cast<std::size_t>(j)] = true;
    }
    for (std::size_t i = 0; i < partner.size(); ++i) {
      if (partner[i] >= 0) continue;
      const double predicted = predict(device_edges_us[i]);
      const auto it = std::lower_bound(ephys_edges_s.begin(), ephys_edges_s.end(), predicted);
      for (auto c : {it, it == ephys_edges_s.begin() ? it : it - 1}) {
        if (c == ephys_edges_s.end()) continue;
        const auto j = static_cast<std::size_t>(c - ephys_edges_s.begin());
        if (!taken[j] && std::fabs(*c - predicted) * 1e6 <= options.interval_tolerance_us) {
          partner[i] = static_cast<long>(j);
          taken[j] = true;
          break;
        }
      }
    }
    collect(a);
  }

  const Line global = fit_line(a.matched_device_us, a.matched_ephys_s, 0, a.matched);
  a.slope = global.slope;
  a.offset_s = global.offset_s;
  double worst = 0.0;
  for (std::size_t i = 0; i < a.matched; ++i) {
    worst = std::max(worst, std::fabs(a.matched_ephys_s[i] - global.at(a.matched_device_us[i])) * 1e6);
  }
  if (worst > options.linear_residual_us) {
    a.piecewise = true;
    for (std::size_t first = 0; first < a.matched;) {
      std::size_t last = std::min(a.matched, first + kSegmentPulses);
      if (a.matched - last < kSegmentPulses / 2) last = a.matched;  // no short tail segment
      const Line line = fit_line(a.matched_device_us, a.matched_ephys_s, first, last);
      a.segments.push_back({a.matched_device_us[first], a.matched_device_us[last - 1], line.slope, line.offset_s});
      first = last;
    }
  }

  double sum_sq = 0.0;
  a.residual_us_max = 0.0;
  for (std::size_t i = 0; i < a.matched; ++i) {
    const double r = (a.matched_ephys_s[i] - a.to_ephys_s(a.matched_device_us[i])) * 1e6;
    sum_sq += r * r;
    a.residual_us_max = std::max(a.residual_us_max, std::fabs(r));
  }
  a.residual_us_rms = std::sqrt(sum_sq / static_cast<double>(a.matched));
  if (a.residual_us_max > options.max_residual_us) {
    throw SyncAlignError("the sync pulses do not agree with any smooth map: a matched pulse is " +
                         std::to_string(static_cast<long long>(a.residual_us_max)) + " us from it (at most " +
                         std::to_string(static_cast<long long>(options.max_residual_us)) + " us allowed)");
  }

  // Within the span both sides cover, the pulses each side lacks.
  std::size_t first_rig = partner.size(), last_rig = 0;
  long first_ephys = -1, last_ephys = -1;
  for (std::size_t i = 0; i < partner.size(); ++i) {
    if (partner[i] < 0) continue;
    if (first_rig == partner.size()) {
      first_rig = i;
      first_ephys = partner[i];
    }
    last_rig = i;
    last_ephys = partner[i];
  }
  a.missing_ephys = (last_rig - first_rig + 1) - a.matched;
  a.missing_rig = static_cast<std::size_t>(last_ephys - first_ephys + 1) - a.matched;
  return a;
}

std::vector<double> parse_ephys_sync_csv(std::string_view text) {
  const auto fail = [](std::size_t line, const std::string& what) {
    return std::invalid_argument("line " + std::to_string(line) + ": " + what);
  };
  std::vector<double> edges;
  std::optional<std::size_t> column;
  for_each_csv_line(text, [&](std::size_t line_number, std::string_view line) {
    const auto fields = csv_fields(line);
    if (!column) {
      for (std::size_t i = 0; i < fields.size(); ++i) {
        if (lowercase(fields[i]) == "time_s") column = i;
      }
      if (!column) {
        throw fail(line_number, "no header with a column time_s (the first line is '" +
                                    std::string(line.substr(0, 60)) +
                                    "'; export the sync channel's rising edges in seconds)");
      }
      return;
    }
    const std::string_view field = *column < fields.size() ? fields[*column] : std::string_view{};
    double value = 0.0;
    const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
    if (field.empty() || ec != std::errc() || end != field.data() + field.size() || !std::isfinite(value)) {
      throw fail(line_number, "column time_s: expected a time in seconds, got '" + std::string(field.substr(0, 40)) + "'");
    }
    if (!edges.empty() && !(value > edges.back())) {
      throw fail(line_number, "column time_s: the times must increase (" + std::string(field) + " s comes after " +
                                  std::to_string(edges.back()) + " s)");
    }
    edges.push_back(value);
  });
  if (!column) throw std::invalid_argument("the file is empty: expected a header with a column time_s");
  if (edges.empty()) throw std::invalid_argument("no sync edges: the file has a header and no rows");
  return edges;
}

}  // namespace rig::analysis
