// Writing a new valve calibration into a rig config file without disturbing the rest of it: only the values
// of `valves.<flavour>.calibrated_on` and `valves.<flavour>.points` change, every other byte of the file
// (comments, blank lines, key order, the other valve) stays as the operator wrote it.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "firmware/wire/messages.hpp"
#include "host/task/calibration.hpp"

namespace rig::config {

using task::CalibrationTable;

// The rig config text cannot be rewritten: it does not parse, has no `valves.<flavour>` mapping with
// `calibrated_on` and `points`, or is written in a way the rewrite cannot touch without changing something
// else (e.g. the table is shared through a YAML anchor). what() says which and where.
class CalibrationYamlError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Returns `yaml_text` (a rig config, see docs/config.md) with `valves.<flavour of valve>` holding `table`:
// the `calibrated_on` scalar becomes format_date(table.calibrated_on) and the `points` list is replaced by
// one `{open_us: N, volume_ul: V}` item per point (volume_ul in the shortest text that reads back as the
// same double). The style of what is replaced is kept: a block list keeps its indentation, its flow or
// block items and its line endings; a flow list `[...]` or a flow mapping `{calibrated_on: ..., points:
// [...]}` is rewritten on one line. Comments on the `calibrated_on:` and `points:` lines and every byte
// outside the replaced values are kept; comments between the old points go with them. The result is parsed
// again and checked: the valve reads back exactly as `table` and the document minus that valve is the same
// as before. `table` should be valid (check_table); it is written as given.
// Throws CalibrationYamlError (above). Pure; thread-safe.
std::string replace_valve_calibration(std::string_view yaml_text, wire::Valve valve, const CalibrationTable& table);

// The `<flavour>:` block for `table` as it would appear under `valves:` (two-space indentation, flow
// items, "\n" line endings), for showing the operator or pasting by hand. Pure; thread-safe.
std::string format_valve_calibration(wire::Valve valve, const CalibrationTable& table);

}  // namespace rig::config
