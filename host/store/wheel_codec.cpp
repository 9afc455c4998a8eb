#include "host/store/wheel_codec.hpp"

#include <algorithm>
#include <stdexcept>

namespace rig::store {
namespace {

void put_varint(std::vector<std::uint8_t>& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(value));
}

std::uint64_t zigzag(std::int64_t value) {
  return (static_cast<std::uint64_t>(value) << 1) ^ static_cast<std::uint64_t>(value >> 63);
}

std::int64_t unzigzag(std::uint64_t value) {
  return static_cast<std::int64_t>(value >> 1) ^ -static_cast<std::int64_t>(value & 1);
}

class Reader {
 public:
  explicit Reader(const std::vector<std::uint8_t>& data) : data_(data) {}
  bool done() const { return at_ == data_.size(); }
  std::uint64_t varint() {
    std::uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at_ == data_.size()) throw std::invalid_argument("wheel trace: truncated varint");
      const std::uint8_t byte = data_[at_++];
      value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    throw std::invalid_argument("wheel trace: varint longer than 64 bits");
  }
  std::int64_t signed_varint() { return unzigzag(varint()); }

 private:
  const std::vector<std::uint8_t>& data_;
  std::size_t at_ = 0;
};

// Deltas are tokens: an even token 2*zigzag(delta) is one delta, an odd token 2*n+1 is n zero deltas, so a
// still wheel costs one token per run instead of one per sample.
void put_deltas(std::vector<std::uint8_t>& out, const std::vector<std::int32_t>& positions) {
  std::uint64_t zeros = 0;
  for (std::size_t i = 1; i < positions.size(); ++i) {
    const std::int64_t delta = static_cast<std::int64_t>(positions[i]) - positions[i - 1];
    if (delta == 0) {
      ++zeros;
      continue;
    }
    if (zeros > 0) put_varint(out, zeros * 2 + 1);
    zeros = 0;
    put_varint(out, zigzag(delta) * 2);
  }
  if (zeros > 0) put_varint(out, zeros * 2 + 1);
}

}  // namespace

EncodedWheelTrace encode_wheel_trace(std::vector<model::WheelSamples> batches) {
  std::erase_if(batches, [](const model::WheelSamples& b) { return b.position_ticks.empty(); });
  std::stable_sort(batches.begin(), batches.end(),
                   [](const model::WheelSamples& a, const model::WheelSamples& b) { return a.t0_us < b.t0_us; });
  std::vector<model::WheelSamples> runs;
  for (auto& batch : batches) {
    if (!runs.empty()) {
      auto& run = runs.back();
      const auto run_end_us = run.t0_us + static_cast<std::int64_t>(run.position_ticks.size()) * run.period_us;
      if (run.period_us == batch.period_us && run_end_us == batch.t0_us) {
        run.position_ticks.insert(run.position_ticks.end(), batch.position_ticks.begin(), batch.position_ticks.end());
        continue;
      }
    }
    runs.push_back(std::move(batch));
  }

  EncodedWheelTrace trace;
  if (runs.empty()) return trace;
  trace.t0_us = runs.front().t0_us;
  trace.period_us = runs.front().period_us;
  std::int64_t previous_t0_us = trace.t0_us;
  for (const auto& run : runs) {
    put_varint(trace.data, zigzag(run.t0_us - previous_t0_us));
    put_varint(trace.data, run.period_us);
    put_varint(trace.data, run.position_ticks.size());
    put_varint(trace.data, zigzag(run.position_ticks.front()));
    put_deltas(trace.data, run.position_ticks);
    previous_t0_us = run.t0_us;
    trace.sample_count += static_cast<std::int64_t>(run.position_ticks.size());
  }
  return trace;
}

std::vector<model::WheelSamples> decode_wheel_trace(const EncodedWheelTrace& trace) {
  std::vector<model::WheelSamples> runs;
  Reader reader(trace.data);
  std::int64_t t0_us = trace.t0_us;
  std::int64_t total = 0;
  while (!reader.done()) {
    model::WheelSamples run;
    t0_us += reader.signed_varint();
    run.t0_us = t0_us;
    const auto period_us = reader.varint();
    const auto count = reader.varint();
    if (period_us > 0xffff || count == 0 || count > (1u << 30)) throw std::invalid_argument("wheel trace: bad run header");
    run.period_us = static_cast<std::uint16_t>(period_us);
    run.position_ticks.reserve(count);
    std::int64_t position = reader.signed_varint();
    run.position_ticks.push_back(static_cast<std::int32_t>(position));
    while (run.position_ticks.size() < count) {
      const auto token = reader.varint();
      if (token & 1) {
        const auto zeros = token >> 1;
        if (zeros > count - run.position_ticks.size()) throw std::invalid_argument("wheel trace: run overflows its count");
        run.position_ticks.insert(run.position_ticks.end(), zeros, static_cast<std::int32_t>(position));
      } else {
        position += unzigzag(token >> 1);
        run.position_ticks.push_back(static_cast<std::int32_t>(position));
      }
    }
    total += static_cast<std::int64_t>(count);
    runs.push_back(std::move(run));
  }
  if (total != trace.sample_count) throw std::invalid_argument("wheel trace: sample count disagrees with the data");
  return runs;
}

}  // namespace rig::store
