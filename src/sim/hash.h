// Stateless hashing for the simulator: every random choice (bar values, fault dice, request ids)
// is a hash of a seed and a counter, never a sequential RNG, so it can be recomputed anywhere.
#pragma once

#include <cstdint>
#include <string_view>

namespace barfill::sim {

/// Steele/Lea/Flood's splitmix64 finalizer: a fast, well-mixed 64-bit hash of a 64-bit value.
constexpr uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

/// FNV-1a of the bytes, mixed by SplitMix64.
constexpr uint64_t HashText(std::string_view text) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001B3ULL;
  }
  return SplitMix64(h);
}

/// The top 53 bits as a fraction in [0, 1).
constexpr double Unit53(uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

/// 16 bits of `bits` starting at `shift`, as a fraction in [0, 1).
constexpr double Unit16(uint64_t bits, int shift) {
  return static_cast<double>((bits >> shift) & 0xFFFF) * (1.0 / 65536.0);
}

}  // namespace barfill::sim
