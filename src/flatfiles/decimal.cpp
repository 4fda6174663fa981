#include "flatfiles/decimal.h"

#include <charconv>
#include <limits>

namespace barfill::flatfiles {
namespace {

constexpr int kMaxFastDigits = 19;             // fits a uint64 without overflow
constexpr uint64_t kMaxExactMantissa = uint64_t{1} << 53;
constexpr double kPowersOfTen[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                   1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
constexpr int kMaxExactPower = 22;  // 10^22 is the largest power of ten a double holds exactly

bool FromChars(std::string_view text, double* out) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty();
}

}  // namespace

bool ParseDecimal(std::string_view text, double* out) {
  const char* p = text.data();
  const char* const end = p + text.size();
  const bool negative = p < end && *p == '-';
  if (negative) ++p;
  uint64_t mantissa = 0;
  int digits = 0;
  int fraction_digits = 0;
  bool dot = false;
  bool any_before_dot = false;
  for (; p < end; ++p) {
    const char c = *p;
    if (c >= '0' && c <= '9') {
      if (++digits > kMaxFastDigits) return FromChars(text, out);
      mantissa = mantissa * 10 + static_cast<uint64_t>(c - '0');
      if (dot) {
        ++fraction_digits;
      } else {
        any_before_dot = true;
      }
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      return FromChars(text, out);  // an exponent, or not a number at all
    }
  }
  if (!any_before_dot || (dot && fraction_digits == 0) || mantissa > kMaxExactMantissa ||
      fraction_digits > kMaxExactPower) {
    return FromChars(text, out);
  }
  const double value = static_cast<double>(mantissa) / kPowersOfTen[fraction_digits];
  *out = negative ? -value : value;
  return true;
}

bool ParseInteger(std::string_view text, int64_t* out) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty();
}

}  // namespace barfill::flatfiles
