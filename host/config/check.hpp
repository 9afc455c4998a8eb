// What `rig check` does: validate protocol, rig config and subjects files, each on its own and against each
// other, and collect every problem as a FILE:LINE:COL diagnostic.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "host/task/diagnostics.hpp"
#include "host/task/names.hpp"
#include "host/task/subject.hpp"

namespace rig::config {

using task::Diagnostic;
using task::Named;

enum class FileKind { kProtocol, kRigConfig, kSubjects };
inline constexpr Named<FileKind> kFileKindNames[] = {
    {"protocol", FileKind::kProtocol}, {"rig config", FileKind::kRigConfig}, {"subjects", FileKind::kSubjects}};

struct CheckedFile {
  std::string path;
  FileKind kind = FileKind::kProtocol;
  bool ok = false;
};

struct CheckReport {
  std::vector<CheckedFile> files;       // in the order given
  std::vector<Diagnostic> diagnostics;  // every problem, grouped by file in the order given

  bool ok() const { return diagnostics.empty(); }
};

// Which kind of file `text` is, from its top-level fields: `subjects` makes a subjects file; `rig`, `device`,
// `wheel`, `cues` or `valves` a rig config; anything else (including unparsable text) a protocol. Pure;
// thread-safe.
FileKind classify_file(const std::string& text);

// Validates every file in `paths` with its loader (see classify_file). Then, across files: each protocol's
// advance.to must exist; each protocol must be able to run (check_compatibility) on the rig config
// `rig_config_path` if given, else on every valid rig config among `paths`; each subject's stage and agent
// file must exist. Paths in diagnostics are as given. Reads the files; thread-safe.
// `agent_check` (when given) checks each subject's simulated agent, an inline mapping or an existing file; its
// messages are reported at the subject's simulated_agent. (The analysis module knows agents; this one does not.)
using AgentCheck = std::function<std::vector<std::string>(const task::AgentSpec& agent, const std::string& subjects_file)>;
CheckReport check_files(const std::vector<std::string>& paths, const std::optional<std::string>& rig_config_path,
                        const AgentCheck& agent_check = {});

}  // namespace rig::config
