#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "firmware/wire/frame.hpp"

namespace rig::wire {
namespace {

using Bytes = std::vector<uint8_t>;

template <typename M>
Bytes encode(const M& msg, uint16_t seq) {
  Bytes out(kMaxEncodedFrame);
  out.resize(encode_message(msg, seq, out.data(), out.size()));
  return out;
}

// Feeds bytes to the decoder and collects the frames it accepts, as (type, seq, payload) copies.
struct Collected {
  uint8_t type;
  uint16_t seq;
  Bytes payload;
};
std::vector<Collected> feed(FrameDecoder& d, const Bytes& stream) {
  std::vector<Collected> frames;
  for (uint8_t b : stream) {
    FrameView f;
    if (d.push(b, f) == FrameDecoder::Status::kFrame)
      frames.push_back({f.type, f.seq, Bytes(f.payload, f.payload + f.payload_size)});
  }
  return frames;
}

TEST(Frame, EncodesKnownBytes) {
  // Heartbeat{host_time_ms = 0x04030201}, seq 0x0102: raw = 02 02 01 01 02 03 04 crc_lo crc_hi.
  const Heartbeat hb{0x04030201};
  const Bytes enc = encode(hb, 0x0102);
  const uint8_t raw_body[] = {0x02, 0x02, 0x01, 0x01, 0x02, 0x03, 0x04};
  const uint16_t crc = crc16(raw_body, sizeof(raw_body));
  Bytes expected = {0x0A, 0x02, 0x02, 0x01, 0x01, 0x02, 0x03, 0x04, static_cast<uint8_t>(crc & 0xFF),
                    static_cast<uint8_t>(crc >> 8), 0x00};
  ASSERT_NE(crc & 0xFF, 0);  // the expected vector above assumes a CRC without zero bytes
  ASSERT_NE(crc >> 8, 0);
  EXPECT_EQ(enc, expected);
}

TEST(Frame, EncodedFrameEndsWithSingleDelimiter) {
  const Bytes enc = encode(Hello{kProtocolVersion, 0}, 0);
  ASSERT_FALSE(enc.empty());
  EXPECT_EQ(enc.back(), kDelimiter);
  for (size_t i = 0; i + 1 < enc.size(); ++i) EXPECT_NE(enc[i], 0) << i;
}

TEST(Frame, RoundTripsThroughStreamDecoder) {
  FrameDecoder d;
  const AbortTrial abort{42};
  const auto frames = feed(d, encode(abort, 7));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, AbortTrial::kId);
  EXPECT_EQ(frames[0].seq, 7);
  AbortTrial back{};
  FrameView view{frames[0].type, frames[0].seq, frames[0].payload.data(), static_cast<uint8_t>(frames[0].payload.size())};
  ASSERT_TRUE(decode_message(view, back));
  EXPECT_EQ(back.trial_id, 42u);
  EXPECT_EQ(d.drops().total(), 0u);
}

TEST(Frame, DecodeMessageRejectsOtherType) {
  const uint8_t payload[4] = {1, 2, 3, 4};
  FrameView view{Heartbeat::kId, 0, payload, 4};
  AbortTrial out{99};
  EXPECT_FALSE(decode_message(view, out));
  EXPECT_EQ(out.trial_id, 99u);
}

TEST(Frame, SeveralFramesBackToBackWithIdleDelimiters) {
  Bytes stream = {0x00, 0x00};
  for (uint16_t seq = 1; seq <= 5; ++seq) {
    const Bytes f = encode(EventAck{seq}, 0);
    stream.insert(stream.end(), f.begin(), f.end());
    stream.push_back(0x00);
  }
  FrameDecoder d;
  const auto frames = feed(d, stream);
  ASSERT_EQ(frames.size(), 5u);
  EXPECT_EQ(d.drops().total(), 0u);
}

TEST(Frame, ResynchronizesAfterGarbage) {
  Bytes stream = {0x13, 0x37, 0xFF, 0x42};  // garbage, then a delimiter starts a clean frame
  stream.push_back(0x00);
  const Bytes good = encode(Heartbeat{5}, 0);
  stream.insert(stream.end(), good.begin(), good.end());
  FrameDecoder d;
  const auto frames = feed(d, stream);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, Heartbeat::kId);
  EXPECT_EQ(d.drops().total(), 1u);
}

