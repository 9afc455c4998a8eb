#include "host/config/yaml_reader.hpp"

#include "host/config/bounded_read.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "host/task/calibration.hpp"

namespace rig::config::yaml {
namespace {

std::string join_names(const std::vector<std::string_view>& names) {
  std::string text;
  for (const auto& name : names) {
    if (!text.empty()) text += ", ";
    text += name;
  }
  return text;
}

// Plain scalars are the only ones YAML resolves to numbers; a quoted "0.8" is a string and is refused
// rather than silently converted, so a protocol means what it looks like.
bool is_plain_scalar(const YAML::Node& node) { return node.IsScalar() && node.Tag() == "?"; }

bool in_range(double value, const NumberRule& rule) {
  const bool above_min = rule.min_exclusive ? value > rule.min : value >= rule.min;
  const bool below_max = rule.max_exclusive ? value < rule.max : value <= rule.max;
  return above_min && below_max;
}

// The first byte of `text` that cannot start a YAML character: not UTF-8 (yaml-cpp would substitute
// U+FFFD, 3 bytes, and its columns would no longer match the file) or a character outside YAML's printable
// set (NUL and most C0 controls; yaml-cpp takes a leading NUL as a sign of UTF-16 or UTF-32). Returns
// npos when the text is clean; `why` says what is wrong.
size_t first_unreadable_byte(std::string_view text, std::string& why) {
  const auto byte_at = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  for (size_t i = 0; i < text.size();) {
    const unsigned char lead = byte_at(i);
    if (lead < 0x80) {
      if ((lead < 0x20 && lead != '\t' && lead != '\n' && lead != '\r') || lead == 0x7F) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "U+%04X", lead);
        why = std::string("control character ") + hex + " is not allowed in YAML";
        return i;
      }
      ++i;
      continue;
    }
    size_t length = 0;
    uint32_t code = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2, code = lead & 0x1Fu;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3, code = lead & 0x0Fu;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4, code = lead & 0x07u;
    }
    bool valid = length > 0 && i + length <= text.size();
    for (size_t k = 1; valid && k < length; ++k) {
      valid = (byte_at(i + k) & 0xC0) == 0x80;
      code = (code << 6) | (byte_at(i + k) & 0x3Fu);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8 either.
    if (valid) {
      valid = (length != 3 || code >= 0x800) && (length != 4 || (code >= 0x10000 && code <= 0x10FFFF)) &&
              (code < 0xD800 || code > 0xDFFF);
    }
    if (!valid) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", lead);
      why = std::string("not UTF-8 text (byte ") + hex + "): a YAML file must be UTF-8";
      return i;
    }
    i += length;
  }
  return std::string_view::npos;
}

// Where the root node of each of the first two documents starts, from yaml-cpp's events.
class RootMarks final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override { depth_ = 0; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string&) override { node(mark); }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    node(mark);
    ++depth_;
  }
  void OnSequenceEnd() override { --depth_; }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    node(mark);
    ++depth_;
  }
  void OnMapEnd() override { --depth_; }

  std::vector<YAML::Mark> roots;

 private:
  void node(const YAML::Mark& mark) {
    if (depth_ == 0) roots.push_back(mark);
  }
  int depth_ = 0;
};

}  // namespace

namespace {

// The 1-based line and byte column of byte `offset` of `text` (lines end at '\n', as yaml-cpp counts them).
SourceLocation location_of_byte(const std::string& text, size_t offset, const std::string& file) {
  offset = std::min(offset, text.size());
  const size_t line_start = offset == 0 ? std::string::npos : text.rfind('\n', offset - 1);
  const size_t column = line_start == std::string::npos ? offset : offset - line_start - 1;
  const auto line = std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n');
  return SourceLocation{file, static_cast<int>(line) + 1, static_cast<int>(column) + 1};
}

// The byte offset of character `index` of UTF-8 `text` (libyaml counts characters and also breaks lines at
// a lone '\r', so its line and column are not used).
size_t byte_of_character(const std::string& text, size_t index) {
  size_t characters = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;  // a continuation byte
    if (characters++ == index) return i;
  }
  return text.size();
}

