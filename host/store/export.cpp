#include "host/store/export.hpp"

#include <charconv>
#include <nlohmann/json.hpp>
#include <vector>

#include "host/store/wheel_codec.hpp"

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

void write_csv_row(std::ostream& out, const std::vector<std::string>& fields) {
  for (std::size_t i = 0; i < fields.size(); ++i) out << (i ? "," : "") << fields[i];
  out << '\n';
}

}  // namespace

std::optional<ExportFormat> export_format_from_name(const std::string& name) {
  if (name == "csv") return ExportFormat::kCsv;
  if (name == "jsonl") return ExportFormat::kJsonl;
  return std::nullopt;
}

std::int64_t export_trials(const Store& store, std::int64_t session_id, ExportFormat format, std::ostream& out) {
  auto select = store.connection().prepare("SELECT * FROM trials WHERE session_id = ? ORDER BY trial_number");
  select.bind(1, session_id);
  const int columns = select.column_count();
  if (format == ExportFormat::kCsv) {
    std::vector<std::string> header;
    for (int i = 0; i < columns; ++i) header.push_back(select.column_name(i));
    write_csv_row(out, header);
  }
  std::int64_t rows = 0;
  while (select.step("export the trials of session " + std::to_string(session_id))) {
    ++rows;
    if (format == ExportFormat::kCsv) {
      std::vector<std::string> fields;
      for (int i = 0; i < columns; ++i) {
        switch (select.column_type(i)) {
          case SQLITE_NULL: fields.emplace_back(); break;
          case SQLITE_INTEGER: fields.push_back(std::to_string(select.int64(i))); break;
          case SQLITE_FLOAT: fields.push_back(csv_number(select.real(i))); break;
          default: fields.push_back(csv_text(select.text(i))); break;
        }
      }
      write_csv_row(out, fields);
    } else {
      nlohmann::ordered_json row;
      for (int i = 0; i < columns; ++i) {
        auto& field = row[select.column_name(i)];
        switch (select.column_type(i)) {
          case SQLITE_NULL: field = nullptr; break;
          case SQLITE_INTEGER: field = select.int64(i); break;
          case SQLITE_FLOAT: field = select.real(i); break;
          default: field = select.text(i); break;
        }
      }
      out << row.dump() << '\n';
    }
  }
  return rows;
}

std::int64_t export_wheel(const Store& store, std::int64_t session_id, ExportFormat format, std::ostream& out) {
  auto select = store.connection().prepare(
      "SELECT trial_number, t0_device_us, period_us, sample_count, encoding, data FROM wheel_traces "
      "WHERE session_id = ? ORDER BY trial_number");
  select.bind(1, session_id);
  if (format == ExportFormat::kCsv) out << "session_id,trial_number,t_us,position_ticks\n";
  std::int64_t samples = 0;
  while (select.step("export the wheel traces of session " + std::to_string(session_id))) {
    const auto trial_number = select.int64(0);
    if (select.int64(4) != kWheelEncodingVersion) {
      throw std::invalid_argument("wheel trace of trial " + std::to_string(trial_number) + ": unknown encoding");
    }
    const auto runs = decode_wheel_trace({select.int64(1), select.int64(2), select.int64(3), select.blob(5)});
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
  }
  return samples;
}

}  // namespace rig::store
