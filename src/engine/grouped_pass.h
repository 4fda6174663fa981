// The grouped-daily part of a run: N fetchers request the plan's market days (one request
// each, under the run's rate limiter, retry policy and budget), and the store's writers commit
// each day whole in one transaction (several days together when they are waiting): every
// series' bar of that day (or an empty write when the ticker did not trade) with its ledger
// progress. A kill -9 loses at most the days in flight.
#pragma once

#include <span>

#include "engine/backfill.h"
#include "engine/grouped_plan.h"
#include "engine/report.h"
#include "fetch/chunk_fetcher.h"
#include "store/bar_store.h"

namespace barfill::engine {

/// Requests and stores every day of `plan`, adding its counts, time and failures to `report`
/// (report.grouped, fetch_stats, records, failures). An auth refusal, a database error, a
/// transport that cannot work, a spent retry budget or `options.cancel` stop it and set
/// report.outcome. Uses options.concurrency, observer, progress_interval, cancel and
/// retry_budget_exhausted. `writers` are the store's connections, one writer thread each.
void RunGroupedPass(const GroupedPlan& plan, const RunOptions& options, const fetch::FetchShared& fetch,
                    std::span<BarStore* const> writers, RunReport& report);

}  // namespace barfill::engine
