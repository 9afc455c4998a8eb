// The small CSV reading the analysis's inputs share (trial CSVs, ephys sync edges): lines, fields, names.
// Comma-separated, no quoting (what the rig's exports and the acquisition systems' edge lists write).
#pragma once

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace rig::analysis {

// The fields of `line`, split at commas, each without surrounding whitespace. Pure.
inline std::vector<std::string_view> csv_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  for (std::size_t start = 0;;) {
    const std::size_t comma = line.find(',', start);
    std::string_view field = line.substr(start, comma == std::string_view::npos ? line.npos : comma - start);
    while (!field.empty() && std::isspace(static_cast<unsigned char>(field.front()))) field.remove_prefix(1);
    while (!field.empty() && std::isspace(static_cast<unsigned char>(field.back()))) field.remove_suffix(1);
    fields.push_back(field);
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

// `s` in lower case (ASCII). Pure.
inline std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// Calls visit(line_number, line) for every line of `text` that is not blank: numbers from 1, counting blank
// lines too; the line without its "\n" or "\r\n". Pure apart from `visit`.
template <class Visit>
void for_each_csv_line(std::string_view text, Visit visit) {
  std::size_t line_number = 0;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    visit(line_number, line);
  }
}

}  // namespace rig::analysis
