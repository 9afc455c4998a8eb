// One name table per enum of the task and the device, used by every file, export and page that names a
// value: the store, the exports, the dashboard, the YAML files and the logs.
#pragma once

#include <cstdint>
#include <string>

#include "firmware/wire/messages.hpp"
#include "host/model/names.hpp"

namespace rig::model {

// Sides: "left" / "right". The store and its exports spell a side by its initial, "L" / "R" (side_code).
inline constexpr Named<wire::Side> kSideNames[] = {{"left", wire::Side::kLeft}, {"right", wire::Side::kRight}};
// Flavours, one per valve: "cherry" / "grape".
inline constexpr Named<wire::Valve> kFlavourNames[] = {{"cherry", wire::Valve::kCherry}, {"grape", wire::Valve::kGrape}};
// The device's trial outcomes.
inline constexpr Named<wire::TrialOutcome> kOutcomeNames[] = {
    {"left", wire::TrialOutcome::kLeft},
    {"right", wire::TrialOutcome::kRight},
    {"miss", wire::TrialOutcome::kMiss},
    {"aborted", wire::TrialOutcome::kAborted},
    {"no_quiescence", wire::TrialOutcome::kNoQuiescence},
    {"watchdog_abort", wire::TrialOutcome::kWatchdogAbort}};
// How a subject got water (welfare.def's water_given.kind): a session's rewards, or by hand.
enum class WaterKind : std::uint8_t { kSession, kTopup, kGel, kFree };
inline constexpr Named<WaterKind> kWaterKindNames[] = {
    {"session", WaterKind::kSession}, {"topup", WaterKind::kTopup}, {"gel", WaterKind::kGel}, {"free", WaterKind::kFree}};
// What an alert is about (docs/operator-guide.md, "Alerts").
enum class AlertKind : std::uint8_t {
  kSessionFailed, kFault, kDeviceLost, kDisengaged, kIdle, kOverrun, kUnderThreshold, kWaterOwed, kTest
};
inline constexpr Named<AlertKind> kAlertKindNames[] = {
    {"session_failed", AlertKind::kSessionFailed}, {"fault", AlertKind::kFault},
    {"device_lost", AlertKind::kDeviceLost},       {"disengaged", AlertKind::kDisengaged},
    {"idle", AlertKind::kIdle},                    {"overrun", AlertKind::kOverrun},
    {"under_threshold", AlertKind::kUnderThreshold}, {"water_owed", AlertKind::kWaterOwed},
    {"test", AlertKind::kTest}};
// A device fault bit and what it means for the operator.
struct FaultText {
  std::uint16_t bit;
  const char* text;
};
inline constexpr FaultText kFaultTexts[] = {
    {wire::kFaultHostTimeout, "the device heard nothing from the host in time: valves closed, trial aborted"},
    {wire::kFaultEventOverflow, "the device's event queue overflowed (the host was away too long)"},
    {wire::kFaultValveLimit, "a valve time above the safety limit was asked for and clamped"},
    {wire::kFaultEncoderInvalid, "the wheel encoder skipped steps (check its wiring)"},
    {wire::kFaultRxOverrun, "the device lost incoming bytes (receive overrun)"},
    {wire::kFaultReset, "the device restarted (watchdog or brown-out)"}};

inline const char* side_name(wire::Side side) { return name_of(kSideNames, side); }
// "L" or "R": the store's spelling of a side (the initial of its name, upper case). Pure; thread-safe.
inline const char* side_code(wire::Side side) { return side == wire::Side::kLeft ? "L" : "R"; }
inline const char* flavour_name(wire::Valve valve) { return name_of(kFlavourNames, valve); }
inline const char* water_kind_name(WaterKind kind) { return name_of(kWaterKindNames, kind); }
inline const char* alert_kind_name(AlertKind kind) { return name_of(kAlertKindNames, kind); }
// The outcome's name, or "unknown_<n>" for a value the table lacks. Pure; thread-safe.
inline std::string outcome_name(wire::TrialOutcome outcome) {
  const char* name = name_of(kOutcomeNames, outcome);
  return *name ? std::string(name) : "unknown_" + std::to_string(static_cast<int>(outcome));
}
// What a fault bit means, in words for the operator ("fault bit <n>" for an unknown one). Pure; thread-safe.
inline std::string fault_text(std::uint16_t fault_bit) {
  for (const auto& fault : kFaultTexts) {
    if (fault.bit == fault_bit) return fault.text;
  }
  return "fault bit " + std::to_string(fault_bit);
}

}  // namespace rig::model
