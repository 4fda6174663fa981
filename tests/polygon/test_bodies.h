// Bodies for the parser tests: the recorded ones of tests/fixtures/polygon, and random byte
// flips of any body (deterministic, so a failure reproduces).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

namespace barfill::polygon {

inline std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(BARFILL_SOURCE_DIR) + "/tests/fixtures/polygon/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_TRUE(in.good() || in.eof()) << name;
  return ss.str();
}

/// xorshift64: the same flips on every run.
class ByteFlipper {
 public:
  /// `body` with one to four of its bytes replaced by random ones.
  std::string Flip(std::string body) {
    const int flips = 1 + static_cast<int>(Next() % 4);
    for (int i = 0; i < flips; ++i) body[Next() % body.size()] = static_cast<char>(Next() & 0xFF);
    return body;
  }

 private:
  uint64_t Next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return state_;
  }
  uint64_t state_ = 0x9E3779B97F4A7C15ull;
};

}  // namespace barfill::polygon
