#include "host/config/check.hpp"

#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "host/task/compatibility.hpp"
#include "host/config/protocol_file.hpp"
#include "host/config/rig_config_file.hpp"
#include "host/config/subjects_file.hpp"
#include "host/config/yaml_reader.hpp"

namespace rig::config {

// The task's types, which these files describe.
using namespace rig::task;
namespace {

SourceLocation location_of(const FieldLocations& locations, const std::string& file, const std::string& path) {
  const auto it = locations.find(path);
  return it != locations.end() ? it->second : SourceLocation{file, 1, 1};
}

// Reports `reference` (stated at field `path` of `file`) if it names no existing file.
void require_file(const std::string& file, const FieldLocations& locations, const std::string& path,
                  const std::string& reference, std::vector<Diagnostic>& out) {
  const auto resolved = resolve_relative(file, reference);
  std::error_code error;
  if (!std::filesystem::is_regular_file(resolved, error)) {
    out.push_back({location_of(locations, file, path), path + ": no such file " + resolved});
  }
}

template <class T>
bool take(Loaded<T>& loaded, std::vector<Diagnostic>& out) {
  out.insert(out.end(), loaded.diagnostics.begin(), loaded.diagnostics.end());
  return loaded.ok();
}

}  // namespace

FileKind classify_file(const std::string& text) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception&) {
    return FileKind::kProtocol;
  }
  if (!root.IsMap()) return FileKind::kProtocol;
  if (root["subjects"]) return FileKind::kSubjects;
  for (const char* key : {"rig", "device", "wheel", "cues", "valves"}) {
    if (root[key]) return FileKind::kRigConfig;
  }
  return FileKind::kProtocol;
}

CheckReport check_files(const std::vector<std::string>& paths, const std::optional<std::string>& rig_config_path,
                        const AgentCheck& agent_check) {
  CheckReport report;
  std::vector<RigConfig> rigs;
  if (rig_config_path) {
    auto loaded = load_rig_config_file(*rig_config_path);
    if (take(loaded, report.diagnostics)) rigs.push_back(std::move(*loaded.value));
  }
  std::vector<Protocol> protocols;
  std::vector<std::size_t> protocol_diagnostic_slot;  // where each protocol's cross-checks go in the report
  for (const auto& path : paths) {
    yaml::Sink sink(path);
    const auto text = yaml::read_text_file(path, sink);
    CheckedFile file{path, text ? classify_file(*text) : FileKind::kProtocol, false};
    auto& out = report.diagnostics;
    const std::size_t diagnostics_before = out.size();
    switch (file.kind) {
      case FileKind::kProtocol: {
        auto loaded = load_protocol_file(path);
        if (take(loaded, out)) {
          auto& protocol = *loaded.value;
          if (protocol.advance) require_file(path, protocol.locations, "advance.to", protocol.advance->to, out);
          protocols.push_back(std::move(protocol));
          protocol_diagnostic_slot.push_back(out.size());
        }
        break;
      }
      case FileKind::kRigConfig: {
        auto loaded = load_rig_config_file(path);
        if (take(loaded, out) && !rig_config_path) rigs.push_back(std::move(*loaded.value));
        break;
      }
      case FileKind::kSubjects: {
        auto loaded = load_subjects_file(path);
        if (take(loaded, out)) {
          for (std::size_t i = 0; i < loaded.value->subjects.size(); ++i) {
            const auto& subject = loaded.value->subjects[i];
            const auto prefix = "subjects[" + std::to_string(i) + "].";
            require_file(path, loaded.value->locations, prefix + "stage", subject.stage, out);
            if (!subject.simulated_agent) continue;
            const auto before = out.size();
            if (subject.simulated_agent->kind == AgentSpec::Kind::kFile) {
              require_file(path, loaded.value->locations, prefix + "simulated_agent", subject.simulated_agent->text,
                           out);
            }
            if (agent_check && out.size() == before) {
              for (const auto& message : agent_check(*subject.simulated_agent, path)) {
                out.push_back({location_of(loaded.value->locations, path, prefix + "simulated_agent"),
                               prefix + "simulated_agent: " + message});
              }
            }
          }
        }
        break;
      }
    }
    file.ok = out.size() == diagnostics_before;
    report.files.push_back(file);
  }
  // Cross-checks go right after their protocol's own diagnostics, so the output stays grouped by file; work
  // backwards so that earlier insertion points stay valid.
  for (std::size_t p = protocols.size(); p-- > 0;) {
    std::vector<Diagnostic> problems;
    for (const auto& rig : rigs) {
      auto found = check_compatibility(protocols[p], rig);
      problems.insert(problems.end(), found.begin(), found.end());
    }
    report.diagnostics.insert(report.diagnostics.begin() + static_cast<std::ptrdiff_t>(protocol_diagnostic_slot[p]),
                              problems.begin(), problems.end());
    if (!problems.empty()) {
      for (auto& file : report.files) {
        if (file.path == protocols[p].source_file) file.ok = false;
      }
    }
  }
  return report;
}

}  // namespace rig::config
