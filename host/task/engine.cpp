#include "host/task/engine.hpp"

#include <limits>
#include <stdexcept>

namespace rig::task {
namespace {

// Per-trial draws, always all taken so that trial n's draws depend only on the seed and n.
constexpr int kDrawsPerTrial = 5;
// Volumes are sums of decimal microlitres: compare limits with a margin far below any delivery.
constexpr double kVolumeEpsilonUl = 1e-6;
constexpr std::uint64_t kScheduleStreamSalt = 0x5EED5C4EDD1E0001ULL;

constexpr std::size_t index(wire::Side side) { return static_cast<std::size_t>(side); }
constexpr std::size_t index(wire::Valve valve) { return static_cast<std::size_t>(valve); }

std::uint32_t ms_to_us(std::int64_t ms) { return static_cast<std::uint32_t>(ms * 1000); }

void require_compatible(const Protocol& protocol, const RigConfig& rig) {
  auto problems = check_compatibility(protocol, rig);
  if (!problems.empty()) throw ConfigError(std::move(problems));
}

std::optional<wire::Side> chosen_side(const wire::TrialResult& result) {
  switch (static_cast<wire::TrialOutcome>(result.outcome)) {
    case wire::TrialOutcome::kLeft:
      return wire::Side::kLeft;
    case wire::TrialOutcome::kRight:
      return wire::Side::kRight;
    default:
      return std::nullopt;
  }
}

}  // namespace

TaskEngine::TaskEngine(const Protocol& protocol, const RigConfig& rig, const Subject& subject, std::uint64_t seed,
                       double water_before_session_ul)
    : protocol_(protocol),
      rig_(rig),
      subject_(subject),
      trial_rng_(seed),
      schedule_rng_(mix64(seed ^ kScheduleStreamSalt)) {
  require_compatible(protocol_, rig_);
  init_arm_template();
  base_.seed = seed;
  base_.water_before_session_ul = water_before_session_ul;
  schedule_.emplace(protocol_.schedule.reversal, protocol_.schedule.start_side, schedule_rng_);
}

TaskEngine::TaskEngine(const Protocol& protocol, const RigConfig& rig, const Subject& subject, const EngineState& saved)
    : protocol_(protocol),
      rig_(rig),
      subject_(subject),
      base_(saved),
      trial_rng_(RandomStream::restore(saved.trial_rng_state, saved.trial_rng_draws)),
      schedule_rng_(RandomStream::restore(saved.schedule_rng_state, saved.schedule_rng_draws)) {
  require_compatible(protocol_, rig_);
  init_arm_template();
  const std::size_t window = protocol_.advance ? static_cast<std::size_t>(protocol_.advance->window_free_trials) : 0;
  if (saved.recent_free_chose_high.size() > window) {
    throw std::invalid_argument("saved engine state has " + std::to_string(saved.recent_free_chose_high.size()) +
                                " recent free choices; the protocol's advance window is " + std::to_string(window));
  }
  schedule_.emplace(protocol_.schedule.reversal, saved.schedule);
}

void TaskEngine::init_arm_template() {
  const auto ticks = wheel_ticks(protocol_, rig_);
  const auto& trial = protocol_.trial;
  arm_template_.cue_id = rig_.cues.at(trial.go_cue);
  arm_template_.quiescence_us = ms_to_us(trial.quiescence_ms);
  arm_template_.quiescence_tolerance_ticks = ticks.quiescence_tolerance_ticks;
  arm_template_.quiescence_timeout_us = ms_to_us(trial.quiescence_timeout_ms);
  arm_template_.response_window_us = ms_to_us(trial.response_window_ms);
  arm_template_.threshold_left_ticks = ticks.threshold_ticks;
  arm_template_.threshold_right_ticks = ticks.threshold_ticks;
  arm_template_.cue_duration_us = ms_to_us(trial.cue_duration_ms);
}

std::int64_t TaskEngine::ready_at_us() const {
  return base_.ready_at_us.value_or(std::numeric_limits<std::int64_t>::min());
}

std::optional<StopReason> TaskEngine::limit_reached(std::int64_t now_us) const {
  const auto& limits = protocol_.limits;
  if (limits.max_trials && base_.trials_done >= *limits.max_trials) return StopReason::kMaxTrials;
  if (limits.max_minutes && base_.session_start_us &&
      static_cast<double>(now_us - *base_.session_start_us) >= *limits.max_minutes * 60e6) {
    return StopReason::kMaxMinutes;
  }
  // The largest next trial delivers one controllable and one distractor reward.
  std::array<double, 2> next_ul{};
  next_ul[index(subject_.controllable)] = protocol_.rewards.controllable_volume_ul;
  next_ul[index(subject_.distractor())] = protocol_.rewards.distractor_volume_ul;
  if (limits.max_volume_per_spout_ul) {
    for (std::size_t v = 0; v < next_ul.size(); ++v) {
      if (base_.delivered_ul_by_valve[v] + next_ul[v] > *limits.max_volume_per_spout_ul + kVolumeEpsilonUl) {
        return StopReason::kSpoutVolume;
      }
    }
  }
  if (subject_.daily_water_max_ml &&
      water_today_ul() + next_ul[0] + next_ul[1] > *subject_.daily_water_max_ml * 1000.0 + kVolumeEpsilonUl) {
    return StopReason::kDailyWater;
  }
  return std::nullopt;
}

std::optional<TrialPlan> TaskEngine::next_trial(std::int64_t now_us) {
  if (outstanding_) throw std::logic_error("next_trial: trial " + std::to_string(outstanding_->trial_number) +
                                           " has no result yet");
  if (base_.stop_reason) return std::nullopt;
  if (now_us < ready_at_us()) throw std::logic_error("next_trial: called before the inter-trial interval ended");
  if (!base_.session_start_us) base_.session_start_us = now_us;
  if (const auto reason = limit_reached(now_us)) {
    base_.stop_reason = reason;
    return std::nullopt;
  }
  before_outstanding_ = live_state();

  const auto& schedule = protocol_.schedule;
  const double u_free = trial_rng_.uniform();
  const double u_instructed_side = trial_rng_.uniform();
  const std::array<double, 2> u_controllable{trial_rng_.uniform(), trial_rng_.uniform()};
  const double u_distractor = trial_rng_.uniform();
  static_assert(kDrawsPerTrial == 5, "the draws above are the trial's whole share of the stream");

  TrialPlan plan;
  plan.trial_number = base_.trials_done + 1;
  plan.block_index = schedule_->state().block_index;
  plan.high_side = schedule_->high_side();
  plan.free_choice = u_free < schedule.free_choice_fraction;
  if (!plan.free_choice) plan.instructed_side = u_instructed_side < 0.5 ? wire::Side::kLeft : wire::Side::kRight;
  plan.p_distractor = schedule.p_distractor;
  plan.distractor_drawn = u_distractor < schedule.p_distractor;
  plan.controllable_valve = subject_.controllable;
  plan.distractor_valve = subject_.distractor();
  plan.arm = arm_template_;
  plan.arm.trial_id = plan.trial_number;
  plan.arm.kind = static_cast<std::uint8_t>(
      plan.free_choice ? wire::TrialKind::kFree
                       : (*plan.instructed_side == wire::Side::kLeft ? wire::TrialKind::kInstructedLeft
                                                                     : wire::TrialKind::kInstructedRight));
  plan.planned_at_us = now_us;
  for (const auto side : {wire::Side::kLeft, wire::Side::kRight}) {
    const double p = side == plan.high_side ? schedule.p_high : schedule.p_low;
    plan.p_controllable_by_side[index(side)] = p;
    plan.controllable_drawn_by_side[index(side)] = u_controllable[index(side)] < p;
    // On an instructed trial only the instructed side may deliver; the draws are logged all the same.
    if (plan.instructed_side && *plan.instructed_side != side) continue;
    const auto set = [&](wire::Valve valve, double volume_ul) {
      const auto i = wire::open_index(side, valve);
      plan.volume_ul[i] = volume_ul;
      // check_compatibility() guaranteed the volumes are within both calibration tables.
      plan.arm.open_us[i] = open_us_for_volume(rig_.table(valve), volume_ul).value();
    };
    if (plan.controllable_drawn_by_side[index(side)]) set(plan.controllable_valve, protocol_.rewards.controllable_volume_ul);
    if (plan.distractor_drawn) set(plan.distractor_valve, protocol_.rewards.distractor_volume_ul);
  }
  outstanding_ = plan;
  return plan;
}

TrialUpdate TaskEngine::on_result(const TrialPlan& plan, const wire::TrialResult& result, std::int64_t now_us) {
  if (!outstanding_) throw std::logic_error("on_result: no trial is outstanding");
  const std::uint32_t result_trial_id = result.trial_id;
  if (plan.trial_number != outstanding_->trial_number || result_trial_id != plan.trial_number) {
    throw std::invalid_argument("on_result: result for trial " + std::to_string(result_trial_id) + " with plan " +
                                std::to_string(plan.trial_number) + ", but trial " +
                                std::to_string(outstanding_->trial_number) + " is outstanding");
  }
  TrialUpdate update;
  update.choice = chosen_side(result);
  for (const auto valve : {wire::Valve::kCherry, wire::Valve::kGrape}) {
    const std::uint32_t delivered_us = result.delivered_open_us[index(valve)];
    // The planned volume is exact; the calibration's inverse is used only when the device delivered
    // something else (clamped).
    const bool as_planned = update.choice && delivered_us == plan.open_us(*update.choice, valve);
    const double volume_ul =
        as_planned ? plan.volume(*update.choice, valve) : volume_for_open_us(rig_.table(valve), delivered_us);
    update.delivered_ul_by_valve[index(valve)] = volume_ul;
    base_.delivered_ul_by_valve[index(valve)] += volume_ul;
  }
  ++base_.trials_done;
  if (update.choice) {
    ++base_.choice_trials;
    update.chose_high = *update.choice == plan.high_side;
    if (plan.free_choice && protocol_.advance) {
      auto& recent = base_.recent_free_chose_high;
      recent.push_back(update.chose_high);
      if (recent.size() > static_cast<std::size_t>(protocol_.advance->window_free_trials)) recent.pop_front();
    }
    update.reversed = schedule_->on_choice(plan.free_choice, *update.choice, schedule_rng_);
  }
  update.block_index = schedule_->state().block_index;
  update.high_side = schedule_->high_side();
  base_.ready_at_us = now_us + protocol_.trial.iti_ms * 1000;
  outstanding_.reset();
  before_outstanding_.reset();
  return update;
}

EngineState TaskEngine::live_state() const {
  EngineState state = base_;
  state.trial_rng_state = trial_rng_.state();
  state.trial_rng_draws = trial_rng_.draws();
  state.schedule_rng_state = schedule_rng_.state();
  state.schedule_rng_draws = schedule_rng_.draws();
  state.schedule = schedule_->state();
  return state;
}

EngineState TaskEngine::state() const { return before_outstanding_ ? *before_outstanding_ : live_state(); }

SessionSummary TaskEngine::summary() const {
  return SessionSummary{base_.trials_done, base_.choice_trials, base_.recent_free_chose_high,
                        base_.delivered_ul_by_valve, base_.stop_reason};
}

double TaskEngine::water_today_ul() const {
  return base_.water_before_session_ul + base_.delivered_ul_by_valve[0] + base_.delivered_ul_by_valve[1];
}

}  // namespace rig::task
