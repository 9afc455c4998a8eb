// The dashboard's lick raster: for each trial with a choice, the lick onsets of both spouts in a window around
// the valve opening (around the choice when nothing was delivered), in milliseconds from it. A row is complete
// once the device clock has passed the window's end; the dashboard gets each row once, when it is complete.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "host/model/recording.hpp"
#include "host/model/trial_record.hpp"

namespace rig::app {

// The raster's window around each trial's alignment time, microseconds.
inline constexpr std::int64_t kLickRasterBeforeUs = 1'000'000;
inline constexpr std::int64_t kLickRasterAfterUs = 3'000'000;

struct LickRasterRow {
  std::uint32_t trial_number = 0;
  bool valve_aligned = true;  // aligned to the valve opening; false: to the choice (nothing was delivered)
  std::array<bool, wire::kValveCount> delivered{};                        // by wire::Valve
  std::array<std::vector<std::int32_t>, wire::kValveCount> onsets_ms{};  // by wire::Valve, ascending
  bool operator==(const LickRasterRow&) const = default;
};

// Pure bookkeeping, fed licks and trials in the order the session saw them; the device clock comes from what
// it is fed. Not thread-safe (one observer's thread).
class LickRaster {
 public:
  // A lick edge (onsets count; offsets are ignored), device microseconds.
  void on_lick(const model::LickRecord& lick);
  // A completed trial: a row aligned to its valve opening, or to its choice when nothing was delivered; a miss
  // (no choice) has no row. Licks already seen within the row's window are in it.
  void on_trial(const model::TrialRecord& trial);
  // Device time reached (a sync edge, for instance): rows whose window has ended become complete.
  void saw_device_time(std::int64_t device_us);
  // The complete rows, oldest first, each once; with `all`, every row (the session is over).
  std::vector<LickRasterRow> take_complete(bool all = false);

 private:
  struct Open {
    LickRasterRow row;
    std::int64_t align_us = 0;
  };
  void add(Open& open, wire::Valve spout, std::int64_t device_us) const;

  std::int64_t newest_us_ = 0;
  std::deque<model::LickRecord> recent_;  // onsets of the last kLickRasterBeforeUs + kLickRasterAfterUs
  std::deque<Open> open_;
};

}  // namespace rig::app
