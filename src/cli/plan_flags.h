// The plan as the command line gives it: raw flag text laid over an optional plan file.
#pragma once

#include <optional>
#include <string>

#include "core/market_time.h"
#include "core/result.h"
#include "engine/plan.h"

namespace barfill::cli {

/// The raw text values a plan is built from, as given on the command line.
struct PlanFlags {
  std::string tickers;     ///< "AAPL,MSFT,X:BTCUSD", "@FILE" (one or more per line), or "all[:class]"
  std::string timeframes;  ///< "1m,5m,1d"
  std::string from;        ///< "2025-01-01", or "today" / "yesterday" (UTC)
  std::string to;
  std::optional<bool> adjusted;
  bool unadjusted_too = false;  ///< --adjusted both
  std::optional<CalendarDay> today;  ///< what "today" means; the system's UTC day if unset
  std::string ticker_prefixes;  ///< with "all": only tickers starting with one of these ("A,B")
  std::string exclude;          ///< with "all": tickers left out ("TEST,ZVZZT")
};

/// Builds or completes a plan from flags: flags override what `base` (from a plan file) says.
/// Checks everything a user can get wrong (empty lists, bad tickers and timeframes, dates,
/// --from after --to); each message names the flag to fix.
Result<engine::Plan> ApplyPlanFlags(std::optional<engine::Plan> base, const PlanFlags& flags);

}  // namespace barfill::cli
