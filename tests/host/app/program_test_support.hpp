// Shared by the tests of the built programs (rig, rigd): the end-to-end fixture files and a fresh directory
// per test (support/temp_dir.hpp).
#pragma once

#include <filesystem>
#include <gtest/gtest.h>
#include <string>
#include <unistd.h>

#include "support/temp_dir.hpp"

namespace rig::testing {

// A file of the end-to-end fixtures (tests/host/app/e2e/: rig.yaml, subjects.yaml, protocol.yaml).
inline std::string e2e(const std::string& file) { return std::string(RIG_SOURCE_DIR) + "/tests/host/app/e2e/" + file; }

}  // namespace rig::testing
