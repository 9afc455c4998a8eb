#include "host/task/diagnostics.hpp"

namespace rig::task {
namespace {

std::string join_formatted(const std::vector<Diagnostic>& diagnostics) {
  std::string text;
  for (const auto& d : diagnostics) {
    if (!text.empty()) text += '\n';
    text += format_diagnostic(d);
  }
  return text;
}

}  // namespace

std::string format_diagnostic(const Diagnostic& diagnostic) {
  return diagnostic.where.file + ":" + std::to_string(diagnostic.where.line) + ":" +
         std::to_string(diagnostic.where.column) + ": " + diagnostic.message;
}

ConfigError::ConfigError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(join_formatted(diagnostics)), diagnostics_(std::move(diagnostics)) {}

}  // namespace rig::task
