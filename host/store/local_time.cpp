#include "host/store/local_time.hpp"

#include <ctime>

namespace rig::store {

std::int64_t system_clock_unix_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t local_midnight_unix_us(std::chrono::year_month_day date) {
  std::tm tm{};
  tm.tm_year = static_cast<int>(date.year()) - 1900;
  tm.tm_mon = static_cast<int>(static_cast<unsigned>(date.month())) - 1;
  tm.tm_mday = static_cast<int>(static_cast<unsigned>(date.day()));
  tm.tm_isdst = -1;
  return static_cast<std::int64_t>(std::mktime(&tm)) * 1'000'000;
}

std::chrono::sys_days local_day_of(std::int64_t unix_us) {
  const auto seconds = static_cast<std::time_t>(unix_us >= 0 ? unix_us / 1'000'000 : (unix_us - 999'999) / 1'000'000);
  std::tm local{};
  localtime_r(&seconds, &local);
  return std::chrono::sys_days(std::chrono::year_month_day{std::chrono::year{local.tm_year + 1900},
                                                           std::chrono::month{static_cast<unsigned>(local.tm_mon + 1)},
                                                           std::chrono::day{static_cast<unsigned>(local.tm_mday)}});
}

}  // namespace rig::store
