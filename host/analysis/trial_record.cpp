#include "host/analysis/trial_record.hpp"

namespace rig::analysis {

std::string_view outcome_name(OutcomeType type) {
  switch (type) {
    case OutcomeType::kNone: return "none";
    case OutcomeType::kControllable: return "controllable";
    case OutcomeType::kDistractor: return "distractor";
    case OutcomeType::kBoth: return "both";
  }
  return "none";
}

OutcomeType outcome_type(bool controllable_delivered, bool distractor_delivered) {
  return static_cast<OutcomeType>((controllable_delivered ? 1 : 0) + (distractor_delivered ? 2 : 0));
}

Choice choice_of(std::optional<wire::Side> side) {
  if (!side) return Choice::kMiss;
  return *side == wire::Side::kLeft ? Choice::kLeft : Choice::kRight;
}

std::optional<int> choice_sign(Choice choice) {
  switch (choice) {
    case Choice::kLeft: return -1;
    case Choice::kRight: return +1;
    case Choice::kMiss: return std::nullopt;
  }
  return std::nullopt;
}

std::optional<double> p_controllable_chosen(const TrialRecord& trial) {
  switch (trial.choice) {
    case Choice::kLeft: return trial.p_controllable_left;
    case Choice::kRight: return trial.p_controllable_right;
    case Choice::kMiss: return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace rig::analysis
