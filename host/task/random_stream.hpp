// The engine's source of randomness: a SplitMix64 generator whose whole state is one 64-bit word, so a
// session can be saved and resumed exactly, with the number of draws recorded alongside.
#pragma once

#include <cstdint>

namespace rig::task {

// A seeded pseudo-random stream (SplitMix64, Steele, Lea & Flood 2014). Deterministic: the same state gives
// the same draws on every platform. Not thread-safe (one owner).
class RandomStream {
 public:
  // A stream whose first state word is `seed`.
  explicit RandomStream(std::uint64_t seed) : state_(seed) {}
  // A stream resumed exactly from state() and draws() saved earlier.
  static RandomStream restore(std::uint64_t state, std::uint64_t draws);

  // The next 64 random bits.
  std::uint64_t next_u64();
  // A uniform double in [0, 1) with 53 random bits.
  double uniform();
  // True with probability p: uniform() < p, so p <= 0 is never and p >= 1 is always. One draw.
  bool bernoulli(double p) { return uniform() < p; }
  // A uniform integer in [lo, hi] (requires lo <= hi), without modulo bias; may take several draws.
  std::uint64_t uniform_int(std::uint64_t lo, std::uint64_t hi);

  std::uint64_t state() const { return state_; }
  // Number of 64-bit words drawn since the stream was seeded.
  std::uint64_t draws() const { return draws_; }

 private:
  std::uint64_t state_;
  std::uint64_t draws_ = 0;
};

// SplitMix64's output function: a bijective 64-bit mix, used to derive independent seeds from one seed.
// Pure; thread-safe.
std::uint64_t mix64(std::uint64_t value);

}  // namespace rig::task
