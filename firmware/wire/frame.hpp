// Frames of the rig wire protocol.
//
//   raw frame    = type (u8) | seq (u16 LE) | payload (payload_size(type) bytes) | crc16 (u16 LE)
//   on the wire  = COBS(raw frame) | 0x00
//
// The CRC (CRC-16/CCITT-FALSE) covers type, seq and payload. A frame is accepted only if it COBS-decodes,
// is long enough, has a matching CRC, a known type and exactly that type's payload size; anything else is
// dropped and counted by reason, never acted on. Header-only, C++14, C headers only.
#ifndef RIG_WIRE_FRAME_HPP
#define RIG_WIRE_FRAME_HPP

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cobs.hpp"
#include "crc16.hpp"
#include "messages.hpp"

namespace rig {
namespace wire {

constexpr size_t kHeaderBytes = 3;  // type + seq
constexpr size_t kCrcBytes = 2;
constexpr size_t kMaxRawFrame = kHeaderBytes + kMaxPayload + kCrcBytes;
constexpr size_t kMaxEncodedFrame = cobs_max_encoded_size(kMaxRawFrame) + 1;  // + delimiter
constexpr uint8_t kDelimiter = 0x00;
static_assert(kMaxRawFrame == 69, "frame size pinned");
static_assert(kMaxEncodedFrame == 71, "encoded frame size pinned");

// Why a received frame was dropped.
enum class DropReason : uint8_t {
  kCobs = 0,          // COBS structure invalid (zero inside, truncated code)
  kTooLong = 1,       // more bytes than any valid frame before a delimiter
  kTooShort = 2,      // shorter than header + CRC
  kBadCrc = 3,        // CRC mismatch
  kUnknownType = 4,   // no message has this id
  kBadLength = 5,     // payload size differs from the type's size
};
constexpr uint8_t kDropReasonCount = 6;

// Dropped-frame counters, one per DropReason. Saturating.
struct DropCounters {
  uint32_t by_reason[kDropReasonCount];

  void count(DropReason reason) {
    uint32_t& c = by_reason[static_cast<uint8_t>(reason)];
    if (c != 0xFFFFFFFFu) ++c;
  }
  uint32_t total() const {
    uint32_t sum = 0;
    for (uint8_t i = 0; i < kDropReasonCount; ++i) sum += by_reason[i];
    return sum;
  }
};

// Human-readable name of a drop reason (static string).
inline const char* drop_reason_name(DropReason reason) {
  switch (reason) {
    case DropReason::kCobs: return "cobs";
    case DropReason::kTooLong: return "too_long";
    case DropReason::kTooShort: return "too_short";
    case DropReason::kBadCrc: return "bad_crc";
    case DropReason::kUnknownType: return "unknown_type";
    case DropReason::kBadLength: return "bad_length";
  }
  return "unknown";
}

// A decoded, validated frame. `payload` points into the decoder's buffer and is valid until the next push().
struct FrameView {
  uint8_t type;
  uint16_t seq;
  const uint8_t* payload;
  uint8_t payload_size;
};

// Encodes a frame with `payload_size` bytes into `out` (capacity `out_capacity`), delimiter included.
// Returns the number of bytes to send, or 0 if the payload is larger than kMaxPayload or `out` is too small.
// Pure; thread-safe.
inline size_t encode_frame(uint8_t type, uint16_t seq, const void* payload, size_t payload_size, uint8_t* out,
                           size_t out_capacity) {
  if (payload_size > kMaxPayload || out_capacity < 2) return 0;
  uint8_t raw[kMaxRawFrame];
  raw[0] = type;
  raw[1] = static_cast<uint8_t>(seq & 0xFF);
  raw[2] = static_cast<uint8_t>(seq >> 8);
  if (payload_size > 0) memcpy(raw + kHeaderBytes, payload, payload_size);
  const size_t body = kHeaderBytes + payload_size;
  const uint16_t crc = crc16(raw, body);
  raw[body] = static_cast<uint8_t>(crc & 0xFF);
  raw[body + 1] = static_cast<uint8_t>(crc >> 8);
  const CobsResult r = cobs_encode(raw, body + kCrcBytes, out, out_capacity - 1);
  if (r.error != CobsError::kOk) return 0;
  out[r.size] = kDelimiter;
  return r.size + 1;
}

// Encodes message `msg` with sequence number `seq`; see encode_frame. Pure; thread-safe.
template <typename Message>
inline size_t encode_message(const Message& msg, uint16_t seq, uint8_t* out, size_t out_capacity) {
  return encode_frame(Message::kId, seq, &msg, sizeof(Message), out, out_capacity);
}

// Copies the payload of `frame` into `out` if the frame is a `Message`. Returns false (and leaves `out`
// untouched) when the type or size differ. Pure; thread-safe.
template <typename Message>
inline bool decode_message(const FrameView& frame, Message& out) {
  if (frame.type != Message::kId || frame.payload_size != sizeof(Message)) return false;
  memcpy(&out, frame.payload, sizeof(Message));
  return true;
}

// Validates one raw (already COBS-decoded) frame. Returns true and fills `frame` if valid; otherwise sets
// `reason`. `frame.payload` points into `raw`. Pure; thread-safe.
inline bool parse_raw_frame(const uint8_t* raw, size_t size, FrameView& frame, DropReason& reason) {
  if (size < kHeaderBytes + kCrcBytes) {
    reason = DropReason::kTooShort;
    return false;
  }
  const size_t body = size - kCrcBytes;
  const uint16_t crc = static_cast<uint16_t>(raw[body] | (static_cast<uint16_t>(raw[body + 1]) << 8));
  if (crc16(raw, body) != crc) {
    reason = DropReason::kBadCrc;
    return false;
  }
  const int16_t expected = payload_size(raw[0]);
  if (expected < 0) {
    reason = DropReason::kUnknownType;
    return false;
  }
  if (static_cast<size_t>(expected) != body - kHeaderBytes) {
    reason = DropReason::kBadLength;
    return false;
  }
  frame.type = raw[0];
  frame.seq = static_cast<uint16_t>(raw[1] | (static_cast<uint16_t>(raw[2]) << 8));
  frame.payload = raw + kHeaderBytes;
  frame.payload_size = static_cast<uint8_t>(expected);
  return true;
}

// Incremental decoder for a byte stream: push bytes one at a time; a complete valid frame is reported once,
// at its delimiter. Invalid frames are counted in drops() and skipped; after an over-long frame the decoder
// resynchronizes at the next delimiter. Fixed size, no allocation. Not thread-safe: one owner.
class FrameDecoder {
 public:
  enum class Status : uint8_t { kNeedMore = 0, kFrame = 1, kDropped = 2 };

