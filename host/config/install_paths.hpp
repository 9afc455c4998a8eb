// Where an installed rig finds its files, and where a build tree's programs find theirs. The Debian package
// (docs/install.md) puts the programs in /usr/bin, their data in /usr/share/rig (the dashboard's files, the
// protocols) and the board's firmware images in /usr/lib/rig/firmware; the system's rig config lives in /etc/rig. A program run from a build tree
// has no share/rig beside it and falls back to the paths its build gave it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace rig::config {

// The directory of the running program (/proc/self/exe), or empty when it cannot be read. Thread-safe.
std::filesystem::path executable_dir();

// `relative` under the installed data directory (<program's dir>/../share/rig), when that file or directory
// exists; nullopt otherwise (a build tree). Thread-safe; no errors.
std::optional<std::filesystem::path> installed_data(const std::filesystem::path& relative);
// The same under the installed architecture-dependent directory (<program's dir>/../lib/rig), where the board's
// firmware images are. Thread-safe; no errors.
std::optional<std::filesystem::path> installed_lib(const std::filesystem::path& relative);

// The program `name` beside the running one (the package installs rig, rigd, rig-vmcu and rig-simavr
// together); `name` alone when the running program's path cannot be read. Thread-safe.
std::string sibling_program(const std::string& name);

// The system-wide rig config, a conffile of the package.
inline constexpr const char* kSystemRigConfig = "/etc/rig/rig.yaml";

}  // namespace rig::config
