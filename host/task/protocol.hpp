// A task protocol: the distractor-rewards task's parameters as one YAML file states them (protocols/*.yaml,
// documented in docs/protocols.md), with the published defaults for every field it leaves out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "host/task/diagnostics.hpp"
#include "host/task/names.hpp"

namespace rig::task {

enum class StartSide { kRandom, kLeft, kRight };

// How the controllable flavour's high side moves between blocks.
enum class ReversalRule {
  kCriterionThenHazard,  // flips possible once the last N free choices exceed a high-side fraction; then hazard
  kFixedHazard,          // flips with a constant probability per choice trial
  kBlockLength,          // flips after a block length drawn uniformly in [min, max] choice trials
  kNone,                 // never flips (habituation)
};

// Timing and wheel settings of every trial (YAML `trial:`). Durations in milliseconds.
struct TrialSettings {
  std::int64_t iti_ms = 1000;                 // from a trial's result to arming the next
  std::int64_t quiescence_ms = 500;           // still wheel required before the go cue
  double quiescence_tolerance_deg = 2.0;      // movement tolerated during quiescence
  std::int64_t quiescence_timeout_ms = 0;     // give up waiting for a still wheel; 0 waits forever
  std::int64_t response_window_ms = 30000;    // time after the go cue to make a choice
  std::optional<double> threshold_deg;        // choice threshold; nullopt: the rig config's wheel.threshold_deg
  std::int64_t cue_duration_ms = 100;         // go cue length
  std::string go_cue = "go";                  // name of a cue output in the rig config's `cues:`
};

// Volume of one delivery of each flavour (YAML `rewards:`).
struct RewardSettings {
  double controllable_volume_ul = 3.0;
  double distractor_volume_ul = 3.0;
};

// YAML `schedule.reversal:`. Only the fields of the chosen rule apply.
struct ReversalSettings {
  ReversalRule rule = ReversalRule::kCriterionThenHazard;
  std::int64_t window_free_trials = 50;   // criterion window of free-choice "chose high" outcomes
  double criterion_high_fraction = 0.8;   // the window's mean must exceed this
  double hazard_per_trial = 0.1;          // flip probability per choice trial once flips are possible
  std::int64_t block_min_trials = 20;     // block_length rule: shortest block, in choice trials
  std::int64_t block_max_trials = 40;     // block_length rule: longest block
};

// YAML `schedule:`: which trials are free, the reward probabilities and the reversal rule.
struct ScheduleSettings {
  double free_choice_fraction = 0.8;  // other trials are instructed, side drawn 50/50
  StartSide start_side = StartSide::kRandom;
  double p_high = 0.8;       // controllable reward probability on the high side
  double p_low = 0.2;        // ... on the low side
  double p_distractor = 0.5; // distractor reward probability, whatever the choice
  ReversalSettings reversal;
};

// What a protocol file's `limits:` gives each limit it leaves out (docs/protocols.md): no session read from a
// file runs without a trial, a time and a volume limit. Only programs (`rig simulate`, tests) may clear them.
inline constexpr std::int64_t kDefaultMaxTrials = 1000;
inline constexpr double kDefaultMaxMinutes = 90.0;
inline constexpr double kDefaultMaxVolumePerSpoutUl = 1000.0;

// YAML `limits:`: the session stops before any of these would be passed. nullopt: no limit (never from a
// file: the loader fills the defaults above).
struct SessionLimits {
  std::optional<std::int64_t> max_trials;
  std::optional<double> max_minutes;
  std::optional<double> max_volume_per_spout_ul;
};

// YAML `advance:`: when a subject moves on from this protocol to `to` (a path relative to this file).
struct AdvanceCriterion {
  std::string to;
  std::int64_t min_choice_trials = 0;   // trials with a choice in the session
  double min_high_fraction = 0.0;       // fraction of the last window_free_trials free choices on the high side
  std::int64_t window_free_trials = 100;
};

struct Protocol {
  std::string name;
  std::string description;
  TrialSettings trial;
  RewardSettings rewards;
  ScheduleSettings schedule;
  SessionLimits limits;
  std::optional<AdvanceCriterion> advance;

  std::string source_file;   // as given to the loader
  FieldLocations locations;  // every field's location, for cross-file checks
};


// YAML names of enum values, as the protocol files spell them.
inline constexpr Named<StartSide> kStartSideNames[] = {
    {"random", StartSide::kRandom}, {"left", StartSide::kLeft}, {"right", StartSide::kRight}};
inline constexpr Named<ReversalRule> kReversalRuleNames[] = {{"criterion_then_hazard", ReversalRule::kCriterionThenHazard},
                                                             {"fixed_hazard", ReversalRule::kFixedHazard},
                                                             {"block_length", ReversalRule::kBlockLength},
                                                             {"none", ReversalRule::kNone}};

}  // namespace rig::task
