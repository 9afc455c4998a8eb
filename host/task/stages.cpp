#include "host/task/stages.hpp"

#include <algorithm>
#include <cstdio>

#include "host/task/compatibility.hpp"

namespace rig::task {
namespace {

std::string fraction_text(double value) {
  char text[16];
  std::snprintf(text, sizeof text, "%.2f", value);
  return text;
}

}  // namespace

AdvanceDecision decide_advance(const Protocol& protocol, const SessionSummary& session) {
  AdvanceDecision decision;
  if (!protocol.advance) {
    decision.reason = "stay: protocol " + protocol.name + " states no advance criterion";
    return decision;
  }
  const auto& when = *protocol.advance;
  decision.to = resolve_relative(protocol.source_file, when.to);
  if (session.choice_trials < when.min_choice_trials) {
    decision.reason = "stay: " + std::to_string(session.choice_trials) + " trials with a choice, fewer than the " +
                      std::to_string(when.min_choice_trials) + " required";
    return decision;
  }
  std::string high_text;
  if (when.min_high_fraction > 0.0) {
    const auto window = static_cast<std::size_t>(when.window_free_trials);
    const auto& recent = session.recent_free_chose_high;
    if (recent.size() < window) {
      decision.reason = "stay: " + std::to_string(recent.size()) + " free choices, fewer than the window of " +
                        std::to_string(window) + " the criterion needs";
      return decision;
    }
    const auto high = std::count(recent.end() - static_cast<std::ptrdiff_t>(window), recent.end(), true);
    const double fraction = static_cast<double>(high) / static_cast<double>(window);
    if (fraction < when.min_high_fraction) {
      decision.reason = "stay: high side chosen on " + fraction_text(fraction) + " of the last " +
                        std::to_string(window) + " free choices, below " + fraction_text(when.min_high_fraction);
      return decision;
    }
    high_text = " and the high side on " + fraction_text(fraction) + " of the last " + std::to_string(window) +
                " free choices (at least " + fraction_text(when.min_high_fraction) + ")";
  }
  decision.advance = true;
  decision.reason = "advance to " + when.to + ": " + std::to_string(session.choice_trials) +
                    " trials with a choice (at least " + std::to_string(when.min_choice_trials) + ")" + high_text;
  return decision;
}

}  // namespace rig::task
