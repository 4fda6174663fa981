#include "flatfiles/decimal.h"

#include <gtest/gtest.h>

#include <bit>
#include <charconv>
#include <random>

namespace barfill::flatfiles {
namespace {

double Reference(std::string_view text) {
  double value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

TEST(DecimalTest, AgreesWithFromCharsBitForBit) {
  std::mt19937_64 rng(1234);
  for (int i = 0; i < 1'000'000; ++i) {
    // Prices and volumes as the files write them: up to 19 digits, a dot anywhere, padding zeros.
    std::string text = (rng() % 10 == 0) ? "-" : "";
    const int before = 1 + static_cast<int>(rng() % 10);
    const int after = static_cast<int>(rng() % 16);
    for (int d = 0; d < before; ++d) text += static_cast<char>('0' + rng() % 10);
    if (after > 0) {
      text += '.';
      for (int d = 0; d < after; ++d) text += static_cast<char>('0' + (rng() % 3 == 0 ? 0 : rng() % 10));
    }
    double got = 0;
    ASSERT_TRUE(ParseDecimal(text, &got)) << text;
    ASSERT_EQ(std::bit_cast<uint64_t>(got), std::bit_cast<uint64_t>(Reference(text))) << text;
  }
}

TEST(DecimalTest, EdgeCases) {
  double v = 0;
  for (const char* text : {"0", "-0", "61.68", "69.86160000000000", "248274", "9007199254740993",
                           "123456789012345678901234", "1e5", "1.5E-3", "0.000001", ".5", "5."}) {
    ASSERT_TRUE(ParseDecimal(text, &v)) << text;
    EXPECT_EQ(std::bit_cast<uint64_t>(v), std::bit_cast<uint64_t>(Reference(text))) << text;
  }
  for (const char* text : {"", "-", "abc", "1.2.3", "1,5", " 1", "1 ", "+1", "n/a", "1-2"}) {
    EXPECT_FALSE(ParseDecimal(text, &v)) << text;
  }
  int64_t n = 0;
  EXPECT_TRUE(ParseInteger("1565582400000000000", &n));
  EXPECT_EQ(n, 1565582400000000000);
  EXPECT_TRUE(ParseInteger("-68400000000000", &n));
  EXPECT_EQ(n, -68400000000000);
  EXPECT_FALSE(ParseInteger("99999999999999999999", &n));
  EXPECT_FALSE(ParseInteger("1.0", &n));
  EXPECT_FALSE(ParseInteger("", &n));
}

}  // namespace
}  // namespace barfill::flatfiles
