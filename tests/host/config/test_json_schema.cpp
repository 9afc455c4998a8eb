// The field tables the loaders read through (yaml_reader.hpp's Field and Shape) and the JSON Schemas written
// from them (json_schema.hpp). tests/host/config/json_schema_test.py checks the shipped schemas against
// `rig check` on the broken corpus with python3-jsonschema.
#include <gtest/gtest.h>

#include <stdexcept>

#include "host/config/json_schema.hpp"
#include "host/config/protocol_file.hpp"
#include "host/config/rig_config_file.hpp"
#include "host/config/subjects_file.hpp"
#include "host/config/yaml_reader.hpp"

namespace rig::config::yaml {
namespace {

enum class Mode { kA, kB, kC };
constexpr Named<Mode> kModeNames[] = {{"a", Mode::kA}, {"b", Mode::kB}, {"c", Mode::kC}};
constexpr auto kModes = names_of(kModeNames);
constexpr std::string_view kOnlyB[] = {"b"};
constexpr std::string_view kAOrC[] = {"a", "c"};

constexpr Field kFields[] = {
    {.key = "mode", .kind = FieldKind::kChoice, .doc = "How.", .choices = kModes},
    {.key = "count", .kind = FieldKind::kInteger, .rule = {4.0, 64.0, false, false, ""}, .unit = "ticks",
     .multiple_of = 4},
    {.key = "rate", .kind = FieldKind::kNumber, .rule = {0.0, 1.0, true, false, "a rate in (0, 1]"},
     .applies_when = kAOrC},
    {.key = "port", .kind = FieldKind::kText, .required_when = kOnlyB},
    {.key = "low", .kind = FieldKind::kNumber, .rule = {0.0, 1.0, false, false, "a number in [0, 1]"}},
    {.key = "low_per_g", .kind = FieldKind::kNumber, .rule = {0.0, 1.0, false, false, "a number in [0, 1]"},
     .excludes = "low"},
};
constexpr Shape kShape{kFields, "mode", "a"};

struct Read {
  std::vector<std::string> messages;
  Mode mode = Mode::kA;
  std::int64_t count = 8;
  double rate = 0.5;
};

Read read(const std::string& text) {
  Sink sink("f.yaml");
  Read out;
  MapReader map(sink, YAML::Load(text), "", kShape);
  map.read("mode", out.mode, kModeNames);
  map.read("count", out.count);
  map.read("rate", out.rate);
  std::string port;
  map.read("port", port);
  double low = 0.0;
  map.read("low", low);
  map.read("low_per_g", low);
  for (const auto& d : sink.take_diagnostics()) out.messages.push_back(d.message);
  return out;
}

TEST(FieldTable, ReadsEachFieldByItsRuleAndWordsTheRangeByItsUnit) {
  const Read ok = read("mode: c\ncount: 12\nrate: 1\n");
  EXPECT_TRUE(ok.messages.empty());
  EXPECT_EQ(ok.mode, Mode::kC);
  EXPECT_EQ(ok.count, 12);
  EXPECT_EQ(ok.rate, 1.0);
  EXPECT_EQ(read("count: 10\n").messages, std::vector<std::string>{"count: expected ticks in [4, 64], got 10"});
  EXPECT_EQ(read("count: 68\n").messages, std::vector<std::string>{"count: expected ticks in [4, 64], got 68"});
}

TEST(FieldTable, AFieldOfAnotherSelectorValueIsRefusedNamingTheValuesItAppliesTo) {
  const Read r = read("mode: b\nrate: 0.5\nport: x\n");
  EXPECT_EQ(r.messages, std::vector<std::string>{"rate: does not apply here; it applies only to modes a and c"});
  EXPECT_EQ(r.rate, 0.5) << "never stored";
  // Left out, the selector has its default ("a"), under which rate applies.
  EXPECT_TRUE(read("rate: 0.25\n").messages.empty());
}

TEST(FieldTable, AFieldIsRequiredWhenTheSelectorSaysSo) {
  EXPECT_EQ(read("mode: b\n").messages, std::vector<std::string>{"port: missing required field (expected a text)"});
  EXPECT_TRUE(read("mode: a\n").messages.empty());
}

TEST(FieldTable, TwoFieldsThatExcludeEachOtherAreRefusedTogether) {
  EXPECT_EQ(read("low: 0.5\nlow_per_g: 0.5\n").messages,
            std::vector<std::string>{"low_per_g: give low or low_per_g, not both"});
  EXPECT_TRUE(read("low_per_g: 0.5\n").messages.empty());
}

TEST(FieldTable, ReadingAFieldTheTableLacksOrAsAnotherKindIsTheLoadersMistake) {
  Sink sink("f.yaml");
  MapReader map(sink, YAML::Load("count: 8\n"), "", kShape);
  double value = 0.0;
  EXPECT_THROW(map.read("counts", value), std::logic_error);
  EXPECT_THROW(map.read("count", value), std::logic_error) << "count is an integer field";
}

TEST(JsonSchema, WritesEachFieldsTypeRangeAndConditionsFromTheTable) {
  const auto schema = json_schema(kShape, "t", "d");
  EXPECT_EQ(schema["$schema"], "http://json-schema.org/draft-07/schema#");
  EXPECT_EQ(schema["additionalProperties"], false);
  const auto& count = schema["properties"]["count"];
  EXPECT_EQ(count["type"], "integer");
  EXPECT_EQ(count["minimum"], 4);
  EXPECT_EQ(count["maximum"], 64);
  EXPECT_EQ(count["multipleOf"], 4);
  EXPECT_EQ(count["description"], "Expected ticks in [4, 64].");
  const auto& rate = schema["properties"]["rate"];
  EXPECT_EQ(rate["exclusiveMinimum"], 0.0);
  EXPECT_EQ(rate["maximum"], 1.0);
  EXPECT_EQ(schema["properties"]["mode"]["enum"], nlohmann::ordered_json::array({"a", "b", "c"}));
  // rate applies under a (the default) or c: an absent mode satisfies the condition. port is required under b
  // only, which an absent mode (a) is not: the condition requires mode.
  const auto& conditions = schema["allOf"];
  ASSERT_EQ(conditions.size(), 3u);
  EXPECT_EQ(conditions[0]["if"], nlohmann::ordered_json::parse(R"({"properties": {"mode": {"enum": ["a", "c"]}}})"));
  EXPECT_EQ(conditions[0]["else"], nlohmann::ordered_json::parse(R"({"properties": {"rate": false}})"));
  EXPECT_EQ(conditions[1]["if"],
            nlohmann::ordered_json::parse(R"({"properties": {"mode": {"enum": ["b"]}}, "required": ["mode"]})"));
  EXPECT_EQ(conditions[1]["then"], nlohmann::ordered_json::parse(R"({"required": ["port"]})"));
  EXPECT_EQ(conditions[2]["if"], nlohmann::ordered_json::parse(R"({"required": ["low"]})"));
  EXPECT_EQ(conditions[2]["then"], nlohmann::ordered_json::parse(R"({"properties": {"low_per_g": false}})"));
}

TEST(JsonSchema, TheProtocolSchemasDefaultsAreTheLoadersDefaults) {
  const auto schema = file_schema(SchemaKind::kProtocol);
  const auto& schedule = schema["properties"]["schedule"]["properties"];
  EXPECT_EQ(schedule["free_choice_fraction"]["default"], 0.8);
  EXPECT_EQ(schedule["reversal"]["properties"]["rule"]["default"], "criterion_then_hazard");
  EXPECT_EQ(schedule["reversal"]["properties"]["block_max_trials"]["default"], 40);
  EXPECT_TRUE(schema["properties"]["trial"]["properties"]["threshold_deg"]["default"].is_null());
  EXPECT_EQ(schema["properties"]["limits"]["properties"]["max_trials"]["default"], task::kDefaultMaxTrials);
  EXPECT_EQ(schema["required"], nlohmann::ordered_json::array({"name"}));
}

TEST(JsonSchema, EachFileKindHasItsLoadersFieldsAndNoOthers) {
  for (const auto& [kind, shape] : {std::pair{SchemaKind::kProtocol, &protocol_file_shape()},
                                    std::pair{SchemaKind::kRig, &rig_config_file_shape()},
                                    std::pair{SchemaKind::kSubjects, &subjects_file_shape()}}) {
    const auto schema = file_schema(kind);
    ASSERT_EQ(schema["properties"].size(), shape->fields.size()) << schema_file_name(kind);
    for (const Field& f : shape->fields) EXPECT_TRUE(schema["properties"].contains(f.key)) << f.key;
  }
  EXPECT_EQ(schema_kind_of("rig"), SchemaKind::kRig);
  EXPECT_FALSE(schema_kind_of("rigs").has_value());
}

}  // namespace
}  // namespace rig::config::yaml
