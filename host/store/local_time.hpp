// The wall clock and the host's local days, as the store and its exports (and the welfare record above them)
// count them: one definition of "the day a time falls on" and "midnight of a day".
#pragma once

#include <chrono>
#include <cstdint>

namespace rig::store {

// Now, microseconds since the Unix epoch (UTC). Reads the clock; thread-safe.
std::int64_t system_clock_unix_us();
// Local midnight starting `date`, microseconds since the Unix epoch (mktime: the host's time zone and its DST).
// Reads the time zone; thread-safe.
std::int64_t local_midnight_unix_us(std::chrono::year_month_day date);
// The host's local day of a time (microseconds since the Unix epoch). Reads the time zone; thread-safe.
std::chrono::sys_days local_day_of(std::int64_t unix_us);

}  // namespace rig::store
