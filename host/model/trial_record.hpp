// The trial record (field table trial.def): one completed trial as the store keeps it, the export writes it
// and the dashboard shows it. Plain values; every column-wise use (SQL, export, JSON, docs) goes through
// for_each_trial_field() and kTrialFields, so a field is written once, in trial.def.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "firmware/wire/messages.hpp"
#include "host/model/enums.hpp"

namespace rig::model {

// One completed trial (host/model/trial.def).
struct TrialRecord {
#define RIG_TRIAL_FIELD(name, type, since, view, source, doc) type name{};
#include "host/model/trial.def"
#undef RIG_TRIAL_FIELD

  bool operator==(const TrialRecord&) const = default;
};

// The SQL storage class of a field.
enum class ColumnType { kInteger, kReal, kText };

// Where a field is seen: kShown fields are also in the dashboard's trial JSON; kStored ones only in the store
// and the exports.
enum FieldView { kStored, kShown };

// A field's metadata, from trial.def.
struct FieldInfo {
  const char* name;
  ColumnType type;
  bool nullable;
  int since_version;  // the store's schema version that added the column
  bool shown;         // in the dashboard's trial JSON
  const char* doc;
};

namespace detail {
template <class T>
struct Column {
  static constexpr bool kNullable = false;
  static constexpr ColumnType kType = std::is_same_v<T, double>                                    ? ColumnType::kReal
                                      : (std::is_integral_v<T> && !std::is_same_v<T, char>)        ? ColumnType::kInteger
                                                                                                    : ColumnType::kText;
};
template <class T>
struct Column<std::optional<T>> {
  static constexpr bool kNullable = true;
  static constexpr ColumnType kType = Column<T>::kType;
};
}  // namespace detail

// Every field in column order.
inline constexpr FieldInfo kTrialFields[] = {
#define RIG_TRIAL_FIELD(name, type, since, view, source, doc) \
  {#name, detail::Column<type>::kType, detail::Column<type>::kNullable, since, view == kShown, doc},
#include "host/model/trial.def"
#undef RIG_TRIAL_FIELD
};
inline constexpr std::size_t kTrialFieldCount = std::size(kTrialFields);

// The field named `name`, for code that reads a few columns by name (a renamed field then fails where it is
// named, at the first use, not at a lab). Pure; thread-safe. Throws std::logic_error for an unknown name.
inline const FieldInfo& trial_field(std::string_view name) {
  for (const auto& field : kTrialFields) {
    if (name == field.name) return field;
  }
  throw std::logic_error("no trial field " + std::string(name));
}

// Calls f(const FieldInfo&, member) for every field of `record` in column order; `Record` is TrialRecord or
// const TrialRecord. Pure; thread-safe as f is.
template <class Record, class F>
void for_each_trial_field(Record& record, F&& f) {
  std::size_t i = 0;
#define RIG_TRIAL_FIELD(name, type, since, view, source, doc) f(kTrialFields[i++], record.name);
#include "host/model/trial.def"
#undef RIG_TRIAL_FIELD
}

// A column's value as SQL holds it: NULL, INTEGER, REAL or TEXT.
using ColumnValue = std::variant<std::monostate, std::int64_t, double, std::string>;

// A member's column value: integers and bool as INTEGER, double as REAL, strings as TEXT, sides as "L"/"R",
// flavours and outcomes by their names, an empty optional as NULL. Pure; thread-safe.
ColumnValue to_column(std::int64_t value);
ColumnValue to_column(std::uint32_t value);
ColumnValue to_column(std::int32_t value);
ColumnValue to_column(bool value);
ColumnValue to_column(double value);
ColumnValue to_column(const std::string& value);
ColumnValue to_column(wire::Side value);
ColumnValue to_column(wire::Valve value);
ColumnValue to_column(wire::TrialOutcome value);
ColumnValue to_column(WaterKind value);
template <class T>
ColumnValue to_column(const std::optional<T>& value) {
  return value ? to_column(*value) : ColumnValue{};
}

// The member from its column value. Throws std::invalid_argument naming `field` when the value has the wrong
// type, is NULL where the field is not nullable, or is not a name its enum knows. Thread-safe.
void from_column(const ColumnValue& value, const FieldInfo& field, std::int64_t& out);
void from_column(const ColumnValue& value, const FieldInfo& field, std::uint32_t& out);
void from_column(const ColumnValue& value, const FieldInfo& field, std::int32_t& out);
void from_column(const ColumnValue& value, const FieldInfo& field, bool& out);
void from_column(const ColumnValue& value, const FieldInfo& field, double& out);
void from_column(const ColumnValue& value, const FieldInfo& field, std::string& out);
void from_column(const ColumnValue& value, const FieldInfo& field, wire::Side& out);
void from_column(const ColumnValue& value, const FieldInfo& field, wire::Valve& out);
void from_column(const ColumnValue& value, const FieldInfo& field, wire::TrialOutcome& out);
void from_column(const ColumnValue& value, const FieldInfo& field, WaterKind& out);
template <class T>
void from_column(const ColumnValue& value, const FieldInfo& field, std::optional<T>& out) {
  if (std::holds_alternative<std::monostate>(value)) {
    out.reset();
    return;
  }
  T inner{};
  from_column(value, field, inner);
  out = inner;
}

// The SQL type name of a column: INTEGER, REAL or TEXT. Pure; thread-safe.
const char* column_type_name(ColumnType type);
// A column's definition as CREATE TABLE and ALTER TABLE ADD COLUMN spell it ("choice TEXT",
// "trial_number INTEGER NOT NULL"). Pure; thread-safe.
std::string column_definition(const FieldInfo& field);

// The open time a choice of `side` would have delivered from `valve` (planned_<side>_<flavour>_open_us).
std::uint32_t planned_open_us(const TrialRecord& record, wire::Side side, wire::Valve valve);
// The open time the device delivered from `valve` (delivered_<flavour>_open_us).
std::uint32_t delivered_open_us(const TrialRecord& record, wire::Valve valve);
// The volume delivered from `valve` (delivered_<flavour>_ul).
double delivered_ul(const TrialRecord& record, wire::Valve valve);

// Counts over a session's trials, as the summary, the dashboard and the log show them.
struct TrialTally {
  std::uint32_t trials = 0;
  std::uint32_t choices = 0;
  std::uint32_t high_side_choices = 0;
  std::uint32_t misses = 0;
  std::uint32_t reversals = 0;
  std::array<std::uint32_t, wire::kValveCount> rewards_by_valve{};  // deliveries per flavour, by wire::Valve
  std::array<double, wire::kValveCount> volume_ul_by_valve{};       // uL delivered per flavour

  // Counts `record` in. Pure.
  void add(const TrialRecord& record);
};

}  // namespace rig::model
