// What to backfill: tickers x timeframes x inclusive calendar days (+ adjusted), from flags or a
// TOML plan file, with optional run settings the command line may override.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/market_time.h"
#include "core/result.h"
#include "core/ticker.h"
#include "core/timeframe.h"

namespace barfill::engine {

struct Plan {
  std::string name;  ///< for reports; the plan file's `name` or "command line"
  std::vector<Ticker> tickers;
  /// "all": every ticker the flat files of this asset class hold, instead of a list (only flat
  /// files can serve it), narrowed by `ticker_prefixes` and `exclude`.
  std::optional<AssetClass> all_tickers;
  std::vector<std::string> ticker_prefixes;
  std::vector<std::string> exclude;
  std::vector<Timeframe> timeframes;
  CalendarDay from;
  CalendarDay to;  ///< inclusive
  bool adjusted = true;
  /// adjusted = "both": the unadjusted series too (adjusted stays true). Raw bars are what
  /// read-time adjustment starts from; adjusted ones are what the vendor serves.
  bool unadjusted_too = false;

  // Run settings a plan file may carry; flags win over them.
  std::optional<std::string> rate;
  std::optional<int> concurrency;
  std::optional<std::string> db;
  std::optional<std::string> base_url;
  /// `--derive`: build the unadjusted multi-minute series (5m, 15m, 1h, ...: DerivableFromMinutes)
  /// from the minute files' rows on the days a file covers, instead of asking REST for them.
  bool derive = false;

  /// The adjusted flags of the plan's series: {adjusted}, or {true, false} for "both".
  std::vector<bool> AdjustedFlags() const {
    if (unadjusted_too) return {true, false};
    return {adjusted};
  }
  /// "adjusted", "unadjusted" or "adjusted and unadjusted".
  std::string_view AdjustedText() const {
    return unadjusted_too ? "adjusted and unadjusted" : adjusted ? "adjusted" : "unadjusted";
  }

  /// Series count: tickers x timeframes x adjusted flags.
  size_t SeriesCount() const { return tickers.size() * timeframes.size() * AdjustedFlags().size(); }
};

/// The parts of a plan as text, as a command line, an embedding program or a test gives them.
struct PlanText {
  std::string name;                     ///< empty: "command line"
  std::vector<std::string> tickers;     ///< "AAPL", "X:BTCUSD", ...
  std::vector<std::string> timeframes;  ///< "1m", "5m", "1d", ...
  std::string from;                     ///< "2025-01-01", or "today" / "yesterday" (UTC)
  std::string to;
  bool adjusted = true;
  bool unadjusted_too = false;  ///< "both": the unadjusted series as well
};

/// Parses and checks every part of `text`. Messages name the part ("from", "tickers") and never
/// a command-line flag; `today` (UTC) is what "today" means.
Result<Plan> ParsePlan(const PlanText& text, CalendarDay today);

/// Parses tickers; duplicates are dropped, an empty list is an error.
Result<std::vector<Ticker>> ParseTickers(const std::vector<std::string>& items);
/// "all" (stocks), "all:stocks", "all:crypto", "all:forex", "all:indices", "all:options": the
/// asset class whose whole universe a plan asks for; nullopt when `item` is not such a word.
std::optional<AssetClass> ParseAllTickers(std::string_view item);
/// Parses timeframes; duplicates are dropped, an empty list is an error.
Result<std::vector<Timeframe>> ParseTimeframes(const std::vector<std::string>& items);
/// A YYYY-MM-DD day, or "today" / "yesterday" relative to `today`.
Result<CalendarDay> ParseDay(const std::string& text, CalendarDay today);

/// The most requests in flight a run accepts.
inline constexpr int kMaxConcurrency = 256;

/// Parses a TOML plan file. Unknown keys, wrong types, bad tickers/timeframes/dates are errors
/// that name the file, line and key (with a suggestion for misspelt keys).
Result<Plan> LoadPlanFile(const std::string& path);
/// The same, from TOML text (`source_name` is used in messages).
Result<Plan> ParsePlanToml(std::string_view toml, const std::string& source_name);

/// Splits "a, b,,c" into trimmed non-empty items.
std::vector<std::string> SplitList(std::string_view text);

}  // namespace barfill::engine