// libyaml, the YAML reference parser, reads `text` as events only (no tree, no alias expanded) and reports its
// first syntax error into sink. yaml-cpp alone accepts some broken text: a quoted scalar never closed reads
// to the end of the file as if it were.
bool strict_syntax_ok(const std::string& text, Sink& sink) {
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) throw std::bad_alloc();
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  bool ok = true;
  for (bool end = false; !end;) {
    yaml_event_t event;
    if (!yaml_parser_parse(&parser, &event)) {
      std::string message = "YAML syntax error: ";
      message += parser.problem ? parser.problem : "cannot be parsed";
      if (parser.context) message += std::string(" (") + parser.context + ")";
      const auto& mark = parser.problem ? parser.problem_mark : parser.context_mark;
      sink.error(location_of_byte(text, byte_of_character(text, mark.index), sink.file()), std::move(message));
      ok = false;
      break;
    }
    end = event.type == YAML_STREAM_END_EVENT;
    yaml_event_delete(&event);
  }
  yaml_parser_delete(&parser);
  return ok;
}

}  // namespace

SourceLocation Sink::location(const YAML::Mark& mark) const {
  if (mark.line < 0 || mark.column < 0) return SourceLocation{file_, 1, 1};
  return SourceLocation{file_, mark.line + 1, mark.column + 1};
}

void Sink::error(const SourceLocation& where, std::string message) {
  diagnostics_.push_back(Diagnostic{where, std::move(message)});
}

std::optional<std::string> read_text_file(const std::string& path, Sink& sink, std::size_t max_bytes) {
  BoundedRead read = read_bounded_file(path, max_bytes);
  if (!read.text) sink.error(SourceLocation{sink.file(), 1, 1}, "cannot read file (" + read.error + ")");
  return std::move(read.text);
}

std::optional<YAML::Node> parse_document(const std::string& text, Sink& sink) {
  std::string why;
  const size_t bad = first_unreadable_byte(text, why);
  if (bad != std::string_view::npos) {
    sink.error(location_of_byte(text, bad, sink.file()), why);
    return std::nullopt;
  }
  if (!strict_syntax_ok(text, sink)) return std::nullopt;
  // Not YAML::LoadAll: yaml-cpp 0.7 loops for ever, allocating, on text such as ",:" (a document whose
  // parse fails without an exception is followed by endless empty ones; yaml-cpp PR 1319). Two documents
  // are all it takes to know there is more than one.
  YAML::Node document;
  RootMarks marks;
  try {
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    for (int i = 0; i < 2 && parser.HandleNextDocument(marks); ++i) {
    }
    document = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    sink.error(e.mark, "YAML syntax error: " + e.msg);
    return std::nullopt;
  }
  if (document.IsNull()) {
    sink.error(SourceLocation{sink.file(), 1, 1}, "empty document: expected a mapping of fields");
    return std::nullopt;
  }
  if (marks.roots.size() > 1) {
    sink.error(marks.roots[1], "more than one YAML document: expected exactly one");
    return std::nullopt;
  }
  return document;
}

std::string describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  if (is_plain_scalar(node)) return node.Scalar();
  return "the quoted string \"" + node.Scalar() + "\"";
}

MapReader::MapReader(Sink& sink, const YAML::Node& node, std::string field_path,
                     std::vector<std::string_view> allowed)
    : sink_(&sink), node_(node), path_(std::move(field_path)) {
  if (!node.IsMap()) {
    sink.error(node.Mark(), (path_.empty() ? std::string("document") : path_) + ": expected a mapping, got " +
                                describe(node));
    return;
  }
  is_mapping_ = true;
  for (const auto& pair : node) {
    const YAML::Node key_node = pair.first;
    if (!is_plain_scalar(key_node)) {
      sink.error(key_node.Mark(), (path_.empty() ? std::string("document") : path_) +
                                      ": field names must be plain names, got " + describe(key_node));
      continue;
    }
    const std::string key = key_node.Scalar();
    if (const Entry* first = find(key)) {
      sink.error(key_node.Mark(), path(key) + ": duplicate field (first given at line " +
                                      std::to_string(sink.location(first->key_node.Mark()).line) + ")");
      continue;
    }
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      sink.error(key_node.Mark(), path(key) + ": unknown field; allowed: " + join_names(allowed));
      continue;
    }
    entries_.push_back(Entry{key, key_node, pair.second});
  }
}

