// The corporate-actions side of a run: fetch the splits and dividends of a plan's stocks, store and
// check them, and turn the adjusted ranges a changed split made wrong into work (docs/corporate-actions.md).
#pragma once

#include <vector>

#include "core/ticker.h"
#include "engine/planner.h"
#include "engine/report.h"
#include "engine/run_config.h"
#include "fetch/chunk_fetcher.h"
#include "store/bar_store.h"

namespace barfill::engine {

/// The stock tickers among `tickers` (only stocks have corporate actions).
std::vector<std::string> StockSymbols(const std::vector<Ticker>& tickers);

/// The symbols among `symbols` whose last sync in `store` is older than `max_age` (or never was).
Result<std::vector<std::string>> DueForSync(const std::vector<std::string>& symbols, BarStore& store,
                                            std::chrono::milliseconds max_age);

/// Fetches and stores the corporate actions of `symbols`, classifies them, marks stale ranges,
/// and with options.compare_v3 lists where v3 disagrees, all into `report` (actions_*). An error
/// means the sync did not happen; the ledger is then as it was.
Status SyncActions(const std::vector<std::string>& symbols, BarStore& store, const fetch::FetchShared& fetch,
                   const ActionsOptions& options, CalendarDay today, RunReport& report);

/// Every stale range of `tickers` in `store`, as work: one series per stale (ticker, timeframe).
Result<WorkPlan> StaleWork(const std::vector<Ticker>& tickers, BarStore& store);

/// Adds the series and ranges of `extra` that `work` does not already fetch.
void AddWork(WorkPlan& work, const WorkPlan& extra);

}  // namespace barfill::engine
