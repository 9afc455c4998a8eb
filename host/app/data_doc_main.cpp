// rig-data-doc: writes the tables of docs/data-format.md that come from a field table (host/model/*.def):
// the `trials` columns (trial.def), the device description (device.def) and the recording tables
// (recording.def: licks, sync_edges, camera_runs) and the NWB export's trial columns. Each lives between a pair of
// markers, "<!-- BEGIN rig-data-doc NAME -->" and "<!-- END rig-data-doc NAME -->"; the prose around them is
// written by hand.
//   rig-data-doc --output FILE   rewrite the generated tables in FILE
//   rig-data-doc --check FILE    exit 1 (with a message) if FILE's tables differ from the field tables
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "host/config/atomic_file.hpp"
#include "host/model/device.hpp"
#include "host/model/recording.hpp"
#include "host/model/welfare.hpp"
#include "host/model/trial_record.hpp"
#include "host/store/nwb_export.hpp"

namespace {

using namespace rig;

std::string trials_table() {
  std::ostringstream md;
  md << "| column | type | since | live | meaning |\n|---|---|---|---|---|\n";
  for (const auto& field : model::kTrialFields) {
    md << "| " << field.name << " | " << model::column_type_name(field.type) << (field.nullable ? ", NULL" : "")
       << " | " << field.since_version << " | " << (field.shown ? "yes" : "") << " | " << field.doc << " |\n";
  }
  return md.str();
}

std::string device_table() {
  std::ostringstream md;
  md << "| field | meaning |\n|---|---|\n";
#define RIG_DEVICE_FIELD(name, type, doc) md << "| " #name " | " doc " |\n";
#include "host/model/device.def"
#undef RIG_DEVICE_FIELD
  return md.str();
}

template <class Record>
std::string recording_table() {
  using Table = model::RecordingTable<Record>;
  std::ostringstream md;
  md << "`" << Table::kName << "` (since schema version " << Table::kSinceVersion << "): " << Table::kDoc << ".\n\n";
  md << "| column | type | meaning |\n|---|---|---|\n";
  for (const auto& field : Table::kFields) {
    md << "| " << field.name << " | " << model::column_type_name(field.type) << (field.nullable ? ", NULL" : "") << " | "
       << field.doc << " |\n";
  }
  return md.str();
}

// The trial columns of an NWB export's /intervals/trials (host/store/nwb_export.hpp).
std::string nwb_trials_table() {
  std::ostringstream md;
  md << "| column | dtype | unit attribute | NULL as |\n|---|---|---|---|\n";
  for (const auto& column : store::nwb_trial_columns()) {
    md << "| " << column.field->name << " | " << store::nwb_dtype_name(column.dtype) << " | " << column.unit << " | "
       << (!column.field->nullable ? "" : column.dtype == store::NwbDtype::kText ? "empty text" : "NaN") << " |\n";
  }
  return md.str();
}

struct Section {
  const char* name;
  std::string (*generate)();
};
constexpr Section kSections[] = {{"trials", trials_table},
                                 {"device", device_table},
                                 {"licks", recording_table<model::LickRecord>},
                                 {"sync_edges", recording_table<model::SyncRecord>},
                                 {"camera_runs", recording_table<model::CameraRecord>},
                                 {"weighings", recording_table<model::Weighing>},
                                 {"water_given", recording_table<model::WaterGiven>},
                                 {"nwb_trials", nwb_trials_table}};

// `text` with every section's generated table in place; an error names a missing marker.
std::string regenerate(const std::string& text, const std::string& path) {
  std::string out = text;
  for (const auto& section : kSections) {
    const std::string begin = std::string("<!-- BEGIN rig-data-doc ") + section.name + " -->\n";
    const std::string end = std::string("<!-- END rig-data-doc ") + section.name + " -->";
    const auto at = out.find(begin);
    const auto stop = at == std::string::npos ? std::string::npos : out.find(end, at);
    if (stop == std::string::npos) {
      throw std::runtime_error(path + ": missing the markers of section " + section.name + " (" + begin.substr(0, begin.size() - 1) +
                               " ... " + end + ")");
    }
    out.replace(at + begin.size(), stop - at - begin.size(), section.generate());
  }
  return out;
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::string_view(argv[1]) != "--output" && std::string_view(argv[1]) != "--check")) {
    std::cerr << "usage: rig-data-doc --output FILE | --check FILE\n"
                 "  regenerates (or checks) the tables of docs/data-format.md that come from host/model/*.def\n";
    return 2;
  }
  const std::string path = argv[2];
  try {
    const std::string existing = read(path);
    const std::string text = regenerate(existing, path);
    if (std::string_view(argv[1]) == "--output") {
      if (text != existing) config::write_file_atomically(path, text);
      return 0;
    }
    if (text != existing) {
      std::cerr << "rig-data-doc: " << path
                << " is out of date with host/model/*.def; run `cmake --build --preset debug --target data-doc`\n";
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "rig-data-doc: " << e.what() << "\n";
    return 1;
  }
}
