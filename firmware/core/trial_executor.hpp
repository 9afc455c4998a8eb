// Runs one armed trial (quiescence -> go cue -> response window -> delivery -> result) and manual valve
// pulse trains, on the main loop, given the time.
#ifndef RIG_CORE_TRIAL_EXECUTOR_HPP
#define RIG_CORE_TRIAL_EXECUTOR_HPP

#include <stdint.h>

#include "firmware/core/command_status.hpp"
#include "firmware/core/valve_guard.hpp"
#include "firmware/hal/hal.hpp"
#include "firmware/wire/messages.hpp"

namespace rig {
namespace core {

// Where the executor's reliable events go (the device's event queue).
class EventSink {
 public:
  virtual void emit(const wire::TrialEvent& event) = 0;
  virtual void emit(const wire::TrialResult& result) = 0;
  virtual void emit(const wire::PulseDone& done) = 0;
  // Latches `fault_bit` and reports it (see Device::raise_fault).
  virtual void raise_fault(uint16_t fault_bit, uint32_t now_us, uint32_t detail) = 0;

 protected:
  ~EventSink() {}
};


// Trial flow, in the order the states follow each other:
//   kQuiescence: the wheel must stay within quiescence_tolerance_ticks of a reference for quiescence_us;
//     each excursion restarts the wait from the new position (counted in quiescence_restarts).
//   kResponse: the go cue is on for cue_duration_us; the fast path watches for a threshold crossing
//     relative to the position at the go cue, and opens that side's valves in the encoder interrupt.
//   kDelivering: the valves close by their own timers; then TrialResult is emitted and the device is idle.
// Valve open times are granted by the ValveGuard when the go cue starts (per-pulse and per-second limits).
// Not thread-safe: main loop only.
class TrialExecutor {
 public:
  TrialExecutor(hal::Hal& hal, ValveGuard& guard, EventSink& sink) : hal_(hal), guard_(guard), sink_(sink) {}

  // Arms a trial. kBadState (detail: the armed trial id) if a trial or a pulse train is running;
  // kBadArgument (detail: field number) for an invalid kind, zero threshold or zero response window;
  // kClamped (detail: the longest requested open time) if an open time exceeds the per-pulse limit.
  CommandStatus arm(const wire::ArmTrial& trial, uint32_t now_us);

  // Aborts trial `trial_id` at any point: valves close, cue stops, TrialResult kAborted follows.
  // kBadState (detail: armed trial id, 0 if none) if that trial is not the armed one.
  CommandStatus abort(uint32_t trial_id, uint32_t now_us);

  // Starts `count` pulses of open_us on `valve`, one every interval_us. Each pulse waits, if needed, until
  // the per-second window allows its full length, so every pulse of a train is the same.
  CommandStatus pulse(const wire::PulseValve& command, uint32_t now_us);

  // Safety stop (watchdog): closes valves, stops the cue, ends an armed trial with kWatchdogAbort and a
  // pulse train with a PulseDone for the pulses delivered.
  void emergency_stop(uint32_t now_us);

  // Advances the trial and the pulse train to `now_us`: takes a fired choice from the fast path, starts
  // the go cue, ends the response window, notices closed valves.
  void poll(uint32_t now_us);

  wire::TrialState state() const { return state_; }
  uint32_t armed_trial_id() const { return state_ == wire::TrialState::kIdle ? 0 : trial_.trial_id; }
  // The armed trial's kind (wire::TrialKind): what the rig shows the animal (one side offered on an instructed
  // trial). kFree when idle.
  uint8_t armed_trial_kind() const {
    return state_ == wire::TrialState::kIdle ? static_cast<uint8_t>(wire::TrialKind::kFree) : trial_.kind;
  }
  bool pulse_train_running() const { return train_remaining_ > 0 || train_valve_open_; }

 private:
  void start_response(uint32_t now_us, int32_t position_ticks);
  void take_choice(const FiredChoice& fired);
  void finish(wire::TrialOutcome outcome, uint32_t now_us);
  void stop_everything(uint32_t now_us);
  void poll_train(uint32_t now_us);
  void emit_event(wire::TrialEventKind kind, uint32_t t_us, int32_t position_ticks);
  int32_t position();

  hal::Hal& hal_;
  ValveGuard& guard_;
  EventSink& sink_;

  wire::TrialState state_ = wire::TrialState::kIdle;
  wire::ArmTrial trial_ = {};
  wire::TrialResult result_ = {};
  uint32_t granted_open_us_[2][wire::kValveCount] = {};
  int32_t quiescence_ref_ticks_ = 0;
  uint32_t quiescence_start_us_ = 0;
  uint32_t response_deadline_us_ = 0;
  uint32_t cue_off_us_ = 0;
  bool cue_on_ = false;

  wire::PulseValve train_ = {};
  uint16_t train_remaining_ = 0;
  uint16_t train_delivered_ = 0;
  uint32_t train_next_us_ = 0;
  bool train_valve_open_ = false;
};

}  // namespace core
}  // namespace rig

#endif
