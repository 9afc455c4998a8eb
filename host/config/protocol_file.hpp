// Reading and writing protocol files (docs/protocol.md): the YAML loader with located diagnostics, and the
// effective protocol with every default filled in.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "host/task/diagnostics.hpp"
#include "host/task/protocol.hpp"

namespace rig::config {

using task::Loaded;

// Loads and validates the protocol file at `path`. All problems found are returned as diagnostics naming
// FILE:LINE:COL, the field path and what was expected (unknown fields, wrong types, out-of-range values,
// fields that do not apply to the chosen reversal rule, ...); the protocol is set only if there are none.
// Reads the file; otherwise pure. Thread-safe.
Loaded<task::Protocol> load_protocol_file(const std::string& path);

namespace yaml {
struct Shape;
}
// The field table of a protocol file, which the loader reads through (for `rig schema protocol`). Pure.
const yaml::Shape& protocol_file_shape();

// Same as load_protocol_file for YAML `text`, reporting it as `file_name`. Pure; thread-safe.
Loaded<task::Protocol> parse_protocol(const std::string& text, const std::string& file_name);

// The protocol as YAML with every default filled in (what `rig check --effective` prints). Loading the
// output gives the same protocol. Pure; thread-safe.
std::string effective_protocol_yaml(const task::Protocol& protocol);

// One setting of the effective protocol: its path (`schedule.reversal.rule`, `advance.when.min_sessions`) and
// its value as effective_protocol_yaml writes it ("~" when unset).
struct EffectiveSetting {
  std::string path;
  std::string value;
};

// Every setting of the effective protocol, in the order effective_protocol_yaml writes them. Pure; thread-safe.
std::vector<EffectiveSetting> effective_settings(const task::Protocol& protocol);

// A setting that two protocols set differently; a value is nullopt where that protocol has no such setting
// (a field of another reversal rule, an advance block only one has).
struct SettingDifference {
  std::string path;
  std::optional<std::string> a;
  std::optional<std::string> b;
};

// The settings whose effective values differ between `a` and `b`: `a`'s order, then what only `b` has. Pure;
// thread-safe.
std::vector<SettingDifference> protocol_differences(const task::Protocol& a, const task::Protocol& b);

}  // namespace rig::config
