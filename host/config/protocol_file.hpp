// Reading and writing protocol files (docs/protocol.md): the YAML loader with located diagnostics, and the
// effective protocol with every default filled in.
#pragma once

#include <string>

#include "host/task/diagnostics.hpp"
#include "host/task/protocol.hpp"

namespace rig::config {

using task::Loaded;

// Loads and validates the protocol file at `path`. All problems found are returned as diagnostics naming
// FILE:LINE:COL, the field path and what was expected (unknown fields, wrong types, out-of-range values,
// fields that do not apply to the chosen reversal rule, ...); the protocol is set only if there are none.
// Reads the file; otherwise pure. Thread-safe.
Loaded<task::Protocol> load_protocol_file(const std::string& path);

// Same as load_protocol_file for YAML `text`, reporting it as `file_name`. Pure; thread-safe.
Loaded<task::Protocol> parse_protocol(const std::string& text, const std::string& file_name);

// The protocol as YAML with every default filled in (what `rig check --effective` prints). Loading the
// output gives the same protocol. Pure; thread-safe.
std::string effective_protocol_yaml(const task::Protocol& protocol);

}  // namespace rig::config
