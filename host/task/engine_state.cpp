#include "host/task/engine_state.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace rig::task {
namespace {

using nlohmann::json;

constexpr int kFormat = 1;

template <class T>
json optional_to_json(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

template <class T>
std::optional<T> optional_from_json(const json& value) {
  if (value.is_null()) return std::nullopt;
  return value.get<T>();
}

constexpr Named<wire::Side> kSideNames[] = {{"left", wire::Side::kLeft}, {"right", wire::Side::kRight}};

template <class E, std::size_t N>
E enum_from_json(const Named<E> (&table)[N], const json& value) {
  const auto name = value.get<std::string>();
  if (const E* found = value_of(table, name)) return *found;
  throw std::invalid_argument("unknown name " + name);
}

}  // namespace

std::string engine_state_to_json(const EngineState& state) {
  const auto& schedule = state.schedule;
  json out = {
      {"format", kFormat},
      {"seed", state.seed},
      {"trial_rng", {{"state", state.trial_rng_state}, {"draws", state.trial_rng_draws}}},
      {"schedule_rng", {{"state", state.schedule_rng_state}, {"draws", state.schedule_rng_draws}}},
      {"schedule",
       {{"high_side", name_of(kSideNames, schedule.high_side)},
        {"block_index", schedule.block_index},
        {"block_choice_trials", schedule.block_choice_trials},
        {"criterion_window", schedule.criterion_window},
        {"criterion_met", schedule.criterion_met},
        {"block_length_trials", schedule.block_length_trials}}},
      {"trials_done", state.trials_done},
      {"choice_trials", state.choice_trials},
      {"recent_free_chose_high", state.recent_free_chose_high},
      {"delivered_ul_by_valve", state.delivered_ul_by_valve},
      {"water_before_session_ul", state.water_before_session_ul},
      {"session_start_us", optional_to_json(state.session_start_us)},
      {"ready_at_us", optional_to_json(state.ready_at_us)},
      {"stop_reason", state.stop_reason ? json(name_of(kStopReasonNames, *state.stop_reason)) : json(nullptr)},
  };
  return out.dump();
}

EngineState engine_state_from_json(const std::string& text) {
  try {
    const json in = json::parse(text);
    if (in.at("format").get<int>() != kFormat) {
      throw std::invalid_argument("engine state format " + in.at("format").dump() + " is not " +
                                  std::to_string(kFormat));
    }
    EngineState state;
    state.seed = in.at("seed").get<std::uint64_t>();
    state.trial_rng_state = in.at("trial_rng").at("state").get<std::uint64_t>();
    state.trial_rng_draws = in.at("trial_rng").at("draws").get<std::uint64_t>();
    state.schedule_rng_state = in.at("schedule_rng").at("state").get<std::uint64_t>();
    state.schedule_rng_draws = in.at("schedule_rng").at("draws").get<std::uint64_t>();
    const json& schedule = in.at("schedule");
    state.schedule.high_side = enum_from_json(kSideNames, schedule.at("high_side"));
    state.schedule.block_index = schedule.at("block_index").get<std::uint32_t>();
    state.schedule.block_choice_trials = schedule.at("block_choice_trials").get<std::uint32_t>();
    state.schedule.criterion_window = schedule.at("criterion_window").get<std::deque<bool>>();
    state.schedule.criterion_met = schedule.at("criterion_met").get<bool>();
    state.schedule.block_length_trials = schedule.at("block_length_trials").get<std::uint32_t>();
    state.trials_done = in.at("trials_done").get<std::uint32_t>();
    state.choice_trials = in.at("choice_trials").get<std::uint32_t>();
    state.recent_free_chose_high = in.at("recent_free_chose_high").get<std::deque<bool>>();
    state.delivered_ul_by_valve = in.at("delivered_ul_by_valve").get<std::array<double, 2>>();
    state.water_before_session_ul = in.at("water_before_session_ul").get<double>();
    state.session_start_us = optional_from_json<std::int64_t>(in.at("session_start_us"));
    state.ready_at_us = optional_from_json<std::int64_t>(in.at("ready_at_us"));
    if (!in.at("stop_reason").is_null()) state.stop_reason = enum_from_json(kStopReasonNames, in.at("stop_reason"));
    return state;
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string("engine state: ") + e.what());
  }
}

}  // namespace rig::task