namespace {

std::vector<std::string_view> keys_of(const Shape& shape) {
  std::vector<std::string_view> keys;
  for (const Field& f : shape.fields) keys.push_back(f.key);
  return keys;
}

bool contains(std::span<const std::string_view> values, std::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// "rule block_length", "rules criterion_then_hazard and fixed_hazard", "rules a, b and c".
std::string selector_values(std::string_view selector, std::span<const std::string_view> values) {
  std::string text = std::string(selector) + (values.size() == 1 ? " " : "s ");
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) text += i + 1 == values.size() ? " and " : ", ";
    text += values[i];
  }
  return text;
}

}  // namespace

std::string expected_words(const Field& f) {
  if (!f.rule.expected.empty() || f.unit.empty()) return std::string(f.rule.expected);
  const bool whole = f.kind == FieldKind::kInteger || f.kind == FieldKind::kNamedIntegers;
  const auto bound = [whole](double value) {
    return whole ? std::to_string(static_cast<std::int64_t>(value)) : format_number(value);
  };
  return std::string(f.unit) + " in " + (f.rule.min_exclusive ? "(" : "[") + bound(f.rule.min) + ", " +
         bound(f.rule.max) + (f.rule.max_exclusive ? ")" : "]");
}

MapReader::MapReader(Sink& sink, const YAML::Node& node, std::string field_path, const Shape& shape)
    : MapReader(sink, node, std::move(field_path), keys_of(shape)) {
  shape_ = &shape;
  selected_ = shape.selector_default;
}

const Field& MapReader::field(std::string_view key) const {
  if (shape_) {
    for (const Field& f : shape_->fields) {
      if (f.key == key) return f;
    }
  }
  throw std::logic_error("the field table of '" + path_ + "' has no field '" + std::string(key) + "'");
}

Need MapReader::need_of(const Field& f) const {
  return f.need == Need::kRequired || contains(f.required_when, selected_) ? Need::kRequired : Need::kOptional;
}

const Field* MapReader::applicable(std::string_view key, FieldKind kind) {
  const Field& f = field(key);
  if (f.kind != kind) {
    throw std::logic_error("field '" + path(key) + "' is read as another kind than its field table gives");
  }
  if (!f.applies_when.empty() && !contains(f.applies_when, selected_)) {
    reject_if_present(key, "it applies only to " + selector_values(shape_->selector, f.applies_when));
    return nullptr;
  }
  if (!f.excludes.empty() && has(key) && has(f.excludes)) {
    sink_->error(location(key), path(key) + ": give " + std::string(f.excludes) + " or " + std::string(key) +
                                    ", not both");
    return nullptr;
  }
  return &f;
}

bool MapReader::read(std::string_view key, double& out) {
  const Field* f = applicable(key, FieldKind::kNumber);
  if (!f) return false;
  const std::string words = expected_words(*f);
  NumberRule rule = f->rule;
  rule.expected = words;
  return number(key, out, rule, need_of(*f));
}

bool MapReader::read(std::string_view key, std::optional<double>& out) {
  const Field* f = applicable(key, FieldKind::kNullableNumber);
  if (!f) return false;
  const std::string words = expected_words(*f);
  NumberRule rule = f->rule;
  rule.expected = words;
  return optional_number(key, out, rule);
}

bool MapReader::read(std::string_view key, std::int64_t& out) {
  const Field* f = applicable(key, FieldKind::kInteger);
  if (!f) return false;
  std::int64_t value = 0;
  const std::string words = expected_words(*f);
  if (!integer(key, value, static_cast<std::int64_t>(f->rule.min), static_cast<std::int64_t>(f->rule.max), words,
               need_of(*f))) {
    return false;
  }
  if (f->multiple_of > 0 && value % f->multiple_of != 0) {
    wrong(*find(key), words);
    return false;
  }
  out = value;
  return true;
}

bool MapReader::read(std::string_view key, std::string& out) {
  const Field* f = applicable(key, FieldKind::kText);
  if (!f) return false;
  std::string value;
  if (!text(key, value, need_of(*f))) return false;
  if (!f->pattern.empty() && !std::regex_search(value, std::regex(f->pattern.begin(), f->pattern.end()))) {
    wrong(*find(key), f->rule.expected);
    return false;
  }
  out = std::move(value);
  return true;
}

bool MapReader::read(std::string_view key, bool& out) {
  const Field* f = applicable(key, FieldKind::kBoolean);
  return f && boolean(key, out, need_of(*f));
}

