#include "host/store/export.hpp"

#include <charconv>
#include <type_traits>
#include <variant>
#include <vector>

#include "host/model/trial_json.hpp"

namespace rig::store {
namespace {

std::string csv_number(double value) {
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  return std::string(text, end);
}

std::string csv_text(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

// A CSV field: NULL empty, integers in decimal, reals shortest-exact, text quoted when it must be.
std::string csv_field(const model::ColumnValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return {};
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          return std::to_string(v);
        } else if constexpr (std::is_same_v<T, double>) {
          return csv_number(v);
        } else {
          return csv_text(v);
        }
      },
      value);
}

}  // namespace

std::optional<ExportFormat> export_format_from_name(const std::string& name) {
  if (name == "csv") return ExportFormat::kCsv;
  if (name == "jsonl") return ExportFormat::kJsonl;
  return std::nullopt;
}

std::int64_t export_trials(const Store& store, std::int64_t session_id, ExportFormat format, std::ostream& out) {
  if (format == ExportFormat::kCsv) {
    for (const auto& field : model::kTrialFields) out << (&field == model::kTrialFields ? "" : ",") << field.name;
    out << '\n';
  }
  std::int64_t rows = 0;
  store.for_each_trial(session_id, [&](const StoredTrial& trial) {
    ++rows;
    if (format == ExportFormat::kCsv) {
      bool first = true;
      model::for_each_trial_field(trial, [&](const model::FieldInfo&, const auto& member) {
        out << (first ? "" : ",") << csv_field(model::to_column(member));
        first = false;
      });
      out << '\n';
    } else {
      out << model::trial_json(trial, false).dump() << '\n';
    }
  });
  return rows;
}

std::int64_t export_wheel(const Store& store, std::int64_t session_id, ExportFormat format, std::ostream& out) {
  if (format == ExportFormat::kCsv) out << "session_id,trial_number,t_us,position_ticks\n";
  std::int64_t samples = 0;
  store.for_each_wheel_trace(session_id, [&](std::uint32_t trial_number, const std::vector<model::WheelSamples>& runs) {
    for (const auto& run : runs) {
      for (std::size_t i = 0; i < run.position_ticks.size(); ++i) {
        const auto t_us = run.t0_us + static_cast<std::int64_t>(i) * run.period_us;
        if (format == ExportFormat::kCsv) {
          out << session_id << ',' << trial_number << ',' << t_us << ',' << run.position_ticks[i] << '\n';
        } else {
          out << "{\"session_id\":" << session_id << ",\"trial_number\":" << trial_number << ",\"t_us\":" << t_us
              << ",\"position_ticks\":" << run.position_ticks[i] << "}\n";
        }
        ++samples;
      }
    }
  });
  return samples;
}

}  // namespace rig::store
