// The task engine: decides each trial of a distractor-rewards session. A pure state machine driven by
// `now_us` and trial results; it never reads a clock and does no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "firmware/wire/messages.hpp"
#include "host/task/compatibility.hpp"
#include "host/task/names.hpp"
#include "host/task/protocol.hpp"
#include "host/task/random_stream.hpp"
#include "host/task/rig_config.hpp"
#include "host/task/schedule.hpp"
#include "host/task/subject.hpp"

namespace rig::task {

// Why a session ended.
enum class StopReason {
  kMaxTrials,     // limits.max_trials reached
  kMaxMinutes,    // limits.max_minutes passed since the first trial
  kSpoutVolume,   // one more delivery could pass limits.max_volume_per_spout_ul on a spout
  kDailyWater,    // one more trial could pass the subject's daily_water_max_ml
};
inline constexpr Named<StopReason> kStopReasonNames[] = {{"max_trials", StopReason::kMaxTrials},
                                                         {"max_minutes", StopReason::kMaxMinutes},
                                                         {"max_volume_per_spout", StopReason::kSpoutVolume},
                                                         {"daily_water_max", StopReason::kDailyWater}};

// One planned trial: what to arm and everything the store logs about it (DESIGN.md decision 9). Arrays
// "by side" are indexed by wire::Side, "by valve" by wire::Valve.
struct TrialPlan {
  std::uint32_t trial_number = 0;  // 1-based within the session; also arm.trial_id
  std::uint32_t block_index = 0;   // 0-based reversal block
  wire::Side high_side = wire::Side::kLeft;
  std::array<double, 2> p_controllable_by_side{};  // the controllable probability in force on each side
  double p_distractor = 0.0;
  bool free_choice = true;
  std::optional<wire::Side> instructed_side;       // set on instructed trials
  std::array<bool, 2> controllable_drawn_by_side{};  // the controllable draw for each possible choice
  bool distractor_drawn = false;                   // the distractor draw, the same whatever the choice
  wire::Valve controllable_valve = wire::Valve::kCherry;
  wire::Valve distractor_valve = wire::Valve::kGrape;
  // What a choice of each side delivers, by wire::open_index(side, valve); 0 = nothing. On an instructed
  // trial the other side delivers nothing. arm.open_us holds the matching open times.
  std::array<double, 4> volume_ul{};
  wire::ArmTrial arm{};
  std::int64_t planned_at_us = 0;

  std::uint32_t open_us(wire::Side side, wire::Valve valve) const { return arm.open_us[wire::open_index(side, valve)]; }
  double volume(wire::Side side, wire::Valve valve) const { return volume_ul[wire::open_index(side, valve)]; }
};

// What a trial result did to the session.
struct TrialUpdate {
  std::optional<wire::Side> choice;                   // nullopt: miss, abort, no quiescence, watchdog
  bool chose_high = false;
  std::array<double, 2> delivered_ul_by_valve{};      // from the device's delivered open times
  bool reversed = false;                              // the high side flipped after this trial
  std::uint32_t block_index = 0;                      // in force for the next trial
  wire::Side high_side = wire::Side::kLeft;           // in force for the next trial
};

// The engine's complete state between trials: restoring it resumes the session exactly (same trials, same
// draws). Serialized by engine_state_to_json() / engine_state_from_json() (engine_state.hpp).
struct EngineState {
  std::uint64_t seed = 0;
  std::uint64_t trial_rng_state = 0;  // RandomStream of the per-trial draws (5 per trial)
  std::uint64_t trial_rng_draws = 0;
  std::uint64_t schedule_rng_state = 0;  // RandomStream of start side, hazard and block-length draws
  std::uint64_t schedule_rng_draws = 0;
  ScheduleState schedule;
  std::uint32_t trials_done = 0;    // results taken, any outcome
  std::uint32_t choice_trials = 0;  // results with a left or right choice
  std::deque<bool> recent_free_chose_high;  // last advance.when.window_free_trials free choices, oldest first
  std::array<double, 2> delivered_ul_by_valve{};
  double water_before_session_ul = 0.0;  // what the subject drank earlier today
  std::optional<std::int64_t> session_start_us;  // now_us of the first next_trial()
  std::optional<std::int64_t> ready_at_us;       // end of the ITI; nullopt before the first result
  std::optional<StopReason> stop_reason;

