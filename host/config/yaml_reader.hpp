// Schema validation helpers shared by the YAML loaders (protocols, rig config, subjects): typed reads of
// mapping fields that report every problem as FILE:LINE:COL with the field path and what was expected,
// and keep going so that one run lists all errors of a file.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "host/config/bounded_read.hpp"
#include "host/task/diagnostics.hpp"
#include "host/task/names.hpp"

namespace rig::config::yaml {

using task::ConfigError;
using task::Diagnostic;
using task::FieldLocations;
using task::format_number;
using task::Loaded;
using task::Named;
using task::name_of;
using task::SourceLocation;


// Collects the diagnostics and field locations of one file. Not thread-safe (one loader at a time).
class Sink {
 public:
  explicit Sink(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }
  // A yaml-cpp mark (0-based; -1 when yaml-cpp has none) as a 1-based location in this file.
  SourceLocation location(const YAML::Mark& mark) const;
  void error(const SourceLocation& where, std::string message);
  void error(const YAML::Mark& mark, std::string message) { error(location(mark), std::move(message)); }
  bool has_errors() const { return !diagnostics_.empty(); }
  std::vector<Diagnostic> take_diagnostics() { return std::move(diagnostics_); }
  FieldLocations& locations() { return locations_; }

 private:
  std::string file_;
  std::vector<Diagnostic> diagnostics_;
  FieldLocations locations_;
};

// Reads the whole file at `path` as text when it is a regular file of at most `max_bytes` (read_bounded_file).
// On failure reports "PATH:1:1: cannot read file (REASON)" into sink and returns nullopt. Thread-safe apart
// from the sink.
std::optional<std::string> read_text_file(const std::string& path, Sink& sink,
                                          std::size_t max_bytes = kDefaultMaxConfigBytes);

// Parses `text` as exactly one YAML document. A syntax error, an empty text, several documents, text that
// is not UTF-8 or holds a control character (reported at its first such byte) are reported into sink and
// give nullopt. Thread-safe apart from the sink.
std::optional<YAML::Node> parse_document(const std::string& text, Sink& sink);

// Loads one document from `text` (nullopt: the file could not be read, already reported) with
// `read(sink, root_node) -> T`, fills T's source_file and locations, and keeps the value only when no
// diagnostic was reported. Thread-safe apart from the sink.
template <class T, class ReadFn>
Loaded<T> load_document(Sink& sink, const std::optional<std::string>& text, ReadFn read) {
  Loaded<T> loaded;
  std::optional<YAML::Node> document;
  if (text) document = parse_document(*text, sink);
  if (document) {
    T value = read(sink, *document);
    value.source_file = sink.file();
    value.locations = std::move(sink.locations());
    if (!sink.has_errors()) loaded.value = std::move(value);
  }
  loaded.diagnostics = sink.take_diagnostics();
  // Reported in file order, whatever order the checks ran in.
  std::stable_sort(loaded.diagnostics.begin(), loaded.diagnostics.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.where.line, a.where.column) < std::tie(b.where.line, b.where.column);
  });
  return loaded;
}

// load_document() on the file at `path` (reported as `path`). Reads the file; thread-safe.
template <class T, class ReadFn>
Loaded<T> load_file(const std::string& path, ReadFn read) {
  Sink sink(path);
  const auto text = read_text_file(path, sink);
  return load_document<T>(sink, text, read);
}

// load_document() on `text` reported as `file_name`. Pure; thread-safe.
template <class T, class ReadFn>
Loaded<T> load_text(const std::string& text, const std::string& file_name, ReadFn read) {
  Sink sink(file_name);
  return load_document<T>(sink, text, read);
}

// How the value of `node` reads in an error message: 'text' for a scalar, "a mapping", "a list", "nothing".
std::string describe(const YAML::Node& node);

enum class Need { kOptional, kRequired };

// Largest duration in ms whose microseconds fit the device's 32-bit fields.
constexpr std::int64_t kMaxWireDurationMs = 4294967;

// Accepted range of a number and how an error message words it ("a probability in [0, 1]").
struct NumberRule {
  double min = 0.0;
  double max = 0.0;
  bool min_exclusive = false;
  bool max_exclusive = false;
  std::string_view expected = {};
};

constexpr NumberRule kProbability{0.0, 1.0, false, false, "a probability in [0, 1]"};