  // Feeds one byte. Returns kFrame with `frame` filled when a valid frame just ended, kDropped with
  // `last_drop()` set when an invalid one did, else kNeedMore.
  Status push(uint8_t byte, FrameView& frame) {
    if (byte != kDelimiter) {
      if (overflow_) return Status::kNeedMore;
      if (encoded_size_ >= sizeof(encoded_)) {
        overflow_ = true;
        return Status::kNeedMore;
      }
      encoded_[encoded_size_++] = byte;
      return Status::kNeedMore;
    }
    // Delimiter: a frame (possibly empty, as after a line idle) ends here.
    const bool overflow = overflow_;
    const size_t size = encoded_size_;
    overflow_ = false;
    encoded_size_ = 0;
    if (overflow) return drop(DropReason::kTooLong);
    if (size == 0) return Status::kNeedMore;  // back-to-back delimiters are idle fill, not frames
    const CobsResult r = cobs_decode(encoded_, size, raw_, sizeof(raw_));
    if (r.error == CobsError::kOutputTooSmall) return drop(DropReason::kTooLong);
    if (r.error != CobsError::kOk) return drop(DropReason::kCobs);
    DropReason reason = DropReason::kCobs;
    if (!parse_raw_frame(raw_, r.size, frame, reason)) return drop(reason);
    return Status::kFrame;
  }

  const DropCounters& drops() const { return drops_; }
  DropReason last_drop() const { return last_drop_; }
  // Forgets a partial frame (after a reconnect), keeping the counters.
  void reset() {
    encoded_size_ = 0;
    overflow_ = false;
  }

 private:
  Status drop(DropReason reason) {
    drops_.count(reason);
    last_drop_ = reason;
    return Status::kDropped;
  }

  uint8_t encoded_[kMaxEncodedFrame - 1] = {};
  uint8_t raw_[kMaxRawFrame] = {};
  size_t encoded_size_ = 0;
  bool overflow_ = false;
  DropReason last_drop_ = DropReason::kCobs;
  DropCounters drops_ = {};
};

}  // namespace wire
}  // namespace rig

#endif
