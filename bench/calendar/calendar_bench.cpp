// What a calendar query costs: QuantLib's own business-day test beside barfill's per-year
// session tables (first use of a year, then lookups), to show why the tables exist.
#include <benchmark/benchmark.h>

#include "calendar/exchange_calendar.h"
#include "calendar/quantlib_nyse.h"

namespace barfill::calendar {
namespace {

const CalendarDay kFrom{2000, 1, 1};
constexpr int64_t kDays = 20 * 365;

// QuantLib's UnitedStates(NYSE)::isBusinessDay, one day after another over 20 years.
void BM_QuantLibIsBusinessDay(benchmark::State& state) {
  int64_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(quantlib::NyseClosed(kFrom.AddDays(i++ % kDays)));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_QuantLibIsBusinessDay);

// ExchangeCalendar::SessionOn once its years are built: a table lookup.
void BM_SessionOn(benchmark::State& state) {
  const ExchangeCalendar& nyse = ExchangeCalendar::For(AssetClass::kStock);
  int64_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(nyse.SessionOn(kFrom.AddDays(i++ % kDays)));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SessionOn);

// A year of sessions at once, as a gap report over one series asks.
void BM_SessionsOfAYear(benchmark::State& state) {
  const ExchangeCalendar& nyse = ExchangeCalendar::For(AssetClass::kStock);
  for (auto _ : state) {
    benchmark::DoNotOptimize(nyse.Sessions(CalendarDay{2024, 1, 1}, CalendarDay{2024, 12, 31}));
  }
  state.SetItemsProcessed(state.iterations() * 366);
}
BENCHMARK(BM_SessionsOfAYear);

// The first query of a year builds its table (QuantLib plus New York time conversions for 365
// days). Each iteration takes a year no other benchmark asked for (they use 2000-2024).
void BM_FirstUseOfAYear(benchmark::State& state) {
  const ExchangeCalendar& nyse = ExchangeCalendar::For(AssetClass::kStock);
  int year = 2030;
  for (auto _ : state) {
    benchmark::DoNotOptimize(nyse.SessionOn(CalendarDay{year++, 6, 1}));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FirstUseOfAYear)->Iterations(60);

}  // namespace
}  // namespace barfill::calendar

BENCHMARK_MAIN();
