// Mapping a request target to a dashboard file, refusing anything outside the dashboard's directory.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace rig::monitor {

// Decodes %XX escapes of a URL path. Returns nullopt on a malformed escape or a decoded NUL byte.
// Pure, thread-safe.
std::optional<std::string> percent_decode(std::string_view text);

// The regular file under `root` that the request target names ("/" and ".../" mean index.html; the query is
// ignored), or nullopt when the target is not a plain path below root: no leading '/', an empty, "." or ".."
// segment (also when percent-encoded), a backslash, a malformed escape, a symlink leading out of root, or no
// such regular file. Every nullopt is answered 404. Reads the file system; thread-safe.
std::optional<std::filesystem::path> resolve_static_path(const std::filesystem::path& root, std::string_view target);

// The Content-Type for a file name's extension ("application/octet-stream" when unknown). Pure, thread-safe.
std::string_view content_type_for(const std::filesystem::path& file);

// The dashboard's directory: $RIG_MONITOR_WEB_DIR when set, else the installed share/rig/web (beside the
// running program's bin/) when it holds index.html, else the source tree's host/monitor/web. Reads the environment and
// the file system; thread-safe; no errors (returns the source tree's path when nothing else is found).
std::filesystem::path default_web_root();

}  // namespace rig::monitor
