// Round trips for every message of messages.def, and the invariants of the definition itself.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <set>

#include "firmware/wire/frame.hpp"

namespace rig::wire {
namespace {

template <typename M>
void expect_round_trip(std::mt19937& rng) {
  M original;
  auto* p = reinterpret_cast<uint8_t*>(&original);
  for (size_t i = 0; i < sizeof(M); ++i) p[i] = static_cast<uint8_t>(rng());
  const uint16_t seq = static_cast<uint16_t>(rng());

  uint8_t encoded[kMaxEncodedFrame];
  const size_t n = encode_message(original, seq, encoded, sizeof(encoded));
  ASSERT_GT(n, 0u);

  FrameDecoder decoder;
  int frames = 0;
  for (size_t i = 0; i < n; ++i) {
    FrameView view;
    if (decoder.push(encoded[i], view) != FrameDecoder::Status::kFrame) continue;
    ++frames;
    EXPECT_EQ(view.type, M::kId);
    EXPECT_EQ(view.seq, seq);
    M decoded;
    ASSERT_TRUE(decode_message(view, decoded));
    EXPECT_EQ(std::memcmp(&decoded, &original, sizeof(M)), 0);
  }
  EXPECT_EQ(frames, 1);
  EXPECT_EQ(decoder.drops().total(), 0u);
}

#define RIG_MESSAGE(Name, id, direction, delivery, bytes, doc)  \
  TEST(Messages, Name##RoundTrips) {                            \
    std::mt19937 rng(id);                                       \
    for (int i = 0; i < 200; ++i) expect_round_trip<Name>(rng); \
  }
#define RIG_FIELD(type, name, doc)
#define RIG_ARRAY(type, name, count, doc)
#define RIG_END(Name)
#include "firmware/wire/messages.def"
#undef RIG_MESSAGE
#undef RIG_FIELD
#undef RIG_ARRAY
#undef RIG_END

TEST(Messages, IdsAreUniqueAndSizesKnown) {
  std::set<int> ids;
  int count = 0;
#define RIG_MESSAGE(Name, id, direction, delivery, bytes, doc) \
  EXPECT_TRUE(ids.insert(id).second) << #Name;                  \
  EXPECT_EQ(payload_size(id), bytes) << #Name;                  \
  EXPECT_EQ(is_reliable(id), Delivery::delivery == Delivery::kReliable) << #Name; \
  ++count;
#define RIG_FIELD(type, name, doc)
#define RIG_ARRAY(type, name, count, doc)
#define RIG_END(Name)
#include "firmware/wire/messages.def"
#undef RIG_MESSAGE
#undef RIG_FIELD
#undef RIG_ARRAY
#undef RIG_END
  EXPECT_EQ(count, 23);
  EXPECT_EQ(payload_size(0x00), -1);
  EXPECT_EQ(payload_size(0xFF), -1);
}

TEST(Messages, OpenIndexLaysOutSidesThenValves) {
  EXPECT_EQ(open_index(Side::kLeft, Valve::kCherry), 0);
  EXPECT_EQ(open_index(Side::kLeft, Valve::kGrape), 1);
  EXPECT_EQ(open_index(Side::kRight, Valve::kCherry), 2);
  EXPECT_EQ(open_index(Side::kRight, Valve::kGrape), 3);
}

TEST(Messages, FieldOffsetsArePinned) {
  // A few offsets the firmware and docs rely on; packing must not move them.
  EXPECT_EQ(offsetof(ArmTrial, open_us), 24u);
  EXPECT_EQ(offsetof(TrialResult, delivered_open_us), 22u);
  EXPECT_EQ(offsetof(WheelBatch, delta_ticks), 13u);
}

}  // namespace
}  // namespace rig::wire
