#include "host/monitor/static_files.hpp"

#include "host/config/install_paths.hpp"

#include <array>
#include <cstdlib>
#include <system_error>
#include <unistd.h>

namespace rig::monitor {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_within(const std::filesystem::path& root, const std::filesystem::path& candidate) {
  auto r = root.begin();
  auto c = candidate.begin();
  for (; r != root.end(); ++r, ++c) {
    if (c == candidate.end() || *r != *c) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0') return std::nullopt;
    out.push_back(c);
  }
  return out;
}

std::optional<std::filesystem::path> resolve_static_path(const std::filesystem::path& root, std::string_view target) {
  const auto end = target.find_first_of("?#");
  const std::string_view raw = target.substr(0, end);
  if (raw.empty() || raw.front() != '/') return std::nullopt;
  const auto decoded = percent_decode(raw);
  if (!decoded) return std::nullopt;
  std::string path = *decoded;
  if (path.back() == '/') path += "index.html";

  std::filesystem::path relative;
  std::size_t start = 1;
  while (start <= path.size()) {
    const std::size_t slash = std::min(path.find('/', start), path.size());
    const std::string_view segment = std::string_view(path).substr(start, slash - start);
    if (segment.empty() || segment == "." || segment == ".." || segment.find('\\') != std::string_view::npos) {
      return std::nullopt;
    }
    relative /= std::string(segment);
    start = slash + 1;
  }

  std::error_code ec;
  const auto canonical_root = std::filesystem::canonical(root, ec);
  if (ec) return std::nullopt;
  const auto file = std::filesystem::weakly_canonical(canonical_root / relative, ec);
  if (ec || !is_within(canonical_root, file)) return std::nullopt;
  if (!std::filesystem::is_regular_file(file, ec) || ec) return std::nullopt;
  return file;
}

std::string_view content_type_for(const std::filesystem::path& file) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 11> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
      {".md", "text/plain; charset=utf-8"},
  }};
  const std::string extension = file.extension().string();
  for (const auto& [ext, type] : kTypes) {
    if (extension == ext) return type;
  }
  return "application/octet-stream";
}

std::filesystem::path default_web_root() {
  if (const char* env = std::getenv("RIG_MONITOR_WEB_DIR"); env && *env) return env;
  std::error_code ec;
  if (const auto installed = config::installed_data("web");
      installed && std::filesystem::is_regular_file(*installed / "index.html", ec)) {
    return *installed;
  }
  return RIG_MONITOR_SOURCE_WEB_DIR;
}

}  // namespace rig::monitor
