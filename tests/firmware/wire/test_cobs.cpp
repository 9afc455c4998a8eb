#include <gtest/gtest.h>

#include <vector>

#include "firmware/wire/cobs.hpp"

namespace rig::wire {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes encode(const Bytes& raw) {
  Bytes out(cobs_max_encoded_size(raw.size()));
  const CobsResult r = cobs_encode(raw.data(), raw.size(), out.data(), out.size());
  EXPECT_EQ(r.error, CobsError::kOk);
  out.resize(r.size);
  return out;
}

Bytes decode(const Bytes& encoded, CobsError expected = CobsError::kOk) {
  Bytes out(encoded.size() + 1);
  const CobsResult r = cobs_decode(encoded.data(), encoded.size(), out.data(), out.size());
  EXPECT_EQ(r.error, expected);
  out.resize(r.error == CobsError::kOk ? r.size : 0);
  return out;
}

Bytes range(int first, int last) {  // inclusive
  Bytes b;
  for (int v = first; v <= last; ++v) b.push_back(static_cast<uint8_t>(v));
  return b;
}

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes all;
  for (const Bytes& p : parts) all.insert(all.end(), p.begin(), p.end());
  return all;
}

struct Vector {
  Bytes raw;
  Bytes encoded;
};

// The published examples (Cheshire & Baker; the commonly cited table), including 254-byte runs.
std::vector<Vector> published_vectors() {
  return {
      {{}, {0x01}},
      {{0x00}, {0x01, 0x01}},
      {{0x00, 0x00}, {0x01, 0x01, 0x01}},
      {{0x00, 0x11, 0x00}, {0x01, 0x02, 0x11, 0x01}},
      {{0x11, 0x22, 0x00, 0x33}, {0x03, 0x11, 0x22, 0x02, 0x33}},
      {{0x11, 0x22, 0x33, 0x44}, {0x05, 0x11, 0x22, 0x33, 0x44}},
      {{0x11, 0x00, 0x00, 0x00}, {0x02, 0x11, 0x01, 0x01, 0x01}},
      {range(0x01, 0xFE), cat({{0xFF}, range(0x01, 0xFE)})},
      {cat({{0x00}, range(0x01, 0xFE)}), cat({{0x01, 0xFF}, range(0x01, 0xFE)})},
      {range(0x01, 0xFF), cat({{0xFF}, range(0x01, 0xFE), {0x02, 0xFF}})},
      {cat({range(0x02, 0xFF), {0x00}}), cat({{0xFF}, range(0x02, 0xFF), {0x01, 0x01}})},
      {cat({range(0x03, 0xFF), {0x00, 0x01}}), cat({{0xFE}, range(0x03, 0xFF), {0x02, 0x01}})},
  };
}

TEST(Cobs, EncodesPublishedExamples) {
  int i = 0;
  for (const Vector& v : published_vectors()) EXPECT_EQ(encode(v.raw), v.encoded) << "example " << i++;
}

TEST(Cobs, DecodesPublishedExamples) {
  int i = 0;
  for (const Vector& v : published_vectors()) EXPECT_EQ(decode(v.encoded), v.raw) << "example " << i++;
}

TEST(Cobs, EncodedFormHasNoZeroByte) {
  for (const Vector& v : published_vectors())
    for (uint8_t b : encode(v.raw)) EXPECT_NE(b, 0);
}

TEST(Cobs, RoundTripsLongMixedRuns) {
  Bytes raw;
  for (int i = 0; i < 1200; ++i) raw.push_back(static_cast<uint8_t>((i % 300 == 0) ? 0 : (i * 7 + 1)));
  const Bytes enc = encode(raw);
  EXPECT_LE(enc.size(), cobs_max_encoded_size(raw.size()));
  EXPECT_EQ(decode(enc), raw);
}

TEST(Cobs, EncodeRefusesTooSmallOutput) {
  const Bytes raw = {0x11, 0x22, 0x33, 0x44};
  uint8_t out[4];
  EXPECT_EQ(cobs_encode(raw.data(), raw.size(), out, sizeof(out)).error, CobsError::kOutputTooSmall);
  EXPECT_EQ(cobs_encode(raw.data(), raw.size(), out, 0).error, CobsError::kOutputTooSmall);
}

TEST(Cobs, DecodeRejectsZeroInInput) {
  decode({0x03, 0x11, 0x00}, CobsError::kZeroInInput);
  decode({0x00}, CobsError::kZeroInInput);
}

TEST(Cobs, DecodeRejectsCodePointingPastEnd) { decode({0x05, 0x11, 0x22}, CobsError::kTruncated); }

TEST(Cobs, DecodeRespectsOutputCapacity) {
  const Bytes enc = {0x05, 0x11, 0x22, 0x33, 0x44};
  uint8_t out[3];
  EXPECT_EQ(cobs_decode(enc.data(), enc.size(), out, sizeof(out)).error, CobsError::kOutputTooSmall);
}

}  // namespace
}  // namespace rig::wire