// What a field of a file holds. Each field of the files the rig reads is defined once, in a field table
// (Field, Shape) beside its loader: the loader reads through it (MapReader's shape-based reads) and the JSON
// Schema editors check files against is written from it (json_schema.hpp).
enum class FieldKind {
  kNumber,          // a finite number in rule's range
  kNullableNumber,  // kNumber, or ~ ("none": the field's doc says what then applies)
  kInteger,         // a whole number in rule's range, a multiple of multiple_of when that is set
  kText,            // a non-empty scalar, matching pattern (ECMAScript) when that is set
  kBoolean,         // true or false
  kChoice,          // one of choices
  kDate,            // a calendar date YYYY-MM-DD
  kMapping,         // a mapping with shape's fields
  kMappingList,     // a list of mappings with shape's fields, at least min_items of them
  kTextList,        // a list of non-empty scalars
  kNamedIntegers,   // a mapping of names of the user's choosing to whole numbers in rule's range, at least one
  kAgent,           // a preset name or a file path (a scalar), or an inline mapping (checked by the agent's loader)
};

struct Shape;

// One field of a mapping. `rule.expected` words a valid value in messages and starts its schema description.
struct Field {
  std::string_view key;
  FieldKind kind;
  NumberRule rule = {};
  Need need = Need::kOptional;
  // When rule.expected is empty: the unit that words a number's range ("milliseconds" gives "milliseconds in
  // [20, 2000]").
  std::string_view unit = {};
  std::string_view doc = {};                     // what the field means, for editors' hovers and docs
  std::span<const std::string_view> choices = {};  // kChoice
  const Shape* shape = nullptr;                  // kMapping, kMappingList
  std::int64_t multiple_of = 0;                  // kInteger
  std::optional<std::int64_t> only = {};         // kInteger: the one value this firmware accepts (a board pin)
  std::string_view pattern = {};                 // kText
  std::size_t min_items = 0;                     // kMappingList
  // The field applies only when the mapping's selector (Shape::selector) has one of these values; given
  // otherwise, it is refused ("does not apply here").
  std::span<const std::string_view> applies_when = {};
  // The field is required when the selector has one of these values.
  std::span<const std::string_view> required_when = {};
  // The key of a field of the same mapping that may not be given with this one.
  std::string_view excludes = {};
};

// The fields of one mapping. `selector` names the kChoice field the others' applies_when and required_when
// refer to, `selector_default` its value when the file leaves it out.
struct Shape {
  std::span<const Field> fields;
  std::string_view selector = {};
  std::string_view selector_default = {};
};

// How messages and the schema word a valid value of `f`: its rule's words, or its unit and range. Pure.
std::string expected_words(const Field& f);

// The names of a name table, for a kChoice field. Pure.
template <class E, std::size_t N>
constexpr std::array<std::string_view, N> names_of(const Named<E> (&table)[N]) {
  std::array<std::string_view, N> names{};
  for (std::size_t i = 0; i < N; ++i) names[i] = table[i].name;
  return names;
}


// One YAML mapping being read at a field path. Construction reports a node that is not a mapping, unknown
// keys (naming the allowed ones) and duplicate keys. Typed reads leave `out` unchanged when the key is
// absent (the default stays) or invalid (an error is reported) and return true only when they stored a
// value. Every read records the field's location in the sink. Not thread-safe.
class MapReader {
 public:
  MapReader(Sink& sink, const YAML::Node& node, std::string field_path, std::vector<std::string_view> allowed);
  // A reader whose allowed keys, and the rules of its reads by key alone, are `shape`'s (which must outlive it).
  MapReader(Sink& sink, const YAML::Node& node, std::string field_path, const Shape& shape);

  // The field `key` of this reader's shape. Throws std::logic_error when the reader has no shape or the shape
  // no such field (a loader's mistake, not the file's).
  const Field& field(std::string_view key) const;

