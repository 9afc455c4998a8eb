// Randomized properties of the frame layer: arbitrary payloads round-trip; corrupted or truncated frames are
// detected or rejected, never silently accepted as a different message with a wrong CRC.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "firmware/wire/frame.hpp"

namespace rig::wire {
namespace {

using Bytes = std::vector<uint8_t>;

std::vector<uint8_t> all_types() {
  std::vector<uint8_t> ids;
  for (int t = 0; t < 256; ++t)
    if (payload_size(static_cast<uint8_t>(t)) >= 0) ids.push_back(static_cast<uint8_t>(t));
  return ids;
}

struct Original {
  uint8_t type;
  uint16_t seq;
  Bytes payload;
  Bytes encoded;  // with delimiter
};

Original random_frame(std::mt19937& rng, const std::vector<uint8_t>& types) {
  Original o;
  o.type = types[rng() % types.size()];
  o.seq = static_cast<uint16_t>(rng());
  o.payload.resize(static_cast<size_t>(payload_size(o.type)));
  // Bias towards zeros and 0xFF so COBS code bytes of every kind appear.
  for (auto& b : o.payload) {
    const unsigned r = rng() % 4;
    b = r == 0 ? 0 : r == 1 ? 0xFF : static_cast<uint8_t>(rng());
  }
  o.encoded.resize(kMaxEncodedFrame);
  o.encoded.resize(encode_frame(o.type, o.seq, o.payload.data(), o.payload.size(), o.encoded.data(), o.encoded.size()));
  return o;
}

// Decodes a stream; returns accepted frames.
std::vector<Original> decode_all(FrameDecoder& d, const Bytes& stream) {
  std::vector<Original> out;
  for (uint8_t b : stream) {
    FrameView v;
    if (d.push(b, v) == FrameDecoder::Status::kFrame)
      out.push_back({v.type, v.seq, Bytes(v.payload, v.payload + v.payload_size), {}});
  }
  return out;
}

bool same(const Original& a, const Original& b) { return a.type == b.type && a.seq == b.seq && a.payload == b.payload; }

TEST(FrameProperty, ArbitraryPayloadsRoundTrip) {
  std::mt19937 rng(1);
  const auto types = all_types();
  for (int i = 0; i < 20000; ++i) {
    const Original o = random_frame(rng, types);
    FrameDecoder d;
    const auto got = decode_all(d, o.encoded);
    ASSERT_EQ(got.size(), 1u);
    ASSERT_TRUE(same(got[0], o));
  }
}

TEST(FrameProperty, BurstErrorsUpTo16BitsInRawFrameAreAlwaysDetected) {
  // CRC-16/CCITT detects every burst of at most 16 bits, so no such corruption of the raw frame can pass.
  std::mt19937 rng(2);
  const auto types = all_types();
  for (int i = 0; i < 20000; ++i) {
    const Original o = random_frame(rng, types);
    Bytes raw(kMaxRawFrame);
    const CobsResult r = cobs_decode(o.encoded.data(), o.encoded.size() - 1, raw.data(), raw.size());
    ASSERT_EQ(r.error, CobsError::kOk);
    raw.resize(r.size);
    const size_t bits = raw.size() * 8;
    const size_t len = 1 + rng() % 16;
    const size_t start = rng() % (bits - len + 1);
    // A burst: first and last bit flipped, the ones between at random.
    for (size_t b = start; b < start + len; ++b) {
      const bool flip = (b == start || b == start + len - 1) || (rng() & 1);
      if (flip) raw[b / 8] ^= static_cast<uint8_t>(1u << (b % 8));
    }
    FrameView v;
    DropReason reason;
    ASSERT_FALSE(parse_raw_frame(raw.data(), raw.size(), v, reason)) << "burst of " << len << " at bit " << start;
  }
}

TEST(FrameProperty, TruncatedFramesAreAlwaysRejected) {
  std::mt19937 rng(3);
  const auto types = all_types();
  for (int i = 0; i < 20000; ++i) {
    const Original o = random_frame(rng, types);
    Bytes cut(o.encoded.begin(), o.encoded.end() - 1);  // without delimiter
    cut.resize(rng() % cut.size());                      // strictly shorter
    cut.push_back(kDelimiter);
    FrameDecoder d;
    EXPECT_TRUE(decode_all(d, cut).empty());
  }
}

TEST(FrameProperty, RandomStreamCorruptionIsDetectedOrHarmless) {
  // Arbitrary byte corruption of the encoded stream (which can move COBS code bytes) is detected by the
  // CRC and length checks except with probability about 2^-16 per corrupted frame. Every accepted frame is
  // either an original frame or one whose CRC verifies; count the latter and bound them.
  std::mt19937 rng(4);
  const auto types = all_types();
  const int kFrames = 20000;
  int corrupted = 0;
  int misdecoded = 0;
  for (int i = 0; i < kFrames; ++i) {
    const Original o = random_frame(rng, types);
    Bytes stream = o.encoded;
    const int hits = 1 + static_cast<int>(rng() % 3);
    for (int h = 0; h < hits; ++h) stream[rng() % (stream.size() - 1)] = static_cast<uint8_t>(rng());
    if (stream == o.encoded) continue;
    ++corrupted;
    FrameDecoder d;
    for (const Original& got : decode_all(d, stream)) {
      if (!same(got, o)) {
        // Accepted yet different: it must still be self-consistent (re-encoding gives a CRC-valid frame).
        Bytes re(kMaxEncodedFrame);
        re.resize(encode_frame(got.type, got.seq, got.payload.data(), got.payload.size(), re.data(), re.size()));
        FrameDecoder d2;
        ASSERT_EQ(decode_all(d2, re).size(), 1u);
        ++misdecoded;
      }
    }
  }
  ASSERT_GT(corrupted, kFrames * 9 / 10);
  // Expected about corrupted / 65536 ~ 0.3; allow generous slack but catch any systematic hole.
  EXPECT_LE(misdecoded, 3) << "of " << corrupted << " corrupted frames";
}

TEST(FrameProperty, GarbageNeverCrashesAndEveryDropIsCounted) {
  std::mt19937 rng(5);
  FrameDecoder d;
  uint32_t delimiters = 0;
  uint32_t frames = 0;
  uint32_t dropped = 0;
  for (int i = 0; i < 200000; ++i) {
    const uint8_t b = (rng() % 20 == 0) ? 0 : static_cast<uint8_t>(rng());
    delimiters += (b == 0);
    FrameView v;
    const auto s = d.push(b, v);
    frames += (s == FrameDecoder::Status::kFrame);
    dropped += (s == FrameDecoder::Status::kDropped);
  }
  EXPECT_EQ(d.drops().total(), dropped);
  EXPECT_LE(frames + dropped, delimiters);
}

}  // namespace
}  // namespace rig::wire
