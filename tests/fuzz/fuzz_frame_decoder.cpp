// libFuzzer target: arbitrary bytes through the stream frame decoder. Every accepted frame must decode into
// its message and re-encode to a frame that decodes to the same bytes; drops must be counted.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "firmware/wire/wire.hpp"

using namespace rig::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FrameDecoder decoder;
  uint32_t dropped = 0;
  for (size_t i = 0; i < size; ++i) {
    FrameView frame;
    const auto status = decoder.push(data[i], frame);
    if (status == FrameDecoder::Status::kDropped) ++dropped;
    if (status != FrameDecoder::Status::kFrame) continue;
    if (frame.payload_size > kMaxPayload || payload_size(frame.type) != frame.payload_size) abort();
    uint8_t payload[kMaxPayload];
    memcpy(payload, frame.payload, frame.payload_size);
    uint8_t encoded[kMaxEncodedFrame];
    const size_t n = encode_frame(frame.type, frame.seq, payload, frame.payload_size, encoded, sizeof(encoded));
    if (n == 0) abort();
    FrameDecoder again;
    int frames = 0;
    for (size_t k = 0; k < n; ++k) {
      FrameView back;
      if (again.push(encoded[k], back) != FrameDecoder::Status::kFrame) continue;
      ++frames;
      if (back.type != frame.type || back.seq != frame.seq || back.payload_size != frame.payload_size ||
          memcmp(back.payload, payload, back.payload_size) != 0)
        abort();
    }
    if (frames != 1) abort();
  }
  if (decoder.drops().total() != dropped) abort();
  return 0;
}
