// The welfare record around sessions and commands: reading a subject's day from the store, recording weighings
// and water with the checks of docs/operator-guide.md, and settling today's weight before a session.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "host/store/local_time.hpp"
#include "host/store/store.hpp"
#include "host/store/subject_elsewhere.hpp"
#include "host/task/subject.hpp"
#include "host/task/welfare.hpp"

namespace rig::app {

// The host's local day of a time (microseconds since the Unix epoch; the store's definition), and today's. Read
// the time zone (and the clock, for today); thread-safe.
using store::local_day_of;
std::chrono::sys_days local_today();
// The next time the host's local clock shows `minute_of_day` (0..1439), after now. Reads the clock and the time
// zone; thread-safe.
std::chrono::system_clock::time_point next_local_minute(int minute_of_day);

// The subject's welfare day as of `today` from `db`, with what other rigs recorded (`elsewhere`, from the lab;
// may be null): their weighings, water by hand and trials' rewards count as this rig's do. Reads the database;
// throws store::StoreError.
task::WelfareStatus read_welfare(const store::Store& db, const task::Subject& subject, std::chrono::sys_days today,
                                 const store::SubjectElsewhere* elsewhere = nullptr);

// The welfare day as JSON and its flags (host/task/welfare.hpp), as rig and rigd name them.
using task::welfare_flags;
using task::welfare_json;

// The operator's login name ($USER, else the password database's entry, else "unknown"). Thread-safe.
std::string login_name();

// Records a weighing of `subject` at the store's clock: refused (task::weight_problem) with an InputError naming
// the subject, nothing stored; `force_reason` accepts a weight far from the last one and is kept as its note.
// Returns the row. Throws InputError, store::StoreError.
model::Weighing record_weighing(store::Store& db, const task::Subject& subject, double weight_g, bool baseline,
                                const std::string& who, const std::string& force_reason = {});

// Records water given by hand to `subject` at the store's clock: `kind` "topup", "gel" or "free", `volume_ul` in
// (0, 5000]; refused with an InputError (nothing stored) otherwise. Returns the row. Throws InputError,
// store::StoreError.
model::WaterGiven record_water(store::Store& db, const task::Subject& subject, double volume_ul, const std::string& kind,
                               const std::string& who);

// The subject's day as of today from the database at `db_path`, opened read-only (none there yet: a day with
// nothing recorded). Reads the database; throws store::StoreError.
task::WelfareStatus welfare_at(const std::string& db_path, const task::Subject& subject);

// How a session learns the subject's weight today (SessionHost::prepare).
struct WeightSource {
  std::optional<double> weight_g;  // given with the start (`rig run --weight`, a start request's weight_g)
  std::string override_reason;     // `--override-weight REASON`: train under the threshold, stored with the session
  // Asks the operator at a terminal ("" when the input ended); empty: there is nobody to ask.
  std::function<std::string(const std::string& prompt)> ask;
  bool simulated_body = false;     // a simulated subject on a simulated rig: its body gives the weight
  std::string who;                 // who weighs (login_name() when empty)
};

// Today's weight and whether the subject may train: the weight given (recorded), else today's last weighing,
// else the simulated body's for a simulated subject (recorded as "simulated body"), else the operator's answer
// (recorded). Returns the
// `weight_check` event's detail (weight_g, source, baseline, percent_of_baseline, min_weight_percent,
// under_threshold, override_reason) and the status after the weighing. Throws InputError when no weight can be
// had or it is refused, WelfareRefusal under the threshold without an override reason.
struct WeightCheck {
  nlohmann::json detail;
  task::WelfareStatus status;
};
// `elsewhere` (may be null): the subject's record on other rigs (read_welfare), e.g. a weighing at another rig
// today.
WeightCheck check_weight_before_session(store::Store& db, const task::Subject& subject, const WeightSource& source,
                                        const store::SubjectElsewhere* elsewhere = nullptr);

}  // namespace rig::app
