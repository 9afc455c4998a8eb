// JSON Schemas of the files the rig reads (protocols, rig configs, subjects), written from the same field
// tables their loaders read through (yaml_reader.hpp's Field and Shape), so that an editor checks a file as
// `rig check` will. What a schema cannot say (a value compared with another field or another file, a
// calibration table's order, a threshold the encoder cannot express, duplicate ids) is left to `rig check`
// and listed in docs/protocols.md ("Editor support").
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace rig::config {

namespace yaml {
struct Shape;
}

// The files that have a schema, as `rig schema KIND` names them.
enum class SchemaKind { kProtocol, kRig, kSubjects };

// The kind named `name` ("protocol", "rig", "subjects"), or nullopt. Pure.
std::optional<SchemaKind> schema_kind_of(std::string_view name);

// The schema's file name as installed under /usr/share/rig/schema/ ("protocol.schema.json"). Pure.
std::string schema_file_name(SchemaKind kind);

// A JSON Schema (draft-07, which common YAML editors support) of a mapping with `shape`'s fields.
// `defaults` maps a field path ("schedule.reversal.rule") to its default as a YAML scalar ("~" for null);
// each becomes the field's "default". Pure; thread-safe.
nlohmann::ordered_json json_schema(const yaml::Shape& shape, std::string_view title, std::string_view description,
                           const std::map<std::string, std::string>& defaults = {});

// The schema of `kind`'s files, with the protocol's defaults read from the loader itself. Pure; thread-safe.
nlohmann::ordered_json file_schema(SchemaKind kind);

}  // namespace rig::config
