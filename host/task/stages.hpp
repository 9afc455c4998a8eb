// Training stages: whether a subject moves on from its protocol to the next one at the end of a session.
#pragma once

#include <string>

#include "host/task/engine.hpp"
#include "host/task/protocol.hpp"

namespace rig::task {

struct AdvanceDecision {
  bool advance = false;
  std::string to;       // advance.to resolved against the protocol's file (empty if the protocol has none)
  std::string reason;   // one sentence for the operator and the session record
};

// Applies the protocol's `advance.when` to a finished session: advance when the session had at least
// min_choice_trials trials with a choice and, if min_high_fraction > 0, at least window_free_trials free
// choices of which the last window_free_trials were on the high side at least min_high_fraction of the time.
// Pure; thread-safe.
AdvanceDecision decide_advance(const Protocol& protocol, const SessionSummary& session);

}  // namespace rig::task
