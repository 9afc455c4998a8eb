#include "host/config/install_paths.hpp"

namespace rig::config {

std::filesystem::path executable_dir() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path{} : self.parent_path();
}

namespace {

std::optional<std::filesystem::path> installed(const char* kind, const std::filesystem::path& relative) {
  const auto dir = executable_dir();
  if (dir.empty()) return std::nullopt;
  const auto candidate = (dir / ".." / kind / "rig" / relative).lexically_normal();
  std::error_code ec;
  if (!std::filesystem::exists(candidate, ec)) return std::nullopt;
  return candidate;
}

}  // namespace

std::optional<std::filesystem::path> installed_data(const std::filesystem::path& relative) {
  return installed("share", relative);
}

std::optional<std::filesystem::path> installed_lib(const std::filesystem::path& relative) {
  return installed("lib", relative);
}

std::string sibling_program(const std::string& name) {
  const auto dir = executable_dir();
  return dir.empty() ? name : (dir / name).string();
}

}  // namespace rig::config
