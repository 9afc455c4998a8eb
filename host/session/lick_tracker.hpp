// A trial's licks, as the trial rows hold them (trial.def's version-3 fields): lick onsets per spout from the
// trial's arming to the next trial's, the first lick after each delivery and whether the delivery was consumed
// (its spout licked within the consumption window of the valve opening). Known only once the next trial has been
// armed and the window has passed on the device clock; the session writes each update with a later trial.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "host/model/recording.hpp"

namespace rig::app {

// Pure bookkeeping, fed in the order things happen. Not thread-safe (the session's thread).
class TrialLickTracker {
 public:
  // `consumed_window_us`: licks.consumed_window_ms of the rig config, in microseconds.
  explicit TrialLickTracker(std::int64_t consumed_window_us) : window_us_(consumed_window_us) {}

  // Trial `trial_number` is armed: licks attributed to it count towards it; the trial before stops counting.
  void on_armed(std::uint32_t trial_number);
  // Its result: when the valves opened (device us; nullopt: no delivery) and which flavours flowed.
  void on_result(std::uint32_t trial_number, std::optional<std::int64_t> valve_open_device_us,
                 const std::array<bool, wire::kValveCount>& delivered);
  // A lick edge (onsets count; offsets are ignored), with the trial it was attributed to.
  void on_lick(const model::LickRecord& lick);
  // The updates of every trial whose counting has ended (a later trial was armed) and whose window has passed
  // by `newest_device_us`, oldest first; with `all`, of every trial with a result (the session is over).
  std::vector<model::TrialLickUpdate> take_final(std::int64_t newest_device_us, bool all = false);

 private:
  struct Pending {
    model::TrialLickUpdate update;
    bool counting = true;   // licks attributed to this trial still count
    bool has_result = false;
    std::optional<std::int64_t> valve_open_us;
    std::array<bool, wire::kValveCount> delivered{};
  };
  std::int64_t window_us_;
  std::deque<Pending> pending_;
};

}  // namespace rig::app
