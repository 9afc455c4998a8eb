// The trial record of a completed trial, from what the engine planned, what the device reported and what the
// engine made of it. Every field's source is its line in host/model/trial.def.
#pragma once

#include "firmware/wire/messages.hpp"
#include "host/model/device.hpp"
#include "host/model/trial_record.hpp"
#include "host/task/engine.hpp"

namespace rig::task {

// The record of one trial: session_id, subject_id and committed_at_unix_us are left for the store to fill.
// Device times of -1 (did not happen) become NULL. Pure; thread-safe.
model::TrialRecord record_trial(const TrialPlan& plan, const wire::TrialResult& result, const model::TrialTimes& times,
                                const TrialUpdate& update);

}  // namespace rig::task
