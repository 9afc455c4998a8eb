// Alignment of the rig's clock to a recording's clock from random-interval sync pulses (DESIGN decision 13;
// the idea of pyControl's Rsync): the rig emits pulses at random intervals and timestamps each rising edge on
// its microsecond clock; the acquisition system (SpikeGLX, Open Ephys) records the same edges on its own
// clock. Because the intervals are random, a few consecutive intervals identify where a stretch of pulses
// sits in the other sequence, whatever pulses are missing or extra on either side and wherever each
// recording starts and ends. The matched pulses then give the map from device time to ephys time.
//
// Pure computation: no files, no clocks. Thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace rig::analysis {

struct SyncAlignOptions {
  // Consecutive intervals that must agree for a stretch of pulses to count as matched. With intervals drawn
  // uniformly over 100 ms and a tolerance of 0.2 ms, one interval matches a wrong one with probability about
  // 0.004, five in a row about 1e-12.
  std::size_t window_intervals = 5;
  // How far two intervals may differ and still be the same interval (sampling of the ephys clock, drift over
  // one interval, jitter), in microseconds.
  double interval_tolerance_us = 200.0;
  // Fewer matched pulses than this: no alignment (the recordings do not overlap, or the wrong file).
  std::size_t min_matched = 10;
  // A global linear fit (offset and drift) is kept when no matched pulse is further than this from it;
  // otherwise the map is piecewise linear between consecutive matched pulses (drift that changed during the
  // session, e.g. with temperature).
  double linear_residual_us = 100.0;
  // After the map is chosen, a matched pulse further than this from it means the alignment cannot be
  // trusted (an error, not a result).
  double max_residual_us = 500.0;
};

// The map from device time to ephys time and how well the pulses agree with it.
struct SyncAlignment {
  std::size_t matched = 0;        // pulses seen on both sides
  std::size_t missing_rig = 0;    // ephys pulses inside the matched span with no rig pulse (extra, or lost by the rig)
  std::size_t missing_ephys = 0;  // rig pulses inside the matched span the ephys side did not record
  double slope = 1.0;             // ephys seconds per device second (1 + drift)
  double offset_s = 0.0;          // ephys time of device time 0, in seconds
  bool piecewise = false;         // the map is piecewise linear between matched pulses (see SyncAlignOptions)
  double residual_us_rms = 0.0;   // matched pulses' distance from the map, in microseconds
  double residual_us_max = 0.0;
  // The matched pulses, in device order: device time (us) and ephys time (s).
  std::vector<std::int64_t> matched_device_us;
  std::vector<double> matched_ephys_s;
  // With `piecewise`: consecutive runs of matched pulses, each with its own least-squares line.
  struct Segment {
    std::int64_t first_device_us = 0, last_device_us = 0;
    double slope = 1.0, offset_s = 0.0;
  };
  std::vector<Segment> segments;

  // `device_us` on the ephys clock, in seconds: the global linear map, or the piecewise one between the two
  // matched pulses around it (the nearest segment's line beyond the ends). Pure.
  double to_ephys_s(std::int64_t device_us) const;
};

// Why an alignment failed, in words for the operator (which side, how many, what bound).
class SyncAlignError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Aligns `device_edges_us` (the rig's rising edges, device microseconds, strictly increasing) to
// `ephys_edges_s` (the acquisition system's rising edges, seconds, strictly increasing). Throws
// std::invalid_argument when either sequence is not strictly increasing (naming the side and the index), and
// SyncAlignError when fewer than options.min_matched pulses match or a matched pulse lies further than
// options.max_residual_us from the map.
SyncAlignment align_sync_pulses(const std::vector<std::int64_t>& device_edges_us,
                                const std::vector<double>& ephys_edges_s, const SyncAlignOptions& options = {});

// The rising edges of the sync line as an acquisition system exported them: CSV text whose first non-blank
// line is a header with a column `time_s` (other columns are ignored), then one edge per line, in seconds,
// strictly increasing. Blank lines and CRLF endings are accepted. Pure. Throws std::invalid_argument
// "line N[, column time_s]: what is wrong" (no header, text or a non-finite number, a time not after the one
// before, no rows).
std::vector<double> parse_ephys_sync_csv(std::string_view text);

}  // namespace rig::analysis
