// Deterministic data for the benchmarks: splitmix64 (tiny, fast, and the same sequence
// on every platform and standard library) and random SHA-256 digests drawn from it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/sha256.h"

namespace tb::bench {

struct Rng {
  std::uint64_t state;
  std::uint64_t operator()() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
};

inline Sha256Digest random_digest(Rng& rng) {
  Sha256Digest d;
  for (std::size_t i = 0; i < d.bytes.size(); i += 8) {
    const std::uint64_t v = rng();
    for (std::size_t k = 0; k < 8; ++k) d.bytes[i + k] = static_cast<std::uint8_t>(v >> (8 * k));
  }
  return d;
}

}  // namespace tb::bench
