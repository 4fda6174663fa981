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

namespace barfill {

struct Plan {
  std::string name;  ///< for reports; the plan file's `name` or "command line"
  std::vector<Ticker> tickers;
  std::vector<Timeframe> timeframes;
  CalendarDay from;
  CalendarDay to;  ///< inclusive
  bool adjusted = true;

  // Run settings a plan file may carry; flags win over them.
  std::optional<std::string> rate;
  std::optional<int> concurrency;
  std::optional<std::string> db;
  std::optional<std::string> base_url;

  /// Series count: tickers x timeframes.
  size_t SeriesCount() const { return tickers.size() * timeframes.size(); }
};

/// The raw text values a plan is built from, as given on the command line.
struct PlanFlags {
  std::string tickers;     ///< "AAPL,MSFT,X:BTCUSD"
  std::string timeframes;  ///< "1m,5m,1d"
  std::string from;        ///< "2025-01-01", or "today" / "yesterday" (UTC)
  std::string to;
  std::optional<bool> adjusted;
  std::optional<CalendarDay> today;  ///< what "today" means; the system's UTC day if unset
};

/// Parses a TOML plan file. Unknown keys, wrong types, bad tickers/timeframes/dates are errors
/// that name the file, line and key (with a suggestion for misspelt keys).
Result<Plan> LoadPlanFile(const std::string& path);
/// The same, from TOML text (`source_name` is used in messages).
Result<Plan> ParsePlanToml(std::string_view toml, const std::string& source_name);

/// Builds or completes a plan from flags: flags override what `base` (from a plan file) says.
/// Checks everything a user can get wrong: empty lists, bad tickers and timeframes, dates,
/// --from after --to, duplicates.
Result<Plan> ApplyPlanFlags(std::optional<Plan> base, const PlanFlags& flags);

/// Splits "a, b,,c" into trimmed non-empty items.
std::vector<std::string> SplitList(std::string_view text);

}  // namespace barfill
