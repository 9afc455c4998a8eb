// Reading the lab's rows back into the model's records (private to rig_lab): a column's text as the field's
// value, a malformed one a LabError naming where it was, and the welfare tables read generically through their
// field tables (welfare.def), so that no reader retypes a column.
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "host/lab/pg.hpp"
#include "host/model/welfare.hpp"
#include "host/store/outbox.hpp"

namespace rig::lab {

// The lab's text for a field as the model's column value (bigint -> INTEGER, double precision -> REAL). Throws
// what std::stoll / std::stod throw on a malformed number.
inline model::ColumnValue column_value(const PgResult& result, int row, int column, const model::FieldInfo& field) {
  if (result.is_null(row, column)) return std::monostate{};
  const std::string text = result.text(row, column);
  switch (field.type) {
    case model::ColumnType::kInteger: return static_cast<std::int64_t>(std::stoll(text));
    case model::ColumnType::kReal: return std::stod(text);
    case model::ColumnType::kText: break;
  }
  return text;
}

// "lab database SERVER, table trials, rig R, session S": where a malformed trial is, for messages. Pure.
inline std::string trials_place(const PgConnection& lab, const std::string& rig_id, std::int64_t session_id) {
  return "lab database " + lab.server() + ", table trials, rig " + rig_id + ", session " + std::to_string(session_id);
}

// Fills `member` from the result's `column`, read as `field`; a malformed value is a LabError naming `where`.
template <class Member>
void read_column(const PgResult& result, int row, int column, const model::FieldInfo& field, Member& member,
                 const std::string& where) {
  try {
    model::from_column(column_value(result, row, column, field), field, member);
  } catch (const std::exception& e) {
    throw LabError(where + ", field " + field.name + ": " + e.what());
  }
}

// The same from the result's column named after `field`.
template <class Member>
void read_field(const PgResult& result, int row, const model::FieldInfo& field, Member& member, const std::string& where) {
  const int column = PQfnumber(result.get(), field.name);
  if (column < 0) throw LabError(where + ": the lab has no column " + field.name + " (run `rig lab init`)");
  read_column(result, row, column, field, member, where);
}

// Every row of a welfare table (welfare.def) in the lab: of `subject_id` only unless it is empty, without rig
// `except_rig`'s unless that is empty; ordered as the store reads them (by subject, then by when it was taken).
// Reads `lab`; throws LabError naming the table, the rig and the field of a malformed row.
template <class Record>
std::vector<Record> lab_welfare_rows(PgConnection& lab, const std::string& subject_id, const std::string& except_rig) {
  using Table = model::RecordingTable<Record>;
  // The first field is the subject, the second when it was taken.
  static const std::string kSelect = std::string("SELECT rig_id, * FROM ") + Table::kName + " WHERE ($1 = '' OR " +
                                     Table::kFields[0].name + " = $1) AND rig_id <> $2 ORDER BY " + Table::kFields[0].name +
                                     ", " + Table::kFields[1].name + ", rig_id, " + store::kRowIdColumn;
  const std::string what = std::string("read the ") + Table::kName + (subject_id.empty() ? "" : " of " + subject_id);
  const auto result = lab.exec(kSelect, {PgParam{subject_id}, PgParam{except_rig}}, what);
  std::vector<Record> rows;
  rows.reserve(static_cast<std::size_t>(result.rows()));
  for (int row = 0; row < result.rows(); ++row) {
    const std::string where = "lab database " + lab.server() + ", table " + Table::kName + ", rig " + result.text(row, 0);
    Record record;
    model::for_each_column(record, [&](const model::FieldInfo& field, auto& member) { read_field(result, row, field, member, where); });
    rows.push_back(std::move(record));
  }
  return rows;
}

}  // namespace rig::lab
