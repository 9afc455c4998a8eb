// Saving and restoring the engine's state (a later session resumes exactly after a crash).
#pragma once

#include <string>

#include "host/task/engine.hpp"

namespace rig::task {

// The state as one line of JSON (format 1), every number exact: integers as JSON integers, doubles with
// round-trip precision. Pure; thread-safe.
std::string engine_state_to_json(const EngineState& state);

// Parses engine_state_to_json() output. Throws std::invalid_argument naming the problem when the text is not
// JSON, the format is unknown, or a field is missing or of the wrong type. Pure; thread-safe.
EngineState engine_state_from_json(const std::string& text);

}  // namespace rig::task
