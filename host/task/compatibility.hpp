// Checks across files: whether a protocol can run on a rig, and where files a protocol or subject names are.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "host/task/diagnostics.hpp"
#include "host/task/protocol.hpp"
#include "host/task/rig_config.hpp"

namespace rig::task {

// The protocol's wheel angles in encoder ticks on a rig.
struct WheelTicks {
  std::uint16_t threshold_ticks = 0;
  std::uint16_t quiescence_tolerance_ticks = 0;
};

// Every reason `protocol` cannot run on `rig`, each at the protocol field it concerns: a choice threshold that
// is 0 ticks or more than 65535 ticks on this encoder, a quiescence tolerance beyond 65535 ticks, a go cue the
// rig does not have, a reward volume outside either valve's calibrated range (any subject may have either
// flavour as the controllable one). Empty when compatible. Pure; thread-safe.
std::vector<Diagnostic> check_compatibility(const Protocol& protocol, const RigConfig& rig);

// The wheel angles in ticks; requires check_compatibility() to be empty. Pure; thread-safe.
WheelTicks wheel_ticks(const Protocol& protocol, const RigConfig& rig);

// `reference` (advance.to, a subject's stage) resolved against the directory of the file that states it:
// absolute paths stay, relative ones are joined to dirname(referring_file). Pure; thread-safe.
std::string resolve_relative(const std::string& referring_file, const std::string& reference);

}  // namespace rig::task
