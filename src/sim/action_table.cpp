#include "sim/action_table.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "sim/hash.h"

namespace barfill::sim {
namespace {

// The years the simulator's events fall in.
constexpr CalendarDay kFirstEventDay{2016, 1, 4};
constexpr int64_t kEventWindowDays = 3650;

// Split ratios (from -> to) and how often each is drawn: mostly forward, some reverse.
constexpr std::array<std::pair<double, double>, 10> kSplitRatios = {{
    {1, 2}, {1, 2}, {1, 3}, {2, 3}, {1, 4}, {1, 5}, {1, 10}, {5, 1}, {10, 1}, {8, 1},
}};

CalendarDay NextWeekday(CalendarDay day) {
  while (day.Weekday() == 0 || day.Weekday() == 6) day = day.AddDays(1);
  return day;
}

uint64_t TickerKey(uint64_t seed, const Ticker& ticker, uint64_t salt) {
  return SplitMix64(SplitMix64(seed ^ salt) ^ HashText(ticker.symbol()));
}

std::vector<SplitRecord> TrueSplits(uint64_t seed, const Ticker& ticker) {
  std::vector<SplitRecord> splits;
  if (ticker.asset_class() != AssetClass::kStock) return splits;
  const uint64_t h = TickerKey(seed, ticker, 0x73706C697473ULL);
  if (Unit16(h, 0) >= 0.5) return splits;
  const int count = 1 + static_cast<int>((h >> 16) % 5 == 0 ? 2 : (h >> 20) % 2);
  for (int k = 0; k < count; ++k) {
    const uint64_t hk = SplitMix64(h + static_cast<uint64_t>(k) + 1);
    const CalendarDay day = NextWeekday(kFirstEventDay.AddDays(static_cast<int64_t>(hk % kEventWindowDays)));
    const auto [from, to] = kSplitRatios[(hk >> 32) % kSplitRatios.size()];
    const bool taken = std::any_of(splits.begin(), splits.end(), [&](const SplitRecord& s) { return s.execution_date == day; });
    if (taken) continue;
    SplitRecord s;
    s.ticker = ticker.symbol();
    s.execution_date = day;
    s.split_from = from;
    s.split_to = to;
    splits.push_back(std::move(s));
  }
  return splits;
}

/// Fills in what the vendor derives: id, type and the cumulative factor from the listed table.
void Describe(std::vector<SplitRecord>& splits) {
  std::sort(splits.begin(), splits.end(),
            [](const SplitRecord& a, const SplitRecord& b) { return a.execution_date < b.execution_date; });
  const std::vector<FactorRange> ranges = BuildFactorRanges(splits, {});
  for (SplitRecord& s : splits) {
    if (s.id.empty()) s.id = EventId(s.ticker, "split", s.execution_date, s.split_from, s.split_to);
    s.adjustment_type = s.split_from < s.split_to ? "forward_split" : "reverse_split";
    const FactorRange* range = FactorFor(ranges, s.execution_date.AddDays(-1));
    s.vendor_factor = RoundFactor(range != nullptr ? range->split_price : 1);
  }
}

/// The raw close of the last session before `day`, or `fallback` when there is none.
double CloseBefore(const Market& market, const Ticker& ticker, CalendarDay day, double fallback) {
  const MarketZone ny = MarketZone::NewYork();
  const TimeRange week{ny.DayStartMs(day.AddDays(-7)), ny.DayStartMs(day)};
  const BarBatch bars = GroundTruth(market, ticker, Timeframe(1, Timespan::kDay), /*adjusted=*/false, week);
  return bars.empty() ? fallback : bars.close.back();
}

}  // namespace

double RoundFactor(double x) { return std::nearbyint(x * 1e6) / 1e6; }

std::string EventId(std::string_view ticker, std::string_view kind, CalendarDay day, double a, double b) {
  uint64_t h = HashText(std::string(ticker) + "|" + std::string(kind) + "|" + day.ToString());
  h = SplitMix64(h ^ static_cast<uint64_t>(std::llround(a * 1e6)));
  h = SplitMix64(h ^ static_cast<uint64_t>(std::llround(b * 1e6)));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "E";
  for (int word = 0; word < 4; ++word) {
    h = SplitMix64(h + static_cast<uint64_t>(word));
    for (int i = 0; i < 16; ++i) id.push_back(kHex[(h >> (60 - 4 * i)) & 15]);
  }
  return id;
}

std::vector<SplitRecord> ListedSplits(const Market& market, const Ticker& ticker) {
  std::vector<SplitRecord> splits = TrueSplits(market.seed, ticker);
  Describe(splits);
  for (const SplitEdit& edit : market.split_edits) {
    if (edit.ticker != ticker.symbol()) continue;
    if (edit.remove) {
      std::erase_if(splits, [&](const SplitRecord& s) { return s.id == edit.id; });
      continue;
    }
    SplitRecord s;
    s.ticker = edit.ticker;
    s.execution_date = edit.execution_date;
    s.split_from = edit.split_from;
    s.split_to = edit.split_to;
    s.id = edit.id.empty() ? EventId(s.ticker, "split", s.execution_date, s.split_from, s.split_to) : edit.id;
    splits.push_back(std::move(s));
  }
  Describe(splits);
  return splits;
}

std::vector<FactorRange> TrueSplitFactors(uint64_t seed, const Ticker& ticker) {
  return BuildFactorRanges(TrueSplits(seed, ticker), {});
}

std::vector<FactorRange> ListedSplitFactors(const Market& market, const Ticker& ticker) {
  return BuildFactorRanges(ListedSplits(market, ticker), {});
}

ActionTable TrueActions(uint64_t seed, const Ticker& ticker) {
  ActionTable table;
  table.splits = TrueSplits(seed, ticker);
  Describe(table.splits);
  if (ticker.asset_class() != AssetClass::kStock) return table;
  const uint64_t h = TickerKey(seed, ticker, 0x6469766964ULL);
  if (Unit16(h, 0) >= 0.4) return table;
  // Quarterly, in the raw share basis of the day: the true splits after it scale the amount.
  const std::vector<FactorRange> basis = BuildFactorRanges(table.splits, {});
  const double quarterly_yield = 0.002 + 0.006 * Unit16(h, 16);
  const double base_price = BasePriceOf(seed, ticker);
  int k = 0;
  for (int year = kFirstEventDay.year; year < kFirstEventDay.year + 10; ++year) {
    for (unsigned month = 2; month <= 11; month += 3, ++k) {
      const uint64_t hk = SplitMix64(h + static_cast<uint64_t>(k) + 1);
      DividendRecord d;
      d.ticker = ticker.symbol();
      d.ex_dividend_date = NextWeekday(CalendarDay{year, month, static_cast<unsigned>(3 + hk % 20)});
      const FactorRange* range = FactorFor(basis, d.ex_dividend_date);
      const double growth = 1 + 0.03 * (year - kFirstEventDay.year);
      const double raw_basis = range != nullptr ? range->split_volume : 1;
      d.cash_amount = std::max(0.01, std::nearbyint(base_price * quarterly_yield * growth * raw_basis * 100) / 100);
      d.currency = "USD";
      if (k % 5 != 4) d.declaration_date = d.ex_dividend_date.AddDays(-14);  // sometimes not sent, as by the vendor
      d.record_date = d.ex_dividend_date;
      d.pay_date = NextWeekday(d.ex_dividend_date.AddDays(14));
      d.frequency = 4;
      d.distribution_type = "recurring";
      d.id = EventId(d.ticker, "dividend", d.ex_dividend_date, d.cash_amount, 0);
      table.dividends.push_back(std::move(d));
    }
  }
  return table;
}

ActionTable ListedActions(const Market& market, const Ticker& ticker) {
  ActionTable table = TrueActions(market.seed, ticker);
  table.splits = ListedSplits(market, ticker);
  const std::vector<FactorRange> listed = BuildFactorRanges(table.splits, {});
  // The vendor's cumulative dividend factor: the product of 1 - D/C over this dividend and every
  // later one, C the raw close of the session before the ex-date.
  const double fallback = BasePriceOf(market.seed, ticker);
  double cumulative = 1;
  for (size_t i = table.dividends.size(); i-- > 0;) {
    DividendRecord& d = table.dividends[i];
    cumulative *= 1 - d.cash_amount / CloseBefore(market, ticker, d.ex_dividend_date, fallback);
    d.vendor_factor = RoundFactor(cumulative);
    const FactorRange* range = FactorFor(listed, d.ex_dividend_date);
    d.split_adjusted_cash_amount = RoundFactor(d.cash_amount * (range != nullptr ? range->split_price : 1));
  }
  return table;
}

}  // namespace barfill::sim