  // Shape-based reads: the field's kind, rule and need come from the shape (a kind that does not match the
  // type read throws std::logic_error). A field that does not apply under the selector's value is refused if
  // given and never stored; one that requires_when the selector's value is required. Like the reads below, they
  // leave `out` unchanged unless they return true.
  bool read(std::string_view key, double& out);                 // kNumber
  bool read(std::string_view key, std::optional<double>& out);  // kNullableNumber
  bool read(std::string_view key, std::int64_t& out);           // kInteger
  bool read(std::string_view key, std::string& out);            // kText
  bool read(std::string_view key, bool& out);                   // kBoolean
  bool read(std::string_view key, std::chrono::year_month_day& out);  // kDate
  // kChoice from `table` (whose names must be the field's choices); the shape's selector remembers its value
  // (the read value, or the default left in `out`).
  template <class E, std::size_t N>
  bool read(std::string_view key, E& out, const Named<E> (&table)[N]) {
    const Field* f = applicable(key, FieldKind::kChoice);
    std::optional<std::size_t> index;
    if (f) index = choice_index(key, std::vector<std::string_view>(f->choices.begin(), f->choices.end()), need_of(*f));
    if (index) out = table[*index].value;
    if (shape_ && key == shape_->selector) selected_ = name_of(table, out);
    return index.has_value();
  }
  // kMapping: the nested mapping's reader (with the field's shape), nullopt when absent or not a mapping.
  std::optional<MapReader> mapping(std::string_view key);
  // kMappingList: a reader for each item (items that are not mappings are reported and left out), nullopt when
  // the list is absent (reported if required), not a list, or shorter than min_items.
  std::optional<std::vector<MapReader>> mapping_list(std::string_view key);
  // kTextList: the list's texts (items that are not non-empty scalars are reported and left out).
  std::optional<std::vector<std::string>> text_list(std::string_view key);

  bool is_mapping() const { return is_mapping_; }
  bool has(std::string_view key) const { return find(key) != nullptr; }
  // The field path of `key` ("schedule.reversal.hazard_per_trial").
  std::string path(std::string_view key) const;
  // Where `key`'s value is; where the mapping is when the key is absent.
  SourceLocation location(std::string_view key) const;
  SourceLocation self_location() const;
  Sink& sink() const { return *sink_; }

  bool number(std::string_view key, double& out, const NumberRule& rule, Need need = Need::kOptional);
  // Like number(), but an explicit null (`key: ~` or `key:`) is accepted and stores nullopt ("no limit").
  bool optional_number(std::string_view key, std::optional<double>& out, const NumberRule& rule);
  bool integer(std::string_view key, std::int64_t& out, std::int64_t min, std::int64_t max,
               std::string_view expected, Need need = Need::kOptional);
  bool optional_integer(std::string_view key, std::optional<std::int64_t>& out, std::int64_t min,
                        std::int64_t max, std::string_view expected);
  bool text(std::string_view key, std::string& out, Need need = Need::kOptional);
  // `true` or `false` (YAML 1.2's plain booleans; yes/no/on/off are refused as ambiguous).
  bool boolean(std::string_view key, bool& out, Need need = Need::kOptional);
  // A plain scalar that must be one of the names in `options`.
  template <class E, std::size_t N>
  bool choice(std::string_view key, E& out, const Named<E> (&options)[N], Need need = Need::kOptional) {
    std::vector<std::string_view> names;
    for (const auto& option : options) names.push_back(option.name);
    const auto index = choice_index(key, names, need);
    if (!index) return false;
    out = options[*index].value;
    return true;
  }
  // The nested mapping under `key`, or nullopt when it is absent (reported if required) or not a mapping.
  std::optional<MapReader> mapping(std::string_view key, std::vector<std::string_view> allowed,
                                   Need need = Need::kOptional);
  // The items of the list under `key`, or nullopt when absent (reported if required) or not a list.
  std::optional<std::vector<YAML::Node>> list(std::string_view key, Need need = Need::kOptional);
  // The raw value under `key`, nullopt when absent; records its location.
  std::optional<YAML::Node> raw(std::string_view key);
  // Reports `key` as present although it does not apply (`why` completes "... applies only ...").
  void reject_if_present(std::string_view key, std::string_view why);

 private:
  struct Entry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
  };

  const Entry* find(std::string_view key) const;
  // The field `key` when it applies here, checked to be of `kind`; nullptr (after refusing it if given) when
  // the selector's value rules it out.
  const Field* applicable(std::string_view key, FieldKind kind);
  Need need_of(const Field& f) const;
  // The entry for `key` after the common checks: absent (reported if required) gives nullptr.
  const Entry* lookup(std::string_view key, Need need, std::string_view expected);
  std::optional<std::size_t> choice_index(std::string_view key, const std::vector<std::string_view>& names,
                                          Need need);
  SourceLocation value_location(const Entry& entry) const;
  void wrong(const Entry& entry, std::string_view expected);

  Sink* sink_;
  YAML::Node node_;
  std::string path_;
  bool is_mapping_ = false;
  std::vector<Entry> entries_;
  const Shape* shape_ = nullptr;
  std::string_view selected_;  // the selector's value once read
};

}  // namespace rig::config::yaml