bool MapReader::read(std::string_view key, std::chrono::year_month_day& out) {
  const Field* f = applicable(key, FieldKind::kDate);
  if (!f) return false;
  std::string text_value;
  if (!text(key, text_value, need_of(*f))) return false;
  const auto date = task::parse_date(text_value);
  if (!date) {
    sink_->error(location(key), path(key) + ": expected " + std::string(f->rule.expected) + ", got " + text_value);
    return false;
  }
  out = *date;
  return true;
}

std::optional<MapReader> MapReader::mapping(std::string_view key) {
  const Field* f = applicable(key, FieldKind::kMapping);
  if (!f) return std::nullopt;
  const auto keys = keys_of(*f->shape);
  const std::string expected = "a mapping with fields " + join_names(keys);
  const Entry* entry = lookup(key, need_of(*f), expected);
  if (!entry) return std::nullopt;
  if (!entry->value.IsMap()) {
    wrong(*entry, expected);
    return std::nullopt;
  }
  return MapReader(*sink_, entry->value, path(key), *f->shape);
}

std::optional<std::vector<MapReader>> MapReader::mapping_list(std::string_view key) {
  const Field* f = applicable(key, FieldKind::kMappingList);
  if (!f) return std::nullopt;
  const Entry* entry = lookup(key, need_of(*f), "a list");
  if (!entry) return std::nullopt;
  if (!entry->value.IsSequence()) {
    wrong(*entry, "a list");
    return std::nullopt;
  }
  std::vector<MapReader> readers;
  std::size_t i = 0;
  for (const auto& item : entry->value) {
    MapReader reader(*sink_, item, path(key) + "[" + std::to_string(i++) + "]", *f->shape);
    if (reader.is_mapping()) readers.push_back(std::move(reader));
  }
  if (entry->value.size() < f->min_items) {
    sink_->error(value_location(*entry), path(key) + ": expected " + std::string(f->rule.expected) + ", got " +
                                             std::to_string(entry->value.size()));
    return std::nullopt;
  }
  return readers;
}

std::optional<std::vector<std::string>> MapReader::text_list(std::string_view key) {
  const Field* f = applicable(key, FieldKind::kTextList);
  if (!f) return std::nullopt;
  const auto items = list(key, need_of(*f));
  if (!items) return std::nullopt;
  std::vector<std::string> texts;
  for (const auto& item : *items) {
    if (!item.IsScalar() || item.Scalar().empty()) {
      sink_->error(item.Mark(), path(key) + ": expected " + std::string(f->rule.expected) + ", got " + describe(item));
      continue;
    }
    texts.push_back(item.Scalar());
  }
  return texts;
}

std::string MapReader::path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

SourceLocation MapReader::self_location() const { return sink_->location(node_.Mark()); }

SourceLocation MapReader::location(std::string_view key) const {
  const Entry* entry = find(key);
  return entry ? value_location(*entry) : self_location();
}

const MapReader::Entry* MapReader::find(std::string_view key) const {
  for (const auto& entry : entries_) {
    if (entry.key == key) return &entry;
  }
  return nullptr;
}

SourceLocation MapReader::value_location(const Entry& entry) const {
  // yaml-cpp marks an empty value at the next token, often on another line: point at the key instead.
  if (entry.value.IsNull() || entry.value.Mark().line < 0) return sink_->location(entry.key_node.Mark());
  return sink_->location(entry.value.Mark());
}

void MapReader::wrong(const Entry& entry, std::string_view expected) {
  sink_->error(value_location(entry),
               path(entry.key) + ": expected " + std::string(expected) + ", got " + describe(entry.value));
}

const MapReader::Entry* MapReader::lookup(std::string_view key, Need need, std::string_view expected) {
  if (!is_mapping_) return nullptr;
  const Entry* entry = find(key);
  sink_->locations()[path(key)] = entry ? value_location(*entry) : self_location();
  if (!entry && need == Need::kRequired) {
    sink_->error(self_location(), path(key) + ": missing required field (expected " + std::string(expected) + ")");
  }
  return entry;
}

