// The trial record's field table: every field survives its column value, a wrong column value is refused
// naming the field, and the table itself is well formed (unique names, one version per field, units in names).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "host/model/device.hpp"
#include "host/model/trial_json.hpp"
#include "host/model/trial_record.hpp"

namespace rig::model {
namespace {

// Every field a value unlike its default and unlike the others.
TrialRecord distinct_record() {
  TrialRecord r;
  std::int64_t n = 1;
  for_each_trial_field(r, [&](const FieldInfo&, auto& member) {
    using T = std::decay_t<decltype(member)>;
    ++n;
    if constexpr (std::is_same_v<T, bool>) {
      member = n % 2 == 0;
    } else if constexpr (std::is_same_v<T, double>) {
      member = static_cast<double>(n) + 0.25;
    } else if constexpr (std::is_same_v<T, std::string>) {
      member = "text-" + std::to_string(n);
    } else if constexpr (std::is_same_v<T, wire::Side> || std::is_same_v<T, std::optional<wire::Side>>) {
      member = wire::Side::kRight;
    } else if constexpr (std::is_same_v<T, wire::Valve>) {
      member = wire::Valve::kGrape;
    } else if constexpr (std::is_same_v<T, wire::TrialOutcome>) {
      member = wire::TrialOutcome::kNoQuiescence;
    } else if constexpr (std::is_same_v<T, std::optional<std::int64_t>>) {
      member = -n * 1000;
    } else {
      member = static_cast<T>(n * 7);
    }
  });
  return r;
}

TEST(TrialRecord, EveryFieldRoundTripsThroughItsColumnValue) {
  const TrialRecord original = distinct_record();
  TrialRecord copy;
  std::vector<ColumnValue> columns;
  for_each_trial_field(original, [&](const FieldInfo&, const auto& member) { columns.push_back(to_column(member)); });
  ASSERT_EQ(columns.size(), kTrialFieldCount);
  std::size_t i = 0;
  for_each_trial_field(copy, [&](const FieldInfo& field, auto& member) { from_column(columns[i++], field, member); });
  EXPECT_EQ(copy, original);
}

TEST(TrialRecord, ColumnValuesSpellSidesAsLettersAndEnumsByName) {
  TrialRecord r;
  r.high_side = wire::Side::kLeft;
  r.choice = wire::Side::kRight;
  r.controllable_flavour = wire::Valve::kGrape;
  r.outcome = wire::TrialOutcome::kWatchdogAbort;
  EXPECT_EQ(to_column(r.high_side), ColumnValue(std::string("L")));
  EXPECT_EQ(to_column(r.choice), ColumnValue(std::string("R")));
  EXPECT_EQ(to_column(r.instructed_side), ColumnValue());
  EXPECT_EQ(to_column(r.controllable_flavour), ColumnValue(std::string("grape")));
  EXPECT_EQ(to_column(r.outcome), ColumnValue(std::string("watchdog_abort")));
  EXPECT_EQ(to_column(true), ColumnValue(std::int64_t{1}));
  EXPECT_EQ(to_column(static_cast<wire::TrialOutcome>(42)), ColumnValue(std::string("unknown_42")));
}

TEST(TrialRecord, AnUnknownOutcomeReadsBackAsItsNumber) {
  wire::TrialOutcome outcome{};
  from_column(ColumnValue(std::string("unknown_42")), kTrialFields[0], outcome);
  EXPECT_EQ(static_cast<int>(outcome), 42);
}

TEST(TrialRecord, WrongColumnValuesAreRefusedNamingTheField) {
  const FieldInfo field{"high_side", ColumnType::kText, false, 1, true, ""};
  wire::Side side{};
  try {
    from_column(ColumnValue(std::string("X")), field, side);
    FAIL() << "an unknown side was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("high_side"), std::string::npos) << e.what();
  }
  std::uint32_t count = 0;
  EXPECT_THROW(from_column(ColumnValue(), field, count), std::invalid_argument);        // NULL, not nullable
  EXPECT_THROW(from_column(ColumnValue(std::int64_t{-1}), field, count), std::invalid_argument);  // out of range
  EXPECT_THROW(from_column(ColumnValue(2.5), field, count), std::invalid_argument);     // not an integer
  wire::Valve valve{};
  EXPECT_THROW(from_column(ColumnValue(std::string("lemon")), field, valve), std::invalid_argument);
}

TEST(TrialFields, NamesAreUniqueAndCarryTheirUnit) {
  std::set<std::string> names;
  for (const auto& field : kTrialFields) {
    EXPECT_TRUE(names.insert(field.name).second) << field.name << " twice";
    EXPECT_GE(field.since_version, 1) << field.name;
    EXPECT_NE(std::string(field.doc), "") << field.name << " has no doc";
  }
  EXPECT_EQ(std::string(kTrialFields[0].name), "session_id");
  EXPECT_EQ(column_definition(kTrialFields[0]), "session_id INTEGER NOT NULL");
}

TEST(TrialFields, ColumnTypesFollowTheMemberTypes) {
  for (const auto& field : kTrialFields) {
    const std::string name = field.name;
    if (name == "p_distractor" || name == "delivered_cherry_ul") {
      EXPECT_EQ(field.type, ColumnType::kReal) << name;
    }
    if (name == "choice") {
      EXPECT_EQ(field.type, ColumnType::kText);
      EXPECT_TRUE(field.nullable);
    }
    if (name == "trial_number" || name == "free_choice") {
      EXPECT_EQ(field.type, ColumnType::kInteger) << name;
      EXPECT_FALSE(field.nullable) << name;
    }
  }
}

TEST(TrialJson, TheDashboardSeesTheShownFieldsNamedAndValuedAsTheExport) {
  TrialRecord r;
  r.trial_number = 7;
  r.high_side = wire::Side::kRight;
  r.choice = wire::Side::kLeft;
  r.outcome = wire::TrialOutcome::kLeft;
  r.delivered_cherry_open_us = 30000;
  r.reversed_after = true;
  const auto shown = trial_json(r, true);
  std::size_t expected = 0;
  for (const auto& field : kTrialFields) {
    EXPECT_EQ(shown.contains(field.name), field.shown) << field.name;
    expected += field.shown ? 1 : 0;
  }
  EXPECT_EQ(shown.size(), expected);
  EXPECT_EQ(shown["trial_number"], 7);
  EXPECT_EQ(shown["high_side"], "R");
  EXPECT_EQ(shown["choice"], "L");
  EXPECT_EQ(shown["outcome"], "left");
  EXPECT_EQ(shown["delivered_cherry_open_us"], 30000);
  EXPECT_EQ(shown["reversed_after"], 1);
  const auto all = trial_json(r, false);
  EXPECT_EQ(all.size(), kTrialFieldCount);
  EXPECT_TRUE(all["instructed_side"].is_null());
  EXPECT_EQ(all.begin().key(), "session_id");  // field order
}

TEST(DeviceInfo, JsonHasEveryFieldWithTheHalKindAsANumber) {
  DeviceInfo device;
  device.firmware_build_id = "abc";
  device.max_open_us = 500000;
  device.hal_kind = wire::HalKind::kSimavr;
  EXPECT_EQ(device_info_json(device),
            R"({"boot_id":0,"clock_hz":0,"encoder_ticks_per_rev":0,"firmware_build_id":"abc","hal_kind":2,)"
            R"("heartbeat_timeout_ms":0,"latched_faults":0,"max_open_us":500000,"max_open_us_per_s":0,)"
            R"("pin_camera":0,"pin_cue":0,"pin_encoder_a":0,"pin_encoder_b":0,"pin_lick_cherry":0,"pin_lick_grape":0,)"
            R"("pin_sync":0,"pin_valve_cherry":0,"pin_valve_grape":0,"port":""})");
}

}  // namespace
}  // namespace rig::model
