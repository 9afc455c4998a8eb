// Reading rig config files (docs/config.md) with located diagnostics.
#pragma once

#include <string>

#include "host/task/diagnostics.hpp"
#include "host/task/rig_config.hpp"

namespace rig::config {

using task::Loaded;

// Loads and validates a rig config file. Every problem is a diagnostic with FILE:LINE:COL, field path and
// expectation: unknown fields, a serial device without port, ticks per revolution that is not a positive
// multiple of 4 within 16 bits, a threshold the encoder cannot express, cue ids out of range, a calibration
// table that is not strictly monotone or has a bad date. Reads the file; otherwise pure. Thread-safe.
Loaded<task::RigConfig> load_rig_config_file(const std::string& path);

namespace yaml {
struct Shape;
}
// The field table of a rig config file, which the loader reads through (for `rig schema rig`). Pure.
const yaml::Shape& rig_config_file_shape();

// Same for YAML `text`, reported as `file_name`. Pure; thread-safe.
Loaded<task::RigConfig> parse_rig_config(const std::string& text, const std::string& file_name);

}  // namespace rig::config
