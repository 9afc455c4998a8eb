#include "host/config/json_schema.hpp"

#include <algorithm>
#include <span>
#include <string>
#include <vector>

#include "host/config/protocol_file.hpp"
#include "host/config/rig_config_file.hpp"
#include "host/config/subjects_file.hpp"
#include "host/config/yaml_reader.hpp"

namespace rig::config {
namespace {

using json = nlohmann::ordered_json;
using yaml::Field;
using yaml::FieldKind;
using yaml::Shape;

constexpr const char* kDraft = "http://json-schema.org/draft-07/schema#";
// What the loader takes as text: any non-empty scalar (YAML resolves `id: 42` to a number; the rig reads "42").
const json kScalarTypes = json::array({"string", "number", "boolean"});

std::string joined(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

void add_range(json& schema, const yaml::NumberRule& rule) {
  schema[rule.min_exclusive ? "exclusiveMinimum" : "minimum"] = rule.min;
  schema[rule.max_exclusive ? "exclusiveMaximum" : "maximum"] = rule.max;
}

// An integer bound as JSON integer (editors show 4294967, not 4294967.0).
void add_integer_range(json& schema, const yaml::NumberRule& rule) {
  schema["minimum"] = static_cast<std::int64_t>(rule.min);
  schema["maximum"] = static_cast<std::int64_t>(rule.max);
}

// `text`, a YAML scalar as the effective protocol writes it, as the JSON value of a field of `kind`.
std::optional<json> default_value(FieldKind kind, const std::string& text) {
  try {
    switch (kind) {
      case FieldKind::kNumber:
        return json(std::stod(text));
      case FieldKind::kNullableNumber:
        return text == "~" ? json(nullptr) : json(std::stod(text));
      case FieldKind::kInteger:
        return json(std::stoll(text));
      case FieldKind::kBoolean:
        return json(text == "true");
      case FieldKind::kText:
      case FieldKind::kChoice:
        return json(text);
      default:
        return std::nullopt;
    }
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

json object_schema(const Shape& shape, const std::string& path, const std::map<std::string, std::string>& defaults);

json field_schema(const Field& f, const std::string& path, const std::map<std::string, std::string>& defaults) {
  json schema = json::object();
  const std::string words = yaml::expected_words(f);
  std::string description(f.doc);
  if (!words.empty()) description += (description.empty() ? "Expected " : " Expected: ") + words + ".";
  if (!description.empty()) schema["description"] = description;
  switch (f.kind) {
    case FieldKind::kNumber:
      schema["type"] = "number";
      add_range(schema, f.rule);
      break;
    case FieldKind::kNullableNumber:
      schema["type"] = json::array({"number", "null"});
      add_range(schema, f.rule);
      break;
    case FieldKind::kInteger:
      schema["type"] = "integer";
      add_integer_range(schema, f.rule);
      if (f.multiple_of > 0) schema["multipleOf"] = f.multiple_of;
      if (f.only) schema["const"] = *f.only;
      break;
    case FieldKind::kText:
      if (f.pattern.empty()) {
        schema["type"] = kScalarTypes;
      } else {
        schema["type"] = "string";
        schema["pattern"] = f.pattern;
      }
      schema["minLength"] = 1;
      break;
    case FieldKind::kBoolean:
      schema["type"] = "boolean";
      break;
    case FieldKind::kChoice:
      schema["type"] = "string";
      schema["enum"] = json(std::vector<std::string>(f.choices.begin(), f.choices.end()));
      break;
    case FieldKind::kDate:
      schema["type"] = "string";
      schema["format"] = "date";
      schema["pattern"] = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$";
      break;
    case FieldKind::kMapping: {
      json nested = object_schema(*f.shape, path, defaults);
      nested.update(schema);  // the field's description over the mapping's own
      schema = std::move(nested);
      break;
    }
    case FieldKind::kMappingList:
      schema["type"] = "array";
      schema["items"] = object_schema(*f.shape, path + "[]", defaults);
      if (f.min_items > 0) schema["minItems"] = f.min_items;
      break;
    case FieldKind::kTextList:
      schema["type"] = "array";
      schema["items"] = {{"type", kScalarTypes}, {"minLength", 1}};
      break;
    case FieldKind::kNamedIntegers: {
      json value = {{"type", "integer"}};
      add_integer_range(value, f.rule);
      schema["type"] = "object";
      schema["minProperties"] = 1;
      schema["additionalProperties"] = value;
      break;
    }
    case FieldKind::kAgent:
      schema["anyOf"] = json::array({{{"type", kScalarTypes}, {"minLength", 1}}, {{"type", "object"}}});
      break;
  }
  if (const auto it = defaults.find(path); it != defaults.end()) {
    if (auto value = default_value(f.kind, it->second)) schema["default"] = std::move(*value);
  }
  return schema;
}

// The `if` of a condition on the shape's selector: true when its value (the default when left out) is one of
// `values`.
json selector_is(const Shape& shape, std::span<const std::string_view> values) {
  const std::vector<std::string> names(values.begin(), values.end());
  json condition = {{"properties", {{std::string(shape.selector), {{"enum", names}}}}}};
  const bool default_matches =
      !shape.selector_default.empty() && std::find(values.begin(), values.end(), shape.selector_default) != values.end();
  // An absent property satisfies "properties": require the selector unless its default is one of the values.
  if (!default_matches) condition["required"] = json::array({std::string(shape.selector)});
  return condition;
}

json object_schema(const Shape& shape, const std::string& path, const std::map<std::string, std::string>& defaults) {
  json properties = json::object();
  json required = json::array();
  json conditions = json::array();
  for (const Field& f : shape.fields) {
    const std::string key(f.key);
    properties[key] = field_schema(f, joined(path, key), defaults);
    if (f.need == yaml::Need::kRequired) required.push_back(key);
    if (!f.applies_when.empty()) {
      conditions.push_back({{"if", selector_is(shape, f.applies_when)}, {"else", {{"properties", {{key, false}}}}}});
    }
    if (!f.required_when.empty()) {
      conditions.push_back({{"if", selector_is(shape, f.required_when)}, {"then", {{"required", {key}}}}});
    }
    if (!f.excludes.empty()) {
      conditions.push_back({{"if", {{"required", {std::string(f.excludes)}}}}, {"then", {{"properties", {{key, false}}}}}});
    }
  }
  json schema = {{"type", "object"}, {"properties", properties}, {"additionalProperties", false}};
  if (!required.empty()) schema["required"] = required;
  if (!conditions.empty()) schema["allOf"] = conditions;
  return schema;
}

// path -> value of every setting of the effective protocol that `text` loads to.
void add_effective_settings(const std::string& text, std::map<std::string, std::string>& defaults) {
  const auto loaded = parse_protocol(text, "(defaults)");
  if (!loaded.ok()) return;
  for (const auto& setting : effective_settings(*loaded.value)) defaults.emplace(setting.path, setting.value);
}

}  // namespace

std::optional<SchemaKind> schema_kind_of(std::string_view name) {
  if (name == "protocol") return SchemaKind::kProtocol;
  if (name == "rig") return SchemaKind::kRig;
  if (name == "subjects") return SchemaKind::kSubjects;
  return std::nullopt;
}

std::string schema_file_name(SchemaKind kind) {
  switch (kind) {
    case SchemaKind::kProtocol:
      return "protocol.schema.json";
    case SchemaKind::kRig:
      return "rig.schema.json";
    case SchemaKind::kSubjects:
      return "subjects.schema.json";
  }
  return "";
}

json json_schema(const Shape& shape, std::string_view title, std::string_view description,
                 const std::map<std::string, std::string>& defaults) {
  json schema = {{"$schema", kDraft}, {"title", title}, {"description", description}};
  schema.update(object_schema(shape, "", defaults));
  return schema;
}

json file_schema(SchemaKind kind) {
  switch (kind) {
    case SchemaKind::kProtocol: {
      // The defaults are the loader's own: the effective settings of a protocol that sets nothing, and of one
      // that only picks the rule whose fields the default rule leaves out.
      std::map<std::string, std::string> defaults;
      add_effective_settings("name: defaults\n", defaults);
      add_effective_settings("name: defaults\nschedule: {reversal: {rule: block_length}}\n", defaults);
      defaults.erase("name");
      return json_schema(protocol_file_shape(), "rig protocol",
                         "A training protocol of the distractor-rewards task (docs/protocols.md); checked by rig check.",
                         defaults);
    }
    case SchemaKind::kRig:
      return json_schema(rig_config_file_shape(), "rig config",
                         "A rig's hardware, calibration and services (docs/config.md); checked by rig check.");
    case SchemaKind::kSubjects:
      return json_schema(subjects_file_shape(), "rig subjects",
                         "The lab's subjects, their stages, water and welfare rules (docs/config.md); checked by "
                         "rig check.");
  }
  return {};
}

}  // namespace rig::config
