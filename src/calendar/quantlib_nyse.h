// The one door to QuantLib: its UnitedStates(NYSE) calendar, patched at first use with the
// special closings of nyse::SpecialClosings() that the installed QuantLib lacks (2025-01-09 in
// 1.29). QuantLib's headers stay inside quantlib_nyse.cpp: they are heavy to compile.
#pragma once

#include <string_view>
#include <vector>

#include "core/market_time.h"

namespace barfill::calendar::quantlib {

/// True when the NYSE has no session on `day`: weekends, holidays and special closings.
/// `day` must be a valid date from 1901 to 2199 (QuantLib's range); callers check coverage.
bool NyseClosed(CalendarDay day);

/// The special closings the installed QuantLib lacked and barfill added, oldest first.
std::vector<CalendarDay> PatchedClosings();

/// The installed QuantLib's version, e.g. "1.29".
std::string_view Version();

}  // namespace barfill::calendar::quantlib
