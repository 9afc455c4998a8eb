#include "firmware/core/trial_executor.hpp"

#include <string.h>

#include "firmware/core/time.hpp"

namespace rig {
namespace core {
namespace {

uint8_t side_index(wire::Side side) { return static_cast<uint8_t>(side); }

bool side_counts(wire::TrialKind kind, wire::Side side) {
  if (kind == wire::TrialKind::kInstructedLeft) return side == wire::Side::kLeft;
  if (kind == wire::TrialKind::kInstructedRight) return side == wire::Side::kRight;
  return true;
}

}  // namespace

int32_t TrialExecutor::position() {
  int32_t position_ticks = 0;
  uint16_t invalid = 0;
  hal_.read_encoder(&position_ticks, &invalid);
  return position_ticks;
}

void TrialExecutor::emit_event(wire::TrialEventKind kind, uint32_t t_us, int32_t position_ticks) {
  wire::TrialEvent event;
  event.trial_id = trial_.trial_id;
  event.event = static_cast<uint8_t>(kind);
  event.t_us = t_us;
  event.position_ticks = position_ticks;
  sink_.emit(event);
}

CommandStatus TrialExecutor::arm(const wire::ArmTrial& trial, uint32_t now_us) {
  if (state_ != wire::TrialState::kIdle || pulse_train_running()) {
    return CommandStatus{wire::AckStatus::kBadState, armed_trial_id()};
  }
  if (trial.kind > static_cast<uint8_t>(wire::TrialKind::kInstructedRight)) {
    return CommandStatus{wire::AckStatus::kBadArgument, 2};
  }
  const wire::TrialKind kind = static_cast<wire::TrialKind>(trial.kind);
  if ((side_counts(kind, wire::Side::kLeft) && trial.threshold_left_ticks == 0) ||
      (side_counts(kind, wire::Side::kRight) && trial.threshold_right_ticks == 0)) {
    return CommandStatus{wire::AckStatus::kBadArgument, 8};
  }
  if (trial.response_window_us == 0) return CommandStatus{wire::AckStatus::kBadArgument, 7};

  CommandStatus status = {wire::AckStatus::kOk, 0};
  for (uint8_t i = 0; i < 2 * wire::kValveCount; ++i) {
    if (trial.open_us[i] > guard_.limits().max_open_us && trial.open_us[i] > status.detail) {
      status = CommandStatus{wire::AckStatus::kClamped, trial.open_us[i]};
    }
  }
  if (status.status == wire::AckStatus::kClamped) {
    sink_.raise_fault(wire::kFaultValveLimit, now_us, status.detail);
  }

  trial_ = trial;
  memset(&result_, 0, sizeof(result_));
  memset(granted_open_us_, 0, sizeof(granted_open_us_));
  result_.trial_id = trial.trial_id;
  result_.kind = trial.kind;
  result_.armed_t_us = now_us;
  quiescence_ref_ticks_ = position();
  quiescence_start_us_ = now_us;
  state_ = wire::TrialState::kQuiescence;
  emit_event(wire::TrialEventKind::kArmed, now_us, quiescence_ref_ticks_);
  return status;
}

void TrialExecutor::start_response(uint32_t now_us, int32_t position_ticks) {
  ChoiceArm choice;
  choice.left_limit_ticks = position_ticks - static_cast<int32_t>(trial_.threshold_left_ticks);
  choice.right_limit_ticks = position_ticks + static_cast<int32_t>(trial_.threshold_right_ticks);
  const wire::TrialKind kind = static_cast<wire::TrialKind>(trial_.kind);
  choice.left_counts = side_counts(kind, wire::Side::kLeft);
  choice.right_counts = side_counts(kind, wire::Side::kRight);
  for (uint8_t side = 0; side < 2; ++side) {
    for (uint8_t valve = 0; valve < wire::kValveCount; ++valve) {
      const uint32_t requested = trial_.open_us[side * wire::kValveCount + valve];
      const uint32_t granted = guard_.grant(valve, requested, now_us);
      if (granted < requested) result_.flags |= wire::kResultClamped;
      granted_open_us_[side][valve] = granted;
      choice.open_us[side][valve] = granted;
      if (granted > 0) choice.valves[side] |= static_cast<uint8_t>(1u << valve);
    }
  }
  {
    hal::Locked lock(hal_);
    hal_.fast_path().arm(choice);
  }
  // Armed before the cue: a mouse that reacts instantly is still caught.
  hal_.set_cue(trial_.cue_id, true);
  cue_on_ = true;
  cue_off_us_ = now_us + trial_.cue_duration_us;
  response_deadline_us_ = now_us + trial_.response_window_us;
  result_.go_cue_t_us = now_us;
  state_ = wire::TrialState::kResponse;
  emit_event(wire::TrialEventKind::kGoCue, now_us, position_ticks);
}

void TrialExecutor::take_choice(const FiredChoice& fired) {
  const uint8_t side = side_index(fired.side);
  result_.outcome = static_cast<uint8_t>(fired.side);
  result_.choice_t_us = fired.t_us;
  result_.valve_open_t_us = fired.valves != 0 ? fired.t_us : 0;
  result_.position_at_choice_ticks = fired.position_ticks;
  if (fired.wrong_side_crossed) result_.flags |= wire::kResultWrongSide;
  for (uint8_t valve = 0; valve < wire::kValveCount; ++valve) {
    const bool opened = (fired.valves & (1u << valve)) != 0;
    result_.delivered_open_us[valve] = opened ? granted_open_us_[side][valve] : 0;
    if (opened) guard_.record(valve, fired.t_us, granted_open_us_[side][valve]);
  }
  emit_event(wire::TrialEventKind::kChoice, fired.t_us, fired.position_ticks);
  state_ = wire::TrialState::kDelivering;
}

void TrialExecutor::finish(wire::TrialOutcome outcome, uint32_t now_us) {
  (void)now_us;
  if (cue_on_) {
    // The cue belongs to its trial: the next trial's go cue must be a fresh onset.
    hal_.set_cue(trial_.cue_id, false);
    cue_on_ = false;
  }
  result_.outcome = static_cast<uint8_t>(outcome);
  state_ = wire::TrialState::kIdle;
  sink_.emit(result_);
}

void TrialExecutor::stop_everything(uint32_t now_us) {
  FiredChoice fired;
  bool have_choice = false;
  {
    hal::Locked lock(hal_);
    if (hal_.fast_path().disarm()) have_choice = hal_.fast_path().take_fired(&fired);
  }
  hal_.close_all_valves();
  hal_.set_cue(trial_.cue_id, false);
  cue_on_ = false;
  if (state_ == wire::TrialState::kResponse && have_choice) take_choice(fired);
  if (state_ == wire::TrialState::kDelivering && result_.valve_open_t_us != 0) {
    // Cut short: report what actually flowed, never more than was granted.
    const int32_t open_for_us = elapsed_us(now_us, result_.valve_open_t_us);
    for (uint8_t valve = 0; valve < wire::kValveCount; ++valve) {
      if (open_for_us >= 0 && static_cast<uint32_t>(open_for_us) < result_.delivered_open_us[valve]) {
        result_.delivered_open_us[valve] = static_cast<uint32_t>(open_for_us);
      }
    }
  }
}

CommandStatus TrialExecutor::abort(uint32_t trial_id, uint32_t now_us) {
  if (state_ == wire::TrialState::kIdle || trial_id != trial_.trial_id) {
    return CommandStatus{wire::AckStatus::kBadState, armed_trial_id()};
  }
  stop_everything(now_us);
  finish(wire::TrialOutcome::kAborted, now_us);
  return CommandStatus{wire::AckStatus::kOk, 0};
}

void TrialExecutor::emergency_stop(uint32_t now_us) {
  if (state_ != wire::TrialState::kIdle) {
    stop_everything(now_us);
    finish(wire::TrialOutcome::kWatchdogAbort, now_us);
  } else {
    hal_.close_all_valves();
    hal_.set_cue(trial_.cue_id, false);
    cue_on_ = false;
  }
  if (pulse_train_running()) {
    wire::PulseDone done;
    done.valve = train_.valve;
    // A pulse cut short by the stop is not a delivered pulse: calibration must not count it.
    done.count = train_valve_open_ && train_delivered_ > 0 ? static_cast<uint16_t>(train_delivered_ - 1) : train_delivered_;
    done.open_us = train_.open_us;
    train_remaining_ = 0;
    train_valve_open_ = false;
    train_delivered_ = 0;
    sink_.emit(done);
  }
}

CommandStatus TrialExecutor::pulse(const wire::PulseValve& command, uint32_t now_us) {
  if (state_ != wire::TrialState::kIdle || pulse_train_running()) {
    return CommandStatus{wire::AckStatus::kBadState, armed_trial_id()};
  }
  if (command.valve >= wire::kValveCount) return CommandStatus{wire::AckStatus::kBadArgument, 1};
  if (command.count == 0) return CommandStatus{wire::AckStatus::kBadArgument, 2};
  if (command.open_us == 0) return CommandStatus{wire::AckStatus::kBadArgument, 3};
  CommandStatus status = {wire::AckStatus::kOk, 0};
  train_ = command;
  if (train_.open_us > guard_.limits().max_open_us) {
    status = CommandStatus{wire::AckStatus::kClamped, train_.open_us};
    sink_.raise_fault(wire::kFaultValveLimit, now_us, train_.open_us);
    train_.open_us = guard_.limits().max_open_us;
  }
  if (command.count > 1 && command.interval_us <= train_.open_us) {
    return CommandStatus{wire::AckStatus::kBadArgument, 4};
  }
  train_remaining_ = command.count;
  train_delivered_ = 0;
  train_next_us_ = now_us;
  train_valve_open_ = false;
  return status;
}

void TrialExecutor::poll_train(uint32_t now_us) {
  const uint8_t bit = static_cast<uint8_t>(1u << train_.valve);
  if (train_valve_open_ && (hal_.open_valve_mask() & bit) == 0) {
    train_valve_open_ = false;
    if (train_remaining_ == 0) {
      wire::PulseDone done;
      done.valve = train_.valve;
      done.count = train_delivered_;
      done.open_us = train_.open_us;
      train_delivered_ = 0;
      sink_.emit(done);
    }
  }
  if (train_remaining_ == 0 || train_valve_open_ || !reached(now_us, train_next_us_)) return;
  if (guard_.grant(train_.valve, train_.open_us, now_us) < train_.open_us) return;  // wait for the window
  uint32_t open_us[wire::kValveCount] = {0, 0};
  open_us[train_.valve] = train_.open_us;
  const uint32_t opened_us = hal_.open_valves(bit, open_us);
  guard_.record(train_.valve, opened_us, train_.open_us);
  train_valve_open_ = true;
  --train_remaining_;
  ++train_delivered_;
  train_next_us_ += train_.interval_us;
}

void TrialExecutor::poll(uint32_t now_us) {
  if (cue_on_ && reached(now_us, cue_off_us_)) {
    hal_.set_cue(trial_.cue_id, false);
    cue_on_ = false;
  }
  switch (state_) {
    case wire::TrialState::kIdle:
      break;
    case wire::TrialState::kQuiescence: {
      const int32_t now_ticks = position();
      int32_t moved = now_ticks - quiescence_ref_ticks_;
      if (moved < 0) moved = -moved;
      if (moved > static_cast<int32_t>(trial_.quiescence_tolerance_ticks)) {
        quiescence_ref_ticks_ = now_ticks;
        quiescence_start_us_ = now_us;
        if (result_.quiescence_restarts != 0xFFFFu) ++result_.quiescence_restarts;
      } else if (reached(now_us, quiescence_start_us_ + trial_.quiescence_us)) {
        start_response(now_us, now_ticks);
        break;
      }
      if (trial_.quiescence_timeout_us != 0 &&
          reached(now_us, result_.armed_t_us + trial_.quiescence_timeout_us)) {
        finish(wire::TrialOutcome::kNoQuiescence, now_us);
      }
      break;
    }
    case wire::TrialState::kResponse: {
      FiredChoice fired;
      bool have_choice = false;
      bool wrong_side = false;
      const bool window_over = reached(now_us, response_deadline_us_);
      if (!window_over && !hal_.fast_path().fired_pending()) break;
      {
        hal::Locked lock(hal_);
        core::FastPath& fast = hal_.fast_path();
        if (window_over) fast.disarm();
        have_choice = fast.take_fired(&fired);
        wrong_side = fast.wrong_side_crossed();
      }
      if (have_choice) {
        take_choice(fired);
        if (fired.valves == 0) finish(fired.side == wire::Side::kLeft ? wire::TrialOutcome::kLeft
                                                                       : wire::TrialOutcome::kRight,
                                      now_us);
      } else if (window_over) {
        if (wrong_side) result_.flags |= wire::kResultWrongSide;
        finish(wire::TrialOutcome::kMiss, now_us);
      }
      break;
    }
    case wire::TrialState::kDelivering: {
      uint8_t delivering = 0;
      for (uint8_t valve = 0; valve < wire::kValveCount; ++valve) {
        if (result_.delivered_open_us[valve] != 0) delivering |= static_cast<uint8_t>(1u << valve);
      }
      if ((hal_.open_valve_mask() & delivering) == 0) {
        emit_event(wire::TrialEventKind::kValvesClosed, now_us, position());
        finish(static_cast<wire::TrialOutcome>(result_.outcome), now_us);
      }
      break;
    }
  }
  poll_train(now_us);
}

}  // namespace core
}  // namespace rig
