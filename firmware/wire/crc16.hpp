// CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor.
// Known answer: "123456789" -> 0x29B1. Header-only, C++14, C headers only (builds with avr-g++ and g++).
#ifndef RIG_WIRE_CRC16_HPP
#define RIG_WIRE_CRC16_HPP

#include <stddef.h>
#include <stdint.h>

#if defined(__AVR__)
#include <util/crc16.h>
#endif

namespace rig {
namespace wire {

constexpr uint16_t kCrcInit = 0xFFFF;

// Folds one byte into a running CRC. Pure; thread-safe.
inline uint16_t crc16_update(uint16_t crc, uint8_t byte) {
#if defined(__AVR__)
  // avr-libc's xmodem update is the same polynomial, hand-written in assembly.
  return _crc_xmodem_update(crc, byte);
#else
  crc = static_cast<uint16_t>(crc ^ (static_cast<uint16_t>(byte) << 8));
  for (int bit = 0; bit < 8; ++bit) {
    crc = (crc & 0x8000u) ? static_cast<uint16_t>((crc << 1) ^ 0x1021u) : static_cast<uint16_t>(crc << 1);
  }
  return crc;
#endif
}

// CRC of `size` bytes at `data`, continuing from `crc` (start with kCrcInit). Pure; thread-safe.
inline uint16_t crc16(const uint8_t* data, size_t size, uint16_t crc = kCrcInit) {
  for (size_t i = 0; i < size; ++i) crc = crc16_update(crc, data[i]);
  return crc;
}

}  // namespace wire
}  // namespace rig

#endif
