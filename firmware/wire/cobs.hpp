// Consistent Overhead Byte Stuffing with a zero delimiter (Cheshire & Baker 1999).
// The encoded form contains no zero byte; the frame delimiter 0x00 is added by the framing layer.
// Header-only, C++14, C headers only. Both functions never read or write outside the given ranges.
#ifndef RIG_WIRE_COBS_HPP
#define RIG_WIRE_COBS_HPP

#include <stddef.h>
#include <stdint.h>

namespace rig {
namespace wire {

enum class CobsError : uint8_t {
  kOk = 0,
  kOutputTooSmall = 1,  // destination capacity exceeded
  kZeroInInput = 2,     // a 0x00 inside encoded data (decode only)
  kTruncated = 3,       // a code byte points past the end of the input (decode only)
};

struct CobsResult {
  size_t size;  // bytes written to the destination (valid only when error == kOk)
  CobsError error;
};

// Worst-case encoded size (without delimiter) of `raw_size` bytes.
constexpr size_t cobs_max_encoded_size(size_t raw_size) { return raw_size + raw_size / 254 + 1; }

// Encodes `size` bytes from `src` into `dst` (capacity `dst_capacity`), no trailing delimiter.
// Pure; thread-safe. Errors: kOutputTooSmall.
inline CobsResult cobs_encode(const uint8_t* src, size_t size, uint8_t* dst, size_t dst_capacity) {
  if (dst_capacity == 0) return {0, CobsError::kOutputTooSmall};
  size_t code_index = 0;
  size_t out = 1;
  uint8_t code = 1;
  for (size_t i = 0; i < size; ++i) {
    if (src[i] == 0) {
      dst[code_index] = code;
      code = 1;
      if (out >= dst_capacity) return {0, CobsError::kOutputTooSmall};
      code_index = out++;
    } else {
      if (out >= dst_capacity) return {0, CobsError::kOutputTooSmall};
      dst[out++] = src[i];
      ++code;
      // A full block of 254 data bytes ends without an implied zero, except at the very end.
      if (code == 0xFF && i + 1 < size) {
        dst[code_index] = code;
        code = 1;
        if (out >= dst_capacity) return {0, CobsError::kOutputTooSmall};
        code_index = out++;
      }
    }
  }
  dst[code_index] = code;
  return {out, CobsError::kOk};
}

// Decodes `size` COBS bytes from `src` (no delimiter) into `dst` (capacity `dst_capacity`).
// Pure; thread-safe. Errors: kZeroInInput, kTruncated, kOutputTooSmall.
inline CobsResult cobs_decode(const uint8_t* src, size_t size, uint8_t* dst, size_t dst_capacity) {
  size_t in = 0;
  size_t out = 0;
  while (in < size) {
    const uint8_t code = src[in++];
    if (code == 0) return {0, CobsError::kZeroInInput};
    for (uint8_t k = 1; k < code; ++k) {
      if (in >= size) return {0, CobsError::kTruncated};
      const uint8_t byte = src[in++];
      if (byte == 0) return {0, CobsError::kZeroInInput};
      if (out >= dst_capacity) return {0, CobsError::kOutputTooSmall};
      dst[out++] = byte;
    }
    if (code != 0xFF && in < size) {
      if (out >= dst_capacity) return {0, CobsError::kOutputTooSmall};
      dst[out++] = 0;
    }
  }
  return {out, CobsError::kOk};
}

}  // namespace wire
}  // namespace rig

#endif
