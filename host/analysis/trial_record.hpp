// The per-trial input of every analysis: what the mouse chose and what it got, with the logged probabilities.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "firmware/wire/messages.hpp"

namespace rig::analysis {

enum class Side : std::uint8_t { kLeft, kRight };

// A trial's response. kMiss (no choice) trials are removed from the analysis as if they never happened.
enum class Choice : std::uint8_t { kLeft, kRight, kMiss };

// The four outcomes of a trial, in the order the regression lays out its columns.
enum class OutcomeType : std::uint8_t { kNone = 0, kControllable = 1, kDistractor = 2, kBoth = 3 };
inline constexpr int kOutcomeTypeCount = 4;
inline constexpr std::array<OutcomeType, kOutcomeTypeCount> kOutcomeTypes{
    OutcomeType::kNone, OutcomeType::kControllable, OutcomeType::kDistractor, OutcomeType::kBoth};

inline constexpr double kNotLogged = std::numeric_limits<double>::quiet_NaN();

// One trial as logged. Probabilities are per delivery, in [0, 1]; kNotLogged (NaN) where the log lacks them
// (the regression does not need them; the conditional randomization test does).
struct TrialRecord {
  std::string session_id;            // history restarts whenever this changes between consecutive records
  Choice choice = Choice::kMiss;
  bool free_choice = true;           // false: instructed (one side offered); in history, never a regression target
  bool controllable_delivered = false;
  bool distractor_delivered = false;
  double p_controllable_left = kNotLogged;   // probability the controllable flavour pays on a left choice
  double p_controllable_right = kNotLogged;  // ... on a right choice
  double p_distractor = kNotLogged;          // probability the distractor flavour is delivered, whatever the choice
};

// "none", "controllable", "distractor" or "both" (the JSON and CSV spelling). Thread-safe, no errors.
std::string_view outcome_name(OutcomeType type);

// The outcome type of two deliveries. Thread-safe, no errors.
OutcomeType outcome_type(bool controllable_delivered, bool distractor_delivered);

// The choice a logged side (nullopt: no choice) stands for. Thread-safe, no errors.
Choice choice_of(std::optional<wire::Side> side);

// +1 for a right choice, -1 for a left one; miss has no sign. Thread-safe, no errors.
std::optional<int> choice_sign(Choice choice);

// The logged probability that the controllable flavour pays on `choice`'s side (nullopt on a miss).
// Thread-safe, no errors.
std::optional<double> p_controllable_chosen(const TrialRecord& trial);

}  // namespace rig::analysis
