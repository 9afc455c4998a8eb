// Diagnostics of the YAML loaders: where in which file something is wrong, and what was expected.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace rig::task {

// A place in a source file. line and column are 1-based (yaml-cpp's 0-based marks are converted on entry).
struct SourceLocation {
  std::string file;
  int line = 1;
  int column = 1;
};

// One error found while loading or cross-checking files.
struct Diagnostic {
  SourceLocation where;
  std::string message;  // starts with the field path, e.g. "schedule.controllable.p_high: expected ..."
};

// "FILE:LINE:COL: message", the format `rig check` prints. Pure; thread-safe.
std::string format_diagnostic(const Diagnostic& diagnostic);

// `value` in the shortest text that reads back as the same double (messages and emitted YAML). Pure;
// thread-safe.
std::string format_number(double value);

// Every value's location by field path ("trial.threshold_deg", "valves.cherry.points[2].open_us"), so that
// later cross-checks between files can point at the field they reject. A defaulted field maps to the
// location of the mapping that would hold it.
using FieldLocations = std::map<std::string, SourceLocation>;

// The result of a loader: `value` is set exactly when `diagnostics` is empty (nothing starts on error).
template <class T>
struct Loaded {
  std::optional<T> value;
  std::vector<Diagnostic> diagnostics;

  bool ok() const { return value.has_value(); }
};

// Thrown where an invalid combination reaches code that cannot return diagnostics (e.g. the TaskEngine
// constructor); what() lists every diagnostic, one formatted line each.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<Diagnostic> diagnostics);
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

}  // namespace rig::task
