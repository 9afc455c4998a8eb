#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "host/config/protocol_file.hpp"
#include "host/task/protocol.hpp"
#include "task_test_support.hpp"

namespace rig::task {
using config::effective_protocol_yaml;
using config::load_protocol_file;
using config::parse_protocol;
namespace {

using testing::protocol_from;
using testing::shipped_protocol;

std::vector<std::string> formatted(const std::vector<Diagnostic>& diagnostics) {
  std::vector<std::string> lines;
  for (const auto& d : diagnostics) lines.push_back(format_diagnostic(d));
  return lines;
}

TEST(ProtocolLoader, DistractorProtocolHasThePublishedDefaults) {
  const auto p = shipped_protocol("distractor");
  EXPECT_EQ(p.name, "distractor");
  EXPECT_DOUBLE_EQ(p.schedule.free_choice_fraction, 0.8);
  EXPECT_DOUBLE_EQ(p.schedule.p_high, 0.8);
  EXPECT_DOUBLE_EQ(p.schedule.p_low, 0.2);
  EXPECT_DOUBLE_EQ(p.schedule.p_distractor, 0.5);
  EXPECT_DOUBLE_EQ(p.rewards.controllable_volume_ul, 3.0);
  EXPECT_DOUBLE_EQ(p.rewards.distractor_volume_ul, 3.0);
  EXPECT_EQ(p.trial.iti_ms, 1000);
  EXPECT_EQ(p.schedule.start_side, StartSide::kRandom);
  EXPECT_EQ(p.schedule.reversal.rule, ReversalRule::kCriterionThenHazard);
  EXPECT_EQ(p.schedule.reversal.window_free_trials, 50);
  EXPECT_DOUBLE_EQ(p.schedule.reversal.criterion_high_fraction, 0.8);
  EXPECT_DOUBLE_EQ(p.schedule.reversal.hazard_per_trial, 0.1);
}

TEST(ProtocolLoader, ANameAloneGivesThePublishedDefaults) {
  const auto minimal = protocol_from("name: minimal\n");
  const auto shipped = shipped_protocol("distractor");
  EXPECT_DOUBLE_EQ(minimal.schedule.free_choice_fraction, shipped.schedule.free_choice_fraction);
  EXPECT_DOUBLE_EQ(minimal.schedule.p_high, shipped.schedule.p_high);
  EXPECT_DOUBLE_EQ(minimal.schedule.p_low, shipped.schedule.p_low);
  EXPECT_DOUBLE_EQ(minimal.schedule.p_distractor, shipped.schedule.p_distractor);
  EXPECT_EQ(minimal.schedule.reversal.window_free_trials, shipped.schedule.reversal.window_free_trials);
  EXPECT_EQ(minimal.trial.iti_ms, shipped.trial.iti_ms);
  EXPECT_EQ(minimal.limits.max_trials, kDefaultMaxTrials);
  EXPECT_FALSE(minimal.advance.has_value());
}

TEST(ProtocolLoader, ControllableOnlyHasNoDistractorAndAdvancesToTheTask) {
  const auto p = shipped_protocol("controllable-only");
  EXPECT_DOUBLE_EQ(p.schedule.p_distractor, 0.0);
  ASSERT_TRUE(p.advance.has_value());
  EXPECT_EQ(p.advance->to, "distractor.yaml");
  EXPECT_EQ(p.advance->min_choice_trials, 300);
}

TEST(ProtocolLoader, HabituationRewardsEveryChoiceOnBothSpouts) {
  const auto p = shipped_protocol("habituation");
  EXPECT_DOUBLE_EQ(p.schedule.p_high, 1.0);
  EXPECT_DOUBLE_EQ(p.schedule.p_low, 1.0);
  EXPECT_DOUBLE_EQ(p.schedule.p_distractor, 1.0);
  EXPECT_EQ(p.schedule.reversal.rule, ReversalRule::kNone);
  ASSERT_TRUE(p.trial.threshold_deg.has_value());
  EXPECT_LT(*p.trial.threshold_deg, 30.0);
}

TEST(ProtocolLoader, ReversalRulesTakeTheirOwnOptions) {
  const auto blocks = protocol_from(
      "name: b\nschedule:\n  reversal:\n    rule: block_length\n    block_min_trials: 10\n    block_max_trials: 30\n");
  EXPECT_EQ(blocks.schedule.reversal.rule, ReversalRule::kBlockLength);
  EXPECT_EQ(blocks.schedule.reversal.block_min_trials, 10);
  EXPECT_EQ(blocks.schedule.reversal.block_max_trials, 30);
  const auto hazard = protocol_from("name: h\nschedule:\n  reversal:\n    rule: fixed_hazard\n    hazard_per_trial: 0.05\n");
  EXPECT_EQ(hazard.schedule.reversal.rule, ReversalRule::kFixedHazard);
  EXPECT_DOUBLE_EQ(hazard.schedule.reversal.hazard_per_trial, 0.05);
}

TEST(ProtocolLoader, LimitsLeftOutTakeTheDocumentedDefaults) {
  const auto p = protocol_from("name: l\nlimits:\n  max_minutes: 30\n");
  EXPECT_EQ(p.limits.max_trials, kDefaultMaxTrials);
  EXPECT_EQ(p.limits.max_minutes, 30.0);
  EXPECT_EQ(p.limits.max_volume_per_spout_ul, kDefaultMaxVolumePerSpoutUl);
  const auto bare = protocol_from("name: x\n");
  EXPECT_EQ(bare.limits.max_trials, kDefaultMaxTrials);
  EXPECT_EQ(bare.limits.max_minutes, kDefaultMaxMinutes);
  EXPECT_EQ(bare.limits.max_volume_per_spout_ul, kDefaultMaxVolumePerSpoutUl);
}

// yaml-cpp alone read `name: "unterminated` as the name `unterminated`.
TEST(ProtocolLoader, AnUnterminatedQuotedScalarIsASyntaxError) {
  EXPECT_EQ(testing::only_diagnostic(parse_protocol("name: \"unterminated\n", "q.yaml")),
            "q.yaml:2:1: YAML syntax error: found unexpected end of stream (while scanning a quoted scalar)");
  EXPECT_EQ(testing::only_diagnostic(parse_protocol("name: 'open\n", "q.yaml")),
            "q.yaml:2:1: YAML syntax error: found unexpected end of stream (while scanning a quoted scalar)");
}

// libyaml breaks lines at a lone CR too; locations still count '\n' lines and bytes, as yaml-cpp's do.
TEST(ProtocolLoader, SyntaxErrorLocationsCountNewlinesOnly) {
  EXPECT_EQ(testing::only_diagnostic(parse_protocol("name: a\r\r\r: [\n", "r.yaml")),
            "r.yaml:1:11: YAML syntax error: did not find expected key (while parsing a block mapping)");
}

TEST(ProtocolLoader, LimitsRefuseNullForNoLimit) {
  const auto loaded = parse_protocol("name: l\nlimits:\n  max_trials: ~\n  max_volume_per_spout_ul:\n", "p.yaml");
  ASSERT_FALSE(loaded.ok());
  ASSERT_EQ(loaded.diagnostics.size(), 2u);
  EXPECT_EQ(task::format_diagnostic(loaded.diagnostics[0]),
            "p.yaml:3:3: limits.max_trials: expected a whole number of trials in [1, 1000000] (a session always has "
            "a trial limit), got nothing");
  EXPECT_EQ(loaded.diagnostics[1].where.line, 4);
}

TEST(ProtocolLoader, CollectsEveryErrorInAFileNotJustTheFirst) {
  const auto loaded = parse_protocol(
      "name: x\n"
      "trial:\n"
      "  iti_ms: -1\n"
      "schedule:\n"
      "  controllable:\n"
      "    p_high: 2\n"
      "  colour: red\n",
      "p.yaml");
  EXPECT_FALSE(loaded.ok());
  EXPECT_EQ(formatted(loaded.diagnostics),
            (std::vector<std::string>{
                "p.yaml:3:11: trial.iti_ms: expected a duration in ms from 0 to 4294967, got -1",
                "p.yaml:6:13: schedule.controllable.p_high: expected a probability in [0, 1], got 2",
                "p.yaml:7:3: schedule.colour: unknown field; allowed: free_choice_fraction, start_side, "
                "controllable, distractor, reversal",
            }));
}

TEST(ProtocolLoader, QuotedNumbersAreStringsNotNumbers) {
  const auto loaded = parse_protocol("name: q\nschedule:\n  distractor:\n    p: \"0.5\"\n", "q.yaml");
  EXPECT_EQ(testing::only_diagnostic(loaded),
            "q.yaml:4:8: schedule.distractor.p: expected a probability in [0, 1], got the quoted string \"0.5\"");
}

TEST(ProtocolLoader, RecordsWhereEachFieldIs) {
  const auto p = protocol_from("name: w\ntrial:\n  threshold_deg: 12\n");
  ASSERT_TRUE(p.locations.contains("trial.threshold_deg"));
  EXPECT_EQ(p.locations.at("trial.threshold_deg").line, 3);
  EXPECT_EQ(p.locations.at("trial.threshold_deg").column, 18);
}

TEST(ProtocolLoader, MissingFileIsADiagnosticNotACrash) {
  const auto loaded = load_protocol_file("/nonexistent/protocol.yaml");
  EXPECT_EQ(testing::only_diagnostic(loaded).rfind("/nonexistent/protocol.yaml:1:1: cannot read file", 0), 0u);
}

// Found by fuzz_yaml_loaders: yaml-cpp replaces a byte that is not UTF-8 by U+FFFD (3 bytes) and takes a
// leading NUL for UTF-16, so its columns pointed past the end of the line. Such text is refused up front,
// at the byte itself.
TEST(ProtocolLoader, TextThatIsNotUtf8IsRefusedAtTheFirstBadByte) {
  const auto loaded = parse_protocol("name: x\ntrial:\n  go_cue: caf\xc3\xa9 \xfe\xff\n", "u.yaml");
  EXPECT_EQ(testing::only_diagnostic(loaded), "u.yaml:3:17: not UTF-8 text (byte 0xFE): a YAML file must be UTF-8");
}

TEST(ProtocolLoader, ControlCharactersAreRefusedWhereTheyAre) {
  const auto loaded = parse_protocol(std::string("n\0,e: x\n", 8), "c.yaml");
  EXPECT_EQ(testing::only_diagnostic(loaded), "c.yaml:1:2: control character U+0000 is not allowed in YAML");
  EXPECT_EQ(testing::only_diagnostic(parse_protocol("name: a\x01" "b\n", "c.yaml")),
            "c.yaml:1:8: control character U+0001 is not allowed in YAML");
}

// Found by fuzz_yaml_loaders: YAML::LoadAll of yaml-cpp 0.7 never returns on ",:" (endless empty documents,
// allocating until the machine runs out of memory). libyaml's strict pass refuses it first.
TEST(ProtocolLoader, AStrayCommaColonIsASyntaxErrorNotAHang) {
  EXPECT_EQ(testing::only_diagnostic(parse_protocol(",:", "h.yaml")),
            "h.yaml:1:1: YAML syntax error: did not find expected node content (while parsing a block node)");
  EXPECT_EQ(testing::only_diagnostic(parse_protocol("name: a\n---\nname: b\n", "h.yaml")),
            "h.yaml:3:1: more than one YAML document: expected exactly one");
}

TEST(ProtocolLoader, Utf8TabsAndCrLfAreReadable) {
  const auto p = protocol_from("# caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x90\xad\r\nname:\tcrlf\r\n");
  EXPECT_EQ(p.name, "crlf");
}

class EffectiveProtocol : public ::testing::TestWithParam<std::string> {};

TEST_P(EffectiveProtocol, PrintsEveryFieldAndReadsBackToTheSameProtocol) {
  const auto protocol = shipped_protocol(GetParam());
  const auto effective = effective_protocol_yaml(protocol);
  for (const char* field : {"iti_ms:", "quiescence_timeout_ms:", "free_choice_fraction:", "p_high:", "p_low:",
                            "rule:", "max_trials:", "controllable_volume_ul:", "go_cue:"}) {
    EXPECT_NE(effective.find(field), std::string::npos) << field;
  }
  const auto reloaded = parse_protocol(effective, "effective.yaml");
  for (const auto& d : reloaded.diagnostics) ADD_FAILURE() << format_diagnostic(d) << "\n" << effective;
  ASSERT_TRUE(reloaded.ok());
  EXPECT_EQ(effective_protocol_yaml(*reloaded.value), effective);
}

INSTANTIATE_TEST_SUITE_P(Shipped, EffectiveProtocol,
                         ::testing::Values("distractor", "controllable-only", "habituation"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::erase(name, '-');
                           return name;
                         });

TEST(EffectiveSettings, AreTheEffectiveYamlsScalarsByPathInItsOrder) {
  const auto protocol = shipped_protocol("distractor");
  const auto settings = config::effective_settings(protocol);
  ASSERT_FALSE(settings.empty());
  EXPECT_EQ(settings.front().path, "name");
  EXPECT_EQ(settings.front().value, "distractor");
  std::vector<std::string> paths;
  for (const auto& s : settings) paths.push_back(s.path);
  const auto at = [&](const std::string& path) { return std::find(paths.begin(), paths.end(), path) - paths.begin(); };
  EXPECT_LT(at("trial.iti_ms"), at("schedule.reversal.rule"));
  EXPECT_LT(at("schedule.reversal.rule"), at("limits.max_trials"));
  EXPECT_LT(at("limits.max_trials"), static_cast<std::ptrdiff_t>(paths.size()));
  // One setting per `key: value` line of the effective YAML (comment-only and mapping lines aside).
  const auto effective = effective_protocol_yaml(protocol);
  std::size_t scalars = 0;
  std::istringstream lines(effective);
  for (std::string line; std::getline(lines, line);) {
    const auto colon = line.find(": ");
    if (colon != std::string::npos && line.find_first_not_of(' ') != colon) ++scalars;
  }
  EXPECT_EQ(settings.size(), scalars) << effective;
}

TEST(ProtocolDifferences, NameOnlyWhatDiffersAndWhatOnlyOneSets) {
  const std::string base = "name: a\nschedule:\n  distractor: {p: 0.5}\n";
  const auto a = protocol_from(base + "  reversal: {rule: criterion_then_hazard, window_free_trials: 40}\n");
  const auto b = protocol_from(base + "  reversal: {rule: block_length, block_min_trials: 20, block_max_trials: 30}\n");
  EXPECT_TRUE(config::protocol_differences(a, a).empty());
  const auto differences = config::protocol_differences(a, b);
  std::map<std::string, std::pair<std::optional<std::string>, std::optional<std::string>>> by_path;
  for (const auto& d : differences) by_path[d.path] = {d.a, d.b};
  EXPECT_EQ(by_path.size(), differences.size()) << "each setting once";
  using Pair = std::pair<std::optional<std::string>, std::optional<std::string>>;
  EXPECT_EQ(by_path["schedule.reversal.rule"], Pair("criterion_then_hazard", "block_length"));
  EXPECT_EQ(by_path["schedule.reversal.window_free_trials"], Pair("40", std::nullopt));
  EXPECT_EQ(by_path["schedule.reversal.hazard_per_trial"].second, std::nullopt);
  EXPECT_EQ(by_path["schedule.reversal.block_min_trials"], Pair(std::nullopt, "20"));
  EXPECT_EQ(by_path["schedule.reversal.block_max_trials"], Pair(std::nullopt, "30"));
  EXPECT_EQ(by_path.count("name"), 0u) << "same name, same distractor: not listed";
  EXPECT_EQ(by_path.count("schedule.distractor.p"), 0u);
  // a's settings first, in a's order, then the ones only b has.
  EXPECT_EQ(differences.front().path, "schedule.reversal.rule");
  EXPECT_FALSE(differences.back().a.has_value());
}

}  // namespace
}  // namespace rig::task
