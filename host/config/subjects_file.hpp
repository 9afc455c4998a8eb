// Reading subjects files (config/subjects*.yaml, docs/config.md) with located diagnostics.
#pragma once

#include <string>

#include "host/task/diagnostics.hpp"
#include "host/task/subject.hpp"

namespace rig::config {

using task::Loaded;

// Loads and validates a subjects file (`subjects:` list). Reports unknown fields, missing ids, duplicate ids,
// a flavour other than cherry|grape, water amounts out of range (max below target), bad agent specs.
// Reads the file; otherwise pure. Thread-safe.
Loaded<task::SubjectList> load_subjects_file(const std::string& path);

namespace yaml {
struct Shape;
}
// The field table of a subjects file, which the loader reads through (for `rig schema subjects`). Pure.
const yaml::Shape& subjects_file_shape();

// Same for YAML `text`, reported as `file_name`. Pure; thread-safe.
Loaded<task::SubjectList> parse_subjects(const std::string& text, const std::string& file_name);

}  // namespace rig::config
