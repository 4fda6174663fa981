// The simulator's corporate actions: one event table per ticker, deterministic from the seed, that
// drives both endpoint generations (/stocks/v1/*, /v3/reference/*) and the adjusted aggregates.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/corporate_actions.h"
#include "core/ticker.h"
#include "sim/market_data.h"

namespace barfill::sim {

/// The simulator's event table of one ticker, as the vendor lists it now.
struct ActionTable {
  std::vector<SplitRecord> splits;        ///< by execution date
  std::vector<DividendRecord> dividends;  ///< by ex-dividend date
};

/// The true history of `ticker`: what its raw (unadjusted) prices follow, and never changes.
/// About half the stocks have one to three splits (forward and reverse) between 2016 and 2025,
/// about 40% pay quarterly dividends over the same years; other asset classes have none.
ActionTable TrueActions(uint64_t seed, const Ticker& ticker);

/// The vendor's current table: the true one with `market.split_edits` applied in order (a split
/// inserted or removed after bars were served). Dividend factors are computed from the raw closes.
ActionTable ListedActions(const Market& market, const Ticker& ticker);

/// The vendor's current splits only (what ListedActions lists, without the cost of the dividends).
std::vector<SplitRecord> ListedSplits(const Market& market, const Ticker& ticker);

/// The listed splits that adjust prices (the whole listed table: the simulator's aggregates, like
/// the vendor's, apply what it lists) as factor ranges.
std::vector<FactorRange> ListedSplitFactors(const Market& market, const Ticker& ticker);

/// The true splits as factor ranges: raw prices are the synthetic path divided by these.
std::vector<FactorRange> TrueSplitFactors(uint64_t seed, const Ticker& ticker);

/// The id the vendor would give an event: "E" and 64 hex digits from what it is.
std::string EventId(std::string_view ticker, std::string_view kind, CalendarDay day, double a, double b);

/// `x` rounded to 6 decimals, as the vendor sends its factors.
double RoundFactor(double x);

}  // namespace barfill::sim
