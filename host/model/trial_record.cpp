#include "host/model/trial_record.hpp"

#include <limits>
#include <stdexcept>

namespace rig::model {
namespace {

[[noreturn]] void wrong(const FieldInfo& field, const std::string& why) {
  throw std::invalid_argument(std::string("trial field ") + field.name + ": " + why);
}

std::int64_t integer(const ColumnValue& value, const FieldInfo& field) {
  if (const auto* v = std::get_if<std::int64_t>(&value)) return *v;
  wrong(field, std::holds_alternative<std::monostate>(value) ? "NULL where a value is required" : "not an integer");
}

template <class T>
T bounded(const ColumnValue& value, const FieldInfo& field) {
  const auto v = integer(value, field);
  if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) {
    wrong(field, std::to_string(v) + " is out of range");
  }
  return static_cast<T>(v);
}

const std::string& text(const ColumnValue& value, const FieldInfo& field) {
  if (const auto* v = std::get_if<std::string>(&value)) return *v;
  wrong(field, std::holds_alternative<std::monostate>(value) ? "NULL where a value is required" : "not text");
}

template <class E, std::size_t N>
E named(const Named<E> (&table)[N], const ColumnValue& value, const FieldInfo& field) {
  const auto& name = text(value, field);
  if (const E* found = value_of(table, name)) return *found;
  wrong(field, "unknown value '" + name + "'");
}

}  // namespace

ColumnValue to_column(std::int64_t value) { return value; }
ColumnValue to_column(std::uint32_t value) { return static_cast<std::int64_t>(value); }
ColumnValue to_column(std::int32_t value) { return static_cast<std::int64_t>(value); }
ColumnValue to_column(bool value) { return static_cast<std::int64_t>(value ? 1 : 0); }
ColumnValue to_column(double value) { return value; }
ColumnValue to_column(const std::string& value) { return value; }
ColumnValue to_column(wire::Side value) { return std::string(side_code(value)); }
ColumnValue to_column(wire::Valve value) { return std::string(flavour_name(value)); }
ColumnValue to_column(wire::TrialOutcome value) { return outcome_name(value); }
ColumnValue to_column(WaterKind value) { return std::string(water_kind_name(value)); }

void from_column(const ColumnValue& value, const FieldInfo& field, std::int64_t& out) { out = integer(value, field); }
void from_column(const ColumnValue& value, const FieldInfo& field, std::uint32_t& out) {
  out = bounded<std::uint32_t>(value, field);
}
void from_column(const ColumnValue& value, const FieldInfo& field, std::int32_t& out) {
  out = bounded<std::int32_t>(value, field);
}
void from_column(const ColumnValue& value, const FieldInfo& field, bool& out) { out = integer(value, field) != 0; }
void from_column(const ColumnValue& value, const FieldInfo& field, double& out) {
  // SQLite may hand back a whole REAL as an INTEGER (e.g. after a CAST); both are the number.
  if (const auto* v = std::get_if<std::int64_t>(&value)) {
    out = static_cast<double>(*v);
    return;
  }
  if (const auto* v = std::get_if<double>(&value)) {
    out = *v;
    return;
  }
  wrong(field, std::holds_alternative<std::monostate>(value) ? "NULL where a value is required" : "not a number");
}
void from_column(const ColumnValue& value, const FieldInfo& field, std::string& out) { out = text(value, field); }
void from_column(const ColumnValue& value, const FieldInfo& field, wire::Side& out) {
  const auto& code = text(value, field);
  if (code == side_code(wire::Side::kLeft)) {
    out = wire::Side::kLeft;
  } else if (code == side_code(wire::Side::kRight)) {
    out = wire::Side::kRight;
  } else {
    wrong(field, "unknown side '" + code + "' (L or R)");
  }
}
void from_column(const ColumnValue& value, const FieldInfo& field, wire::Valve& out) {
  out = named(kFlavourNames, value, field);
}
void from_column(const ColumnValue& value, const FieldInfo& field, WaterKind& out) {
  out = named(kWaterKindNames, value, field);
}
void from_column(const ColumnValue& value, const FieldInfo& field, wire::TrialOutcome& out) {
  // outcome_name() writes a value the table lacks as "unknown_<n>": read it back as that value.
  const auto& name = text(value, field);
  constexpr std::string_view kUnknown = "unknown_";
  if (name.compare(0, kUnknown.size(), kUnknown) == 0) {
    out = static_cast<wire::TrialOutcome>(std::stoi(name.substr(kUnknown.size())));
    return;
  }
  out = named(kOutcomeNames, value, field);
}

const char* column_type_name(ColumnType type) {
  static constexpr Named<ColumnType> kNames[] = {
      {"INTEGER", ColumnType::kInteger}, {"REAL", ColumnType::kReal}, {"TEXT", ColumnType::kText}};
  return name_of(kNames, type);
}

std::string column_definition(const FieldInfo& field) {
  return std::string(field.name) + " " + column_type_name(field.type) + (field.nullable ? "" : " NOT NULL");
}

std::uint32_t planned_open_us(const TrialRecord& record, wire::Side side, wire::Valve valve) {
  const bool left = side == wire::Side::kLeft, cherry = valve == wire::Valve::kCherry;
  if (left) return cherry ? record.planned_left_cherry_open_us : record.planned_left_grape_open_us;
  return cherry ? record.planned_right_cherry_open_us : record.planned_right_grape_open_us;
}

std::uint32_t delivered_open_us(const TrialRecord& record, wire::Valve valve) {
  return valve == wire::Valve::kCherry ? record.delivered_cherry_open_us : record.delivered_grape_open_us;
}

double delivered_ul(const TrialRecord& record, wire::Valve valve) {
  return valve == wire::Valve::kCherry ? record.delivered_cherry_ul : record.delivered_grape_ul;
}

void TrialTally::add(const TrialRecord& record) {
  ++trials;
  if (record.choice) {
    ++choices;
    high_side_choices += record.chose_high ? 1 : 0;
  } else if (record.outcome == wire::TrialOutcome::kMiss) {
    ++misses;
  }
  if (record.reversed_after) ++reversals;
  for (const auto valve : {wire::Valve::kCherry, wire::Valve::kGrape}) {
    const auto v = static_cast<std::size_t>(valve);
    rewards_by_valve[v] += delivered_open_us(record, valve) > 0 ? 1 : 0;
    volume_ul_by_valve[v] += delivered_ul(record, valve);
  }
}

}  // namespace rig::model
