// libFuzzer target: arbitrary text through the three YAML loaders (protocol, rig config, subjects).
//
// What must hold for every input (otherwise the target aborts):
//   - no crash, no exception escapes, no undefined behaviour, no leak (ASan + UBSan + LeakSanitizer);
//   - a loader returns a value exactly when it returns no diagnostics;
//   - every diagnostic names the file it was given, a line and a column that exist in the text (1-based; the
//     line after the last one is allowed for "unexpected end of input") and a non-empty message, and
//     formats as "FILE:LINE:COL: message".
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "host/config/subjects_file.hpp"
#include "host/config/rig_config_file.hpp"
#include "host/config/protocol_file.hpp"
#include "host/task/diagnostics.hpp"
#include "host/task/protocol.hpp"
#include "host/task/rig_config.hpp"
#include "host/task/subject.hpp"

using namespace rig::task;
using rig::config::parse_protocol;
using rig::config::parse_rig_config;
using rig::config::parse_subjects;

namespace {

const std::string kFile = "fuzz.yaml";

// Lengths of the text's lines (a last line without a newline counts), plus an empty line after them.
std::vector<size_t> line_lengths(const std::string& text) {
  std::vector<size_t> lengths(1, 0);
  for (char c : text) {
    if (c == '\n') {
      lengths.push_back(0);
    } else {
      ++lengths.back();
    }
  }
  lengths.push_back(0);
  return lengths;
}

template <class T>
void check(const Loaded<T>& loaded, const std::vector<size_t>& lines) {
  if (loaded.ok() != loaded.diagnostics.empty()) abort();
  for (const Diagnostic& d : loaded.diagnostics) {
    if (d.where.file != kFile || d.message.empty()) abort();
    if (d.where.line < 1 || static_cast<size_t>(d.where.line) > lines.size()) abort();
    // Columns count bytes; one past the end of the line is where yaml-cpp reports a missing token.
    if (d.where.column < 1 || static_cast<size_t>(d.where.column) > lines[d.where.line - 1] + 1) abort();
    const std::string prefix =
        kFile + ":" + std::to_string(d.where.line) + ":" + std::to_string(d.where.column) + ": ";
    if (format_diagnostic(d).rfind(prefix, 0) != 0) abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::vector<size_t> lines = line_lengths(text);
  check(parse_protocol(text, kFile), lines);
  check(parse_rig_config(text, kFile), lines);
  check(parse_subjects(text, kFile), lines);
  return 0;
}
