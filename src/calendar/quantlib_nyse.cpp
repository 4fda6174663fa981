#include "calendar/quantlib_nyse.h"

#include <ql/time/calendars/unitedstates.hpp>
#include <ql/version.hpp>

#include "calendar/nyse.h"

namespace barfill::calendar::quantlib {
namespace {

QuantLib::Date ToQuantLib(CalendarDay day) {
  return QuantLib::Date(static_cast<QuantLib::Day>(day.day), static_cast<QuantLib::Month>(day.month),
                        static_cast<QuantLib::Year>(day.year));
}

struct PatchedNyse {
  QuantLib::Calendar calendar = QuantLib::UnitedStates(QuantLib::UnitedStates::NYSE);
  std::vector<CalendarDay> patched;
};

// Patched once, before the first query. addHoliday writes state that QuantLib shares between
// all NYSE calendars of the process; after this it is only read, so concurrent queries are safe.
const PatchedNyse& Nyse() {
  static const PatchedNyse nyse = [] {
    PatchedNyse patched_nyse;
    for (const nyse::SpecialClosing& closing : nyse::SpecialClosings()) {
      const QuantLib::Date date = ToQuantLib(closing.day);
      if (patched_nyse.calendar.isBusinessDay(date)) {
        patched_nyse.calendar.addHoliday(date);
        patched_nyse.patched.push_back(closing.day);
      }
    }
    return patched_nyse;
  }();
  return nyse;
}

}  // namespace

bool NyseClosed(CalendarDay day) { return !Nyse().calendar.isBusinessDay(ToQuantLib(day)); }

std::vector<CalendarDay> PatchedClosings() { return Nyse().patched; }

std::string_view Version() { return QL_VERSION; }

}  // namespace barfill::calendar::quantlib
