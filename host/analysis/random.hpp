// The random numbers of the analysis: one engine type, explicit seeds, draws that are identical on every
// platform (no std::*_distribution, whose algorithms the standard leaves to the library).
#pragma once

#include <cstdint>
#include <random>

namespace rig::analysis {

using Rng = std::mt19937_64;

// A uniform double in [0, 1) from the top 53 bits of one draw. Not thread-safe on a shared `rng`.
inline double uniform01(Rng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// True with probability `p` (p <= 0: never, p >= 1: always). Not thread-safe on a shared `rng`.
inline bool bernoulli(Rng& rng, double p) { return uniform01(rng) < p; }

// An engine for stream `stream`, item `index` of a computation seeded with `seed`: independent of how the
// items are spread over threads, so results are reproducible for any thread count. Thread-safe.
inline Rng derive_rng(std::uint64_t seed, std::uint64_t stream, std::uint64_t index) {
  std::seed_seq sequence{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                         static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(index),
                         static_cast<std::uint32_t>(index >> 32)};
  return Rng(sequence);
}

}  // namespace rig::analysis
