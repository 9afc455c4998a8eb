// `rig sessions [--subject S] [--db PATH]`: the stored sessions with trial counts, start and end, why they
// ended, choice counts and the percentage of choices on the controllable flavour's high side.
// Exit 2 when the database does not exist, 1 for runtime failures.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <string>

#include "command_registry.hpp"
#include "store_access.hpp"
#include "host/store/store.hpp"

namespace {

struct SessionsOptions {
  std::string db;
  std::string subject;
};

int run_sessions(const SessionsOptions& options) {
  int exit_code = rig::app::kExitOk;
  auto store = rig::app::open_store_reading("sessions", options.db, exit_code);
  if (!store) return exit_code;
  const auto path = options.db.empty() ? rig::store::Store::default_path() : options.db;
  const auto sessions = store->sessions(options.subject);
  if (sessions.empty()) {
    std::printf(options.subject.empty() ? "no sessions in %s\n" : "no sessions of %s in %s\n",
                options.subject.empty() ? path.c_str() : options.subject.c_str(), path.c_str());
    return rig::app::kExitOk;
  }
  std::printf("%-7s %-10s %-20s %-20s %6s %5s %5s %6s  %s\n", "session", "subject", "started (UTC)", "ended (UTC)",
              "trials", "left", "right", "%high", "end");
  for (const auto& s : sessions) {
    const auto choices = s.left_choices + s.right_choices;
    const std::string high =
        choices > 0 ? std::to_string(100 * s.high_side_choices / choices) + "%" : std::string("-");
    const std::string ended = s.ended_at_utc ? s.ended_at_utc->substr(0, 19) : std::string("(running)");
    std::string reason = s.end_reason.value_or("");
    if (s.resume_count > 0) reason += " (resumed " + std::to_string(s.resume_count) + "x)";
    std::printf("%-7lld %-10s %-20s %-20s %6lld %5lld %5lld %6s  %s\n", static_cast<long long>(s.session_id),
                s.subject_id.c_str(), s.started_at_utc.substr(0, 19).c_str(), ended.c_str(),
                static_cast<long long>(s.trial_count), static_cast<long long>(s.left_choices),
                static_cast<long long>(s.right_choices), high.c_str(), reason.c_str());
  }
  return rig::app::kExitOk;
}

const rig::app::CommandRegistration kSessionsRegistration{
    "sessions", "List stored sessions with trial counts, start/end, end reason and choice counts",
    [](CLI::App& command) {
      auto options = std::make_shared<SessionsOptions>();
      command.add_option("--db", options->db, "Store database (default: $XDG_DATA_HOME/rig/rig.sqlite)");
      command.add_option("--subject", options->subject, "Only this subject's sessions");
      return [options] { return run_sessions(*options); };
    }};

}  // namespace
