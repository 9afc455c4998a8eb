#include "host/model/trial_json.hpp"

#include <type_traits>
#include <variant>

namespace rig::model {

nlohmann::ordered_json column_json(const ColumnValue& value) {
  return std::visit(
      [](const auto& v) -> nlohmann::ordered_json {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::monostate>) {
          return nullptr;
        } else {
          return v;
        }
      },
      value);
}

nlohmann::ordered_json trial_json(const TrialRecord& record, bool shown_only) {
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  for_each_trial_field(record, [&](const FieldInfo& field, const auto& member) {
    if (!shown_only || field.shown) json[field.name] = column_json(to_column(member));
  });
  return json;
}

nlohmann::json tally_json(const TrialTally& tally) {
  nlohmann::json rewards = nlohmann::json::object();
  for (const auto valve : {wire::Valve::kCherry, wire::Valve::kGrape}) {
    rewards[flavour_name(valve)] = tally.rewards_by_valve[static_cast<std::size_t>(valve)];
  }
  return {{"trials", tally.trials},
          {"choices", tally.choices},
          {"misses", tally.misses},
          {"reversals", tally.reversals},
          {"high_side_fraction", tally.choices ? static_cast<double>(tally.high_side_choices) / tally.choices : 0.0},
          {"rewards", std::move(rewards)}};
}

}  // namespace rig::model
