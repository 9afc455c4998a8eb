// The compact wheel trace of one trial: the device's wheel batches, merged into runs of evenly spaced samples
// and delta-encoded into a blob (docs/data-format.md, "Wheel trace encoding").
#pragma once

#include <cstdint>
#include <vector>

#include "host/model/device.hpp"

namespace rig::store {

inline constexpr int kWheelEncodingVersion = 1;

// One trial's trace as stored: the first sample's device time, the first run's period, the total number of
// samples, and the encoded runs.
struct EncodedWheelTrace {
  std::int64_t t0_us = 0;
  std::int64_t period_us = 0;
  std::int64_t sample_count = 0;
  std::vector<std::uint8_t> data;
};

// Encodes batches (any order; sorted by t0_us here). Batches that continue each other exactly (next t0 = end
// of the previous at the same period) merge into one run; a gap (a lost batch) starts a new run. Each run is
// (start offset from the previous run's start, period, count, first position) followed by the position deltas,
// with runs of unchanged positions collapsed; every number is a zigzag LEB128 varint. A still wheel costs
// almost nothing, a moving one about one byte per sample. Empty batches are dropped. Pure; thread-safe.
EncodedWheelTrace encode_wheel_trace(std::vector<model::WheelSamples> batches);

// The runs of an encoded trace as WheelSamples (batch_seq 0), in time order. Throws std::invalid_argument when
// the data is truncated or malformed or the sample count disagrees. Pure; thread-safe.
std::vector<model::WheelSamples> decode_wheel_trace(const EncodedWheelTrace& trace);

}  // namespace rig::store
