#include "host/analysis/trial_csv.hpp"

#include "host/analysis/csv_text.hpp"
#include "host/model/trial_record.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <stdexcept>

namespace rig::analysis {
namespace {

enum Column { kSession, kChoice, kFree, kControllable, kDistractor, kPLeft, kPRight, kPDistractor, kColumnCount };
constexpr std::array<std::string_view, kColumnCount> kColumnNames{
    "session", "choice", "free", "controllable", "distractor", "p_controllable_left", "p_controllable_right",
    "p_distractor"};

// The names `rig export --format csv` gives the same columns (host/model/trial.def), where they differ.
const std::array<std::string_view, kColumnCount>& export_column_names() {
  static const std::array<std::string_view, kColumnCount> kNames{
      model::trial_field("session_id").name, "", model::trial_field("free_choice").name,
      model::trial_field("controllable_delivered").name, model::trial_field("distractor_delivered").name, "", "",
      ""};
  return kNames;
}

[[noreturn]] void fail(std::size_t line, std::string_view column, const std::string& what) {
  throw std::invalid_argument("line " + std::to_string(line) + (column.empty() ? "" : ", column ") +
                              std::string(column) + ": " + what);
}

bool parse_flag(std::string_view field, std::size_t line, std::string_view column) {
  if (field == "1") return true;
  if (field == "0") return false;
  fail(line, column, "expected 0 or 1, got '" + std::string(field) + "'");
}

double parse_probability(std::string_view field, std::size_t line, std::string_view column) {
  if (field.empty() || lowercase(field) == "nan") return kNotLogged;
  double value = 0.0;
  const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (error != std::errc() || end != field.data() + field.size() || !(value >= 0.0 && value <= 1.0)) {
    fail(line, column, "expected a probability in [0, 1], got '" + std::string(field) + "'");
  }
  return value;
}

Choice parse_choice(std::string_view field, std::size_t line) {
  const std::string value = lowercase(field);
  if (value == "l") return Choice::kLeft;
  if (value == "r") return Choice::kRight;
  // Empty: the export's NULL choice (a miss, an abort, no quiescence).
  if (value == "miss" || value.empty()) return Choice::kMiss;
  fail(line, "choice", "expected L, R, miss or nothing, got '" + std::string(field) + "'");
}

std::string format_probability(double p) {
  if (std::isnan(p)) return "";
  std::array<char, 32> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), p);
  return std::string(buffer.data(), result.ptr);
}

}  // namespace

std::vector<TrialRecord> parse_trials_csv(std::string_view text) {
  std::vector<TrialRecord> trials;
  std::array<std::optional<std::size_t>, kColumnCount> where{};
  bool header_seen = false;
  std::size_t width = 0;
  for_each_csv_line(text, [&](std::size_t line_number, std::string_view line) {
    const auto fields = csv_fields(line);
    if (!header_seen) {
      header_seen = true;
      width = fields.size();
      for (std::size_t i = 0; i < fields.size(); ++i) {
        const std::string name = lowercase(fields[i]);
        for (std::size_t c = 0; c < kColumnCount; ++c) {
          if (name != kColumnNames[c] && name != export_column_names()[c]) continue;
          if (where[c]) fail(line_number, name, "column appears twice (or under both its names)");
          where[c] = i;
        }
      }
      for (const Column required : {kChoice, kControllable, kDistractor}) {
        if (!where[required]) {
          const auto other = export_column_names()[required];
          fail(line_number, "",
               "missing column '" + std::string(kColumnNames[required]) + "'" +
                   (other.empty() ? std::string() : " (or '" + std::string(other) + "')"));
        }
      }
      return;
    }
    if (fields.size() != width) {
      fail(line_number, "", "expected " + std::to_string(width) + " fields, got " + std::to_string(fields.size()));
    }
    auto field = [&](Column c) { return fields[*where[c]]; };
    TrialRecord trial;
    trial.session_id = where[kSession] ? std::string(field(kSession)) : std::string();
    trial.choice = parse_choice(field(kChoice), line_number);
    trial.free_choice = where[kFree] ? parse_flag(field(kFree), line_number, "free") : true;
    trial.controllable_delivered = parse_flag(field(kControllable), line_number, "controllable");
    trial.distractor_delivered = parse_flag(field(kDistractor), line_number, "distractor");
    for (const auto& [column, member] : {std::pair{kPLeft, &TrialRecord::p_controllable_left},
                                         std::pair{kPRight, &TrialRecord::p_controllable_right},
                                         std::pair{kPDistractor, &TrialRecord::p_distractor}}) {
      if (where[column]) trial.*member = parse_probability(field(column), line_number, kColumnNames[column]);
    }
    trials.push_back(std::move(trial));
  });
  if (!header_seen) throw std::invalid_argument("the CSV is empty (no header line)");
  return trials;
}

std::string trials_to_csv(std::span<const TrialRecord> trials) {
  std::string out = "session,choice,free,controllable,distractor,p_controllable_left,p_controllable_right,p_distractor\n";
  for (const auto& t : trials) {
    out += t.session_id;
    out += t.choice == Choice::kLeft ? ",L," : t.choice == Choice::kRight ? ",R," : ",miss,";
    out += t.free_choice ? "1," : "0,";
    out += t.controllable_delivered ? "1," : "0,";
    out += t.distractor_delivered ? "1," : "0,";
    out += format_probability(t.p_controllable_left) + ",";
    out += format_probability(t.p_controllable_right) + ",";
    out += format_probability(t.p_distractor) + "\n";
  }
  return out;
}

}  // namespace rig::analysis
