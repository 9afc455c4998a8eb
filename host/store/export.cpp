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

// A CSV line of every field of a trial or recording record, in column order.
template <class Record>
void write_csv_line(std::ostream& out, const Record& record) {
  bool first = true;
  model::for_each_column(record, [&](const model::FieldInfo&, const auto& member) {
    out << (first ? "" : ",") << csv_field(model::to_column(member));
    first = false;
  });
  out << '\n';
}

// One recording table's rows: a CSV header from recording.def and a line per row, or a JSON object per row.
template <class Record>
std::int64_t export_recording(const Store& store, std::int64_t session_id, ExportFormat format, std::ostream& out) {
  using Table = model::RecordingTable<Record>;
  if (format == ExportFormat::kCsv) {
    for (const auto& field : Table::kFields) out << (&field == Table::kFields ? "" : ",") << field.name;
    out << '\n';
  }
  std::int64_t rows = 0;
  store.for_each_recording<Record>(session_id, [&](const Record& row) {
    ++rows;
    if (format == ExportFormat::kCsv) {
      write_csv_line(out, row);
    } else {
      nlohmann::ordered_json json = nlohmann::ordered_json::object();
      model::for_each_recording_field(row, [&](const model::FieldInfo& field, const auto& member) {
        json[field.name] = model::column_json(model::to_column(member));
      });
      out << json.dump() << '\n';
    }
  });
  return rows;
}

}  // namespace

std::optional<ExportTable> export_table_from_name(const std::string& name) {
  if (name == "trials") return ExportTable::kTrials;
  if (name == "wheel") return ExportTable::kWheel;
  if (name == "licks") return ExportTable::kLicks;
  if (name == "sync") return ExportTable::kSync;
  if (name == "frames") return ExportTable::kFrames;
  return std::nullopt;
}

std::int64_t export_licks(const Store& store, std::int64_t session_id, ExportFormat format, std::ostream& out) {
  return export_recording<model::LickRecord>(store, session_id, format, out);
}

std::int64_t export_sync(const Store& store, std::int64_t session_id, ExportFormat format, std::ostream& out) {
  return export_recording<model::SyncRecord>(store, session_id, format, out);
}

std::int64_t export_frames(const Store& store, std::int64_t session_id, ExportFormat format, std::ostream& out) {
  if (format == ExportFormat::kCsv) out << "session_id,run,frame_index,device_us\n";
  std::int64_t frames = 0;
  std::int64_t run = 0;
  store.for_each_recording<model::CameraRecord>(session_id, [&](const model::CameraRecord& r) {
    ++run;
    for (std::uint32_t k = 0; k < r.frame_count; ++k) {
      const std::int64_t device_us = r.first_frame_device_us + static_cast<std::int64_t>(k) * r.period_us;
      if (format == ExportFormat::kCsv) {
        out << session_id << ',' << run << ',' << k << ',' << device_us << '\n';
      } else {
        out << "{\"session_id\":" << session_id << ",\"run\":" << run << ",\"frame_index\":" << k
            << ",\"device_us\":" << device_us << "}\n";
      }
      ++frames;
    }
  });
  return frames;
}

std::int64_t export_table(const Store& store, std::int64_t session_id, ExportTable table, ExportFormat format,
                          std::ostream& out) {
  switch (table) {
    case ExportTable::kWheel:
      return export_wheel(store, session_id, format, out);
    case ExportTable::kLicks:
      return export_licks(store, session_id, format, out);
    case ExportTable::kSync:
      return export_sync(store, session_id, format, out);
    case ExportTable::kFrames:
      return export_frames(store, session_id, format, out);
    case ExportTable::kTrials:
    default:
      return export_trials(store, session_id, format, out);
  }
}

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
      write_csv_line(out, trial);
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
