// Compiled as C++14 only: proves the wire headers need nothing past the firmware's dialect.
#include "firmware/wire/wire.hpp"

#if __cplusplus > 201402L
#error "this translation unit must be compiled as C++14"
#endif

namespace rig {
namespace wire {
size_t cxx14_check_encode(uint8_t* out, size_t capacity) {
  Hello hello = {kProtocolVersion, 1234};
  return encode_message(hello, 0, out, capacity);
}
}  // namespace wire
}  // namespace rig
