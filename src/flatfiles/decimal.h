// Reading the plain decimals of the flat files ("61.68", "69.86160000000000", "248274") fast,
// with the same result as std::from_chars.
#pragma once

#include <cstdint>
#include <string_view>

namespace barfill::flatfiles {

/// Parses a whole field as a double, correctly rounded (bit for bit what std::from_chars
/// gives). Plain decimals of up to 19 digits take a fast path: an exact integer divided by an
/// exact power of ten is one correctly rounded IEEE operation (Clinger's fast path); anything
/// else (exponents, longer digit strings) goes through std::from_chars. False when the field is
/// not entirely a number.
bool ParseDecimal(std::string_view text, double* out);

/// Parses a whole field as an int64 ("1565582400000000000", "-68400000000000").
bool ParseInteger(std::string_view text, int64_t* out);

}  // namespace barfill::flatfiles
