// Device time helpers: the device clock is a free-running uint32 microsecond counter that wraps every 71.6 min.
// Every comparison goes through the signed difference so wrap-around is harmless for intervals < 35 min.
#ifndef RIG_CORE_TIME_HPP
#define RIG_CORE_TIME_HPP

#include <stdint.h>

namespace rig {
namespace core {

// Microseconds from `earlier_us` to `later_us` (negative if `later_us` is before). Pure.
inline int32_t elapsed_us(uint32_t later_us, uint32_t earlier_us) {
  return static_cast<int32_t>(later_us - earlier_us);
}

// True once `now_us` has reached `deadline_us`. Pure.
inline bool reached(uint32_t now_us, uint32_t deadline_us) { return elapsed_us(now_us, deadline_us) >= 0; }

}  // namespace core
}  // namespace rig

#endif
