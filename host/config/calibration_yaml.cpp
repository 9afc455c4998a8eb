#include "host/config/calibration_yaml.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "host/task/rig_config.hpp"
#include "host/config/yaml_reader.hpp"

namespace rig::config {

// The task's types, which these files describe.
using namespace rig::task;
namespace {

constexpr std::size_t kNone = std::string_view::npos;

// One replacement of text[begin, end).
struct Edit {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string replacement;
};

[[noreturn]] void fail(const std::string& message) { throw CalibrationYamlError(message); }

// "line N" of a yaml-cpp mark, for messages.
std::string line_of(const YAML::Mark& mark) { return "line " + std::to_string(mark.line + 1); }

std::size_t checked_pos(const YAML::Node& node, std::string_view text, const std::string& what) {
  const YAML::Mark mark = node.Mark();
  if (mark.pos < 0 || static_cast<std::size_t>(mark.pos) >= text.size()) fail(what + ": cannot locate it in the text");
  return static_cast<std::size_t>(mark.pos);
}

std::size_t line_start(std::string_view text, std::size_t pos) {
  const std::size_t newline = pos == 0 ? kNone : text.rfind('\n', pos - 1);
  return newline == kNone ? 0 : newline + 1;
}

// End of the line holding `pos`, before its "\n" or "\r\n".
std::size_t line_content_end(std::string_view text, std::size_t pos) {
  std::size_t end = text.find('\n', pos);
  if (end == kNone) end = text.size();
  if (end > pos && text[end - 1] == '\r') --end;
  return end;
}

// Start of the line after the one holding `pos`, or text.size().
std::size_t next_line_start(std::string_view text, std::size_t pos) {
  const std::size_t newline = text.find('\n', pos);
  return newline == kNone ? text.size() : newline + 1;
}

// The line ending the text uses at the line holding `pos` ("\r\n" or "\n").
std::string newline_at(std::string_view text, std::size_t pos) {
  const std::size_t newline = text.find('\n', pos);
  return newline != kNone && newline > 0 && text[newline - 1] == '\r' ? "\r\n" : "\n";
}

// Index just past the quoted scalar opening at text[pos] ('"' with backslash escapes, '\'' with '' escapes).
std::size_t quoted_end(std::string_view text, std::size_t pos, const std::string& what) {
  const char quote = text[pos];
  for (std::size_t i = pos + 1; i < text.size(); ++i) {
    if (quote == '"' && text[i] == '\\') {
      ++i;
    } else if (text[i] == quote) {
      if (quote == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
        ++i;
      } else {
        return i + 1;
      }
    }
  }
  fail(what + ": unterminated quoted text");
}

// Index just past the flow collection ('{' or '[') opening at text[pos], skipping quoted text and comments.
std::size_t flow_end(std::string_view text, std::size_t pos, const std::string& what) {
  int depth = 0;
  for (std::size_t i = pos; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"' || c == '\'') {
      i = quoted_end(text, i, what) - 1;
    } else if (c == '#' && (text[i - 1] == ' ' || text[i - 1] == '\t' || text[i - 1] == '\n')) {
      i = line_content_end(text, i);
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  fail(what + ": unterminated flow collection");
}

// Index just past the scalar starting at text[pos] in block context: a quoted scalar up to its closing quote,
// a plain one up to a comment or the end of the line, trailing blanks excluded. Throws when the plain text
// found is not the whole scalar (a plain scalar folded over several lines).
std::size_t block_scalar_end(std::string_view text, std::size_t pos, const YAML::Node& node, const std::string& what) {
  if (text[pos] == '"' || text[pos] == '\'') return quoted_end(text, pos, what);
  std::size_t end = line_content_end(text, pos);
  for (std::size_t i = pos + 1; i < end; ++i) {
    if (text[i] == '#' && (text[i - 1] == ' ' || text[i - 1] == '\t')) {
      end = i;
      break;
    }
  }
  while (end > pos && (text[end - 1] == ' ' || text[end - 1] == '\t')) --end;
  if (text.substr(pos, end - pos) != node.Scalar()) fail(what + ": a value over several lines cannot be rewritten");
  return end;
}

std::string flow_point(const CalibrationPoint& point) {
  return "{open_us: " + std::to_string(point.open_us) + ", volume_ul: " + yaml::format_number(point.volume_ul) + "}";
}

std::string flow_points(const CalibrationTable& table) {
  std::string out = "[";
  for (std::size_t i = 0; i < table.points.size(); ++i) out += (i ? ", " : "") + flow_point(table.points[i]);
  return out + "]";
}

// The edit replacing the block list whose first '-' is at text[dash]: one item per point with the list's
// indentation, item style (flow `- {...}` or block `- open_us: ...`) and line endings.
Edit block_points_edit(std::string_view text, std::size_t dash, const YAML::Node& points, const CalibrationTable& table,
                       const std::string& what) {
  const std::size_t start = line_start(text, dash);
  if (text[dash] != '-' || text.substr(start, dash - start).find_first_not_of(' ') != kNone) {
    fail(what + ": expected a list with one `- ` item per line");
  }
  const std::size_t indent = dash - start;
  // The list goes on while lines are indented deeper than its dashes or start another item at the same
  // indentation. Blank and comment lines after its last item belong to what follows.
  std::size_t end = line_content_end(text, dash);
  for (std::size_t cursor = next_line_start(text, dash); cursor < text.size(); cursor = next_line_start(text, cursor)) {
    const std::size_t content_end = line_content_end(text, cursor);
    std::size_t first = cursor;
    while (first < content_end && (text[first] == ' ' || text[first] == '\t')) ++first;
    if (first == content_end || text[first] == '#') continue;
    const std::size_t depth = first - cursor;
    const bool another_item = depth == indent && text[first] == '-' &&
                              (first + 1 == content_end || text[first + 1] == ' ' || text[first + 1] == '\t');
    if (depth <= indent && !another_item) break;
    end = content_end;
  }

  // Keep the gap between a dash and its item; an item starting on the next line gets the usual two.
  std::size_t gap = 2;
  if (points.size() > 0) {
    const std::size_t item = checked_pos(points[0], text, what);
    if (item > dash && line_start(text, item) == start) gap = item - dash;
  }
  const bool flow_items = points.size() == 0 || text[checked_pos(points[0], text, what)] == '{';
  const std::string newline = newline_at(text, dash);
  // Built in place: `"-" + std::string(...)` trips GCC 12's false -Wrestrict at -O3.
  std::string dash_text(gap, ' ');
  dash_text[0] = '-';
  const std::string item_indent(indent + gap, ' ');
  std::string replacement;
  for (std::size_t i = 0; i < table.points.size(); ++i) {
    const CalibrationPoint& point = table.points[i];
    if (i > 0) replacement += newline + std::string(indent, ' ');
    if (flow_items) {
      replacement += dash_text + flow_point(point);
    } else {
      replacement += dash_text + "open_us: " + std::to_string(point.open_us) + newline + item_indent +
                     "volume_ul: " + yaml::format_number(point.volume_ul);
    }
  }
  return Edit{dash, end, replacement};
}

// The edits that put `table` into the valve mapping `entry` (at `path`).
std::vector<Edit> valve_edits(std::string_view text, const YAML::Node& entry, const CalibrationTable& table,
                              const std::string& path) {
  const std::size_t pos = checked_pos(entry, text, path);
  if (text[pos] == '{') {
    const std::string replacement =
        "{calibrated_on: " + format_date(table.calibrated_on) + ", points: " + flow_points(table) + "}";
    return {Edit{pos, flow_end(text, pos, path), replacement}};
  }
  std::vector<Edit> edits;
  bool have_date = false;
  bool have_points = false;
  for (auto it = entry.begin(); it != entry.end(); ++it) {
    const std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
    const YAML::Node value = it->second;
    if (key == "calibrated_on") {
      const std::string what = path + ".calibrated_on";
      if (!value.IsScalar()) fail(what + " (" + line_of(value.Mark()) + "): expected a date");
      const std::size_t begin = checked_pos(value, text, what);
      edits.push_back(Edit{begin, block_scalar_end(text, begin, value, what), format_date(table.calibrated_on)});
      have_date = true;
    } else if (key == "points") {
      const std::string what = path + ".points";
      if (!value.IsSequence()) fail(what + " (" + line_of(value.Mark()) + "): expected a list");
      const std::size_t begin = checked_pos(value, text, what);
      if (text[begin] == '[') {
        edits.push_back(Edit{begin, flow_end(text, begin, what), flow_points(table)});
      } else {
        edits.push_back(block_points_edit(text, begin, value, table, what));
      }
      have_points = true;
    }
  }
  if (!have_date) fail(path + " (" + line_of(entry.Mark()) + "): has no calibrated_on to rewrite");
  if (!have_points) fail(path + " (" + line_of(entry.Mark()) + "): has no points to rewrite");
  return edits;
}

YAML::Node parse(std::string_view text, const std::string& what) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    fail(what + ": " + e.what());
  }
}

// The valves.<name> mapping of `root`, or a CalibrationYamlError.
YAML::Node valve_entry(const YAML::Node& root, const std::string& name) {
  const std::string path = "valves." + name;
  if (!root.IsMap()) fail("the rig config is not a mapping");
  const YAML::Node valves = root["valves"];
  if (!valves || !valves.IsMap()) fail("the rig config has no valves mapping");
  for (auto it = valves.begin(); it != valves.end(); ++it) {
    if (!it->first.IsScalar() || it->first.Scalar() != name) continue;
    if (!it->second.IsMap()) fail(path + " (" + line_of(it->second.Mark()) + "): expected a mapping");
    return it->second;
  }
  fail("the rig config has no " + path);
}

// Checks that `rewritten` holds `table` at valves.<name> and is otherwise the same document as `original`.
void verify(std::string_view original, std::string_view rewritten, const std::string& name,
            const CalibrationTable& table) {
  const std::string path = "valves." + name;
  YAML::Node before = parse(original, "the rig config");
  YAML::Node after = parse(rewritten, "the rewritten rig config");
  const YAML::Node entry = valve_entry(after, name);
  bool same = entry["calibrated_on"].IsScalar() && entry["calibrated_on"].Scalar() == format_date(table.calibrated_on) &&
              entry["points"].IsSequence() && entry["points"].size() == table.points.size();
  try {
    for (std::size_t i = 0; same && i < table.points.size(); ++i) {
      const YAML::Node point = entry["points"][i];
      same = point.IsMap() && point.size() == 2 && point["open_us"].as<std::uint64_t>() == table.points[i].open_us &&
             point["volume_ul"].as<double>() == table.points[i].volume_ul;
    }
  } catch (const YAML::Exception&) {
    same = false;
  }
  if (!same) fail(path + ": the rewritten table does not read back as written");
  before["valves"].remove(name);
  after["valves"].remove(name);
  if (YAML::Dump(before) != YAML::Dump(after)) {
    fail(path + ": cannot be rewritten without changing other fields (is it shared through a YAML anchor?)");
  }
}

}  // namespace

std::string replace_valve_calibration(std::string_view yaml_text, wire::Valve valve, const CalibrationTable& table) {
  const std::string name = flavour_name(valve);
  const YAML::Node root = parse(yaml_text, "the rig config");
  std::vector<Edit> edits = valve_edits(yaml_text, valve_entry(root, name), table, "valves." + name);
  std::sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) { return a.begin > b.begin; });
  for (std::size_t i = 1; i < edits.size(); ++i) {
    if (edits[i].end > edits[i - 1].begin) fail("valves." + name + ": its fields overlap in the text");
  }
  std::string out(yaml_text);
  for (const Edit& edit : edits) out.replace(edit.begin, edit.end - edit.begin, edit.replacement);
  verify(yaml_text, out, name, table);
  return out;
}

std::string format_valve_calibration(wire::Valve valve, const CalibrationTable& table) {
  std::string out = std::string(flavour_name(valve)) + ":\n  calibrated_on: " + format_date(table.calibrated_on) +
                    "\n  points:\n";
  for (const CalibrationPoint& point : table.points) out += "    - " + flow_point(point) + "\n";
  return out;
}

}  // namespace rig::config
