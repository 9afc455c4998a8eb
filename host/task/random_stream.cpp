#include "host/task/random_stream.hpp"

#include <limits>

namespace rig::task {
namespace {
constexpr std::uint64_t kGoldenGamma = 0x9E3779B97F4A7C15ULL;
}  // namespace

std::uint64_t mix64(std::uint64_t value) {
  value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ULL;
  value = (value ^ (value >> 27)) * 0x94D049BB133111EBULL;
  return value ^ (value >> 31);
}

RandomStream RandomStream::restore(std::uint64_t state, std::uint64_t draws) {
  RandomStream stream(state);
  stream.draws_ = draws;
  return stream;
}

std::uint64_t RandomStream::next_u64() {
  state_ += kGoldenGamma;
  ++draws_;
  return mix64(state_);
}

double RandomStream::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

std::uint64_t RandomStream::uniform_int(std::uint64_t lo, std::uint64_t hi) {
  const std::uint64_t span = hi - lo;
  if (span == std::numeric_limits<std::uint64_t>::max()) return next_u64();
  const std::uint64_t range = span + 1;
  // Reject the top partial bucket so every value is equally likely.
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % range;
  std::uint64_t value = next_u64();
  while (value >= limit) value = next_u64();
  return lo + value % range;
}

}  // namespace rig::task
