#include <gtest/gtest.h>

#include <cstring>

#include "firmware/wire/crc16.hpp"

namespace rig::wire {
namespace {

const uint8_t* bytes(const char* s) { return reinterpret_cast<const uint8_t*>(s); }

TEST(Crc16, MatchesCcittFalseCheckValue) { EXPECT_EQ(crc16(bytes("123456789"), 9), 0x29B1); }

TEST(Crc16, EmptyInputIsInitialValue) { EXPECT_EQ(crc16(nullptr, 0), 0xFFFF); }

TEST(Crc16, KnownAnswers) {
  // Reference values of CRC-16/CCITT-FALSE for short inputs.
  EXPECT_EQ(crc16(bytes("A"), 1), 0xB915);
  const uint8_t zeros[4] = {0, 0, 0, 0};
  EXPECT_EQ(crc16(zeros, 4), 0x84C0);
}

TEST(Crc16, IncrementalEqualsOneShot) {
  const char* text = "distractor rewards";
  const size_t n = std::strlen(text);
  uint16_t crc = kCrcInit;
  for (size_t i = 0; i < n; ++i) crc = crc16_update(crc, bytes(text)[i]);
  EXPECT_EQ(crc, crc16(bytes(text), n));
  EXPECT_EQ(crc16(bytes(text) + 5, n - 5, crc16(bytes(text), 5)), crc);
}

TEST(Crc16, DetectsEverySingleBitFlip) {
  uint8_t data[32];
  for (size_t i = 0; i < sizeof(data); ++i) data[i] = static_cast<uint8_t>(i * 37 + 11);
  const uint16_t good = crc16(data, sizeof(data));
  for (size_t bit = 0; bit < sizeof(data) * 8; ++bit) {
    data[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_NE(crc16(data, sizeof(data)), good) << "bit " << bit;
    data[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  }
}

}  // namespace
}  // namespace rig::wire