TEST(Frame, CountsBadCrc) {
  Bytes f = encode(Heartbeat{5}, 0);
  f[3] ^= 0x01;  // a payload byte; still non-zero
  FrameDecoder d;
  EXPECT_TRUE(feed(d, f).empty());
  EXPECT_EQ(d.drops().by_reason[static_cast<int>(DropReason::kBadCrc)], 1u);
}

// Builds a frame by hand with any type and payload length (to provoke type/length drops).
Bytes raw_frame(uint8_t type, const Bytes& payload) {
  Bytes out(kMaxEncodedFrame + 300);
  out.resize(encode_frame(type, 0, payload.data(), payload.size(), out.data(), out.size()));
  return out;
}

TEST(Frame, CountsUnknownType) {
  FrameDecoder d;
  EXPECT_TRUE(feed(d, raw_frame(0x7F, {1, 2})).empty());
  EXPECT_EQ(d.drops().by_reason[static_cast<int>(DropReason::kUnknownType)], 1u);
  EXPECT_EQ(d.last_drop(), DropReason::kUnknownType);
}

TEST(Frame, CountsWrongPayloadLength) {
  FrameDecoder d;
  EXPECT_TRUE(feed(d, raw_frame(Heartbeat::kId, {1, 2, 3})).empty());
  EXPECT_EQ(d.drops().by_reason[static_cast<int>(DropReason::kBadLength)], 1u);
}

TEST(Frame, CountsTooShort) {
  FrameDecoder d;
  EXPECT_TRUE(feed(d, {0x03, 0x01, 0x02, 0x00}).empty());  // decodes to 2 bytes
  EXPECT_EQ(d.drops().by_reason[static_cast<int>(DropReason::kTooShort)], 1u);
}

TEST(Frame, CountsCobsError) {
  FrameDecoder d;
  EXPECT_TRUE(feed(d, {0x09, 0x01, 0x02, 0x00}).empty());  // code byte points past the end
  EXPECT_EQ(d.drops().by_reason[static_cast<int>(DropReason::kCobs)], 1u);
}

TEST(Frame, OverlongFrameIsDroppedAndDecoderRecovers) {
  Bytes stream(500, 0x55);
  stream.push_back(0x00);
  const Bytes good = encode(Heartbeat{9}, 0);
  stream.insert(stream.end(), good.begin(), good.end());
  FrameDecoder d;
  const auto frames = feed(d, stream);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(d.drops().by_reason[static_cast<int>(DropReason::kTooLong)], 1u);
}

TEST(Frame, EncodeRefusesOversizedPayloadOrBuffer) {
  uint8_t payload[kMaxPayload + 1] = {};
  uint8_t out[kMaxEncodedFrame];
  EXPECT_EQ(encode_frame(0x02, 0, payload, sizeof(payload), out, sizeof(out)), 0u);
  EXPECT_EQ(encode_frame(0x02, 0, payload, 4, out, 5), 0u);
}

TEST(Frame, LargestMessageFitsMaxEncodedFrame) {
  WheelBatch batch;
  std::memset(&batch, 0xFF, sizeof(batch));  // no zeros: the worst case for COBS size is irrelevant, but full length is
  uint8_t out[kMaxEncodedFrame];
  EXPECT_GT(encode_message(batch, 0xFFFF, out, sizeof(out)), 0u);
}

TEST(DropCounters, SaturateInsteadOfWrapping) {
  DropCounters c = {};
  c.by_reason[0] = 0xFFFFFFFFu;
  c.count(DropReason::kCobs);
  EXPECT_EQ(c.by_reason[0], 0xFFFFFFFFu);
  EXPECT_STREQ(drop_reason_name(DropReason::kBadCrc), "bad_crc");
}

}  // namespace
}  // namespace rig::wire