bool MapReader::number(std::string_view key, double& out, const NumberRule& rule, Need need) {
  const Entry* entry = lookup(key, need, rule.expected);
  if (!entry) return false;
  double value = 0.0;
  if (!is_plain_scalar(entry->value) || !YAML::convert<double>::decode(entry->value, value) ||
      !std::isfinite(value) || !in_range(value, rule)) {
    wrong(*entry, rule.expected);
    return false;
  }
  out = value;
  return true;
}

bool MapReader::optional_number(std::string_view key, std::optional<double>& out, const NumberRule& rule) {
  const Entry* entry = find(key);
  if (entry && entry->value.IsNull()) {
    lookup(key, Need::kOptional, rule.expected);
    out.reset();
    return true;
  }
  double value = 0.0;
  if (!number(key, value, rule)) return false;
  out = value;
  return true;
}

bool MapReader::boolean(std::string_view key, bool& out, Need need) {
  const std::string_view expected = "true or false";
  const Entry* entry = lookup(key, need, expected);
  if (!entry) return false;
  if (!is_plain_scalar(entry->value) || (entry->value.Scalar() != "true" && entry->value.Scalar() != "false")) {
    wrong(*entry, expected);
    return false;
  }
  out = entry->value.Scalar() == "true";
  return true;
}

bool MapReader::integer(std::string_view key, std::int64_t& out, std::int64_t min, std::int64_t max,
                        std::string_view expected, Need need) {
  const Entry* entry = lookup(key, need, expected);
  if (!entry) return false;
  std::int64_t value = 0;
  if (!is_plain_scalar(entry->value) || !YAML::convert<std::int64_t>::decode(entry->value, value) || value < min ||
      value > max) {
    wrong(*entry, expected);
    return false;
  }
  out = value;
  return true;
}

bool MapReader::optional_integer(std::string_view key, std::optional<std::int64_t>& out, std::int64_t min,
                                 std::int64_t max, std::string_view expected) {
  const Entry* entry = find(key);
  if (entry && entry->value.IsNull()) {
    lookup(key, Need::kOptional, expected);
    out.reset();
    return true;
  }
  std::int64_t value = 0;
  if (!integer(key, value, min, max, expected)) return false;
  out = value;
  return true;
}

bool MapReader::text(std::string_view key, std::string& out, Need need) {
  const Entry* entry = lookup(key, need, "a text");
  if (!entry) return false;
  if (!entry->value.IsScalar() || entry->value.Scalar().empty()) {
    wrong(*entry, "a non-empty text");
    return false;
  }
  out = entry->value.Scalar();
  return true;
}

std::optional<std::size_t> MapReader::choice_index(std::string_view key, const std::vector<std::string_view>& names,
                                                   Need need) {
  const std::string expected = "one of: " + join_names(names);
  const Entry* entry = lookup(key, need, expected);
  if (!entry) return std::nullopt;
  if (is_plain_scalar(entry->value)) {
    const auto it = std::find(names.begin(), names.end(), entry->value.Scalar());
    if (it != names.end()) return static_cast<std::size_t>(it - names.begin());
  }
  wrong(*entry, expected);
  return std::nullopt;
}

std::optional<MapReader> MapReader::mapping(std::string_view key, std::vector<std::string_view> allowed, Need need) {
  const Entry* entry = lookup(key, need, "a mapping with fields " + join_names(allowed));
  if (!entry) return std::nullopt;
  if (!entry->value.IsMap()) {
    wrong(*entry, "a mapping with fields " + join_names(allowed));
    return std::nullopt;
  }
  return MapReader(*sink_, entry->value, path(key), std::move(allowed));
}

std::optional<std::vector<YAML::Node>> MapReader::list(std::string_view key, Need need) {
  const Entry* entry = lookup(key, need, "a list");
  if (!entry) return std::nullopt;
  if (!entry->value.IsSequence()) {
    wrong(*entry, "a list");
    return std::nullopt;
  }
  std::vector<YAML::Node> items;
  for (const auto& item : entry->value) items.push_back(item);
  return items;
}

std::optional<YAML::Node> MapReader::raw(std::string_view key) {
  const Entry* entry = lookup(key, Need::kOptional, "");
  if (!entry) return std::nullopt;
  return entry->value;
}

void MapReader::reject_if_present(std::string_view key, std::string_view why) {
  if (const Entry* entry = find(key)) {
    sink_->error(sink_->location(entry->key_node.Mark()), path(key) + ": does not apply here; " + std::string(why));
  }
}

}  // namespace rig::config::yaml
