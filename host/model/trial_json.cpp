#include "host/model/trial_json.hpp"

#include <type_traits>
#include <variant>

namespace rig::model {
namespace {

// A column value as JSON: NULL null, INTEGER and REAL numbers, TEXT a string.
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

}  // namespace

nlohmann::ordered_json trial_json(const TrialRecord& record, bool shown_only) {
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  for_each_trial_field(record, [&](const FieldInfo& field, const auto& member) {
    if (!shown_only || field.shown) json[field.name] = column_json(to_column(member));
  });
  return json;
}

}  // namespace rig::model