  bool operator==(const EngineState&) const = default;
};

// The session's numbers for the stage decision and the end-of-session report.
struct SessionSummary {
  std::uint32_t trials_done = 0;
  std::uint32_t choice_trials = 0;
  std::deque<bool> recent_free_chose_high;
  std::array<double, 2> delivered_ul_by_valve{};
  std::optional<StopReason> stop_reason;
};

// Runs one session of a protocol for a subject on a rig:
//   while (auto plan = engine.next_trial(now)) { arm plan->arm; wait for its TrialResult; engine.on_result(...);
//                                                 wait until engine.ready_at_us(); }
// Per trial it draws, from a seeded stream, free vs instructed (free_choice_fraction; instructed side 50/50),
// the controllable outcome for each side (p_high on the high side, p_low on the other) and one distractor
// outcome for both sides (p_distractor); these five uniform draws are taken on every trial, so trial n's
// draws depend only on the seed and n. Volumes become open times through the valve calibration. The
// schedule advances on results (ReversalSchedule); limits stop the session before they would be passed.
// Times are microseconds on any monotonic clock the caller chooses; resuming from a saved state needs a
// clock that continues across the restart (e.g. wall time). Not thread-safe: one owner (the io thread).
class TaskEngine {
 public:
  // A new session. water_before_session_ul: what the subject drank earlier today (for daily_water_max_ml).
  // Throws ConfigError when the protocol cannot run on this rig (check_compatibility()).
  TaskEngine(const Protocol& protocol, const RigConfig& rig, const Subject& subject, std::uint64_t seed,
             double water_before_session_ul = 0.0);
  // A session resumed from state(). Throws ConfigError as above, std::invalid_argument when the state does
  // not fit the protocol.
  TaskEngine(const Protocol& protocol, const RigConfig& rig, const Subject& subject, const EngineState& saved);

  // The next trial to arm, or nullopt when the session is over (stop_reason() says why). Throws
  // std::logic_error if a planned trial has no result yet or now_us is before ready_at_us().
  std::optional<TrialPlan> next_trial(std::int64_t now_us);
  // Takes the device's result of `plan` (the one next_trial returned last): accounts the delivered volume,
  // advances the schedule and starts the ITI at now_us. Throws std::invalid_argument when plan or result
  // belong to another trial, std::logic_error when no trial is outstanding.
  TrialUpdate on_result(const TrialPlan& plan, const wire::TrialResult& result, std::int64_t now_us);

  // Earliest now_us for next_trial(); the minimum int64 before the first result.
  std::int64_t ready_at_us() const;
  bool trial_outstanding() const { return outstanding_.has_value(); }
  std::optional<StopReason> stop_reason() const { return base_.stop_reason; }
  // The state to save. While a trial is outstanding it is the state before that trial was planned, so a
  // session resumed from it plans the same trial again.
  EngineState state() const;
  SessionSummary summary() const;
  // Water the subject has had today including this session, in uL.
  double water_today_ul() const;

 private:
  void init_arm_template();
  std::optional<StopReason> limit_reached(std::int64_t now_us) const;
  EngineState live_state() const;

  Protocol protocol_;
  RigConfig rig_;
  Subject subject_;
  wire::ArmTrial arm_template_{};
  EngineState base_;  // counters, volumes, times, stop reason; live_state() adds the rng and schedule fields
  RandomStream trial_rng_;
  RandomStream schedule_rng_;
  std::optional<ReversalSchedule> schedule_;
  std::optional<TrialPlan> outstanding_;
  std::optional<EngineState> before_outstanding_;
};

}  // namespace rig::task
