// What the gap report asks of a store, written once for both dialects: the bars per session
// window, and the record of verifications (barfill_checks) that repairs and refreshes keep.
#pragma once

#include <span>
#include <vector>

#include "store/bar_store.h"
#include "store/schema.h"
#include "store/sql_session.h"

namespace barfill::store {

/// Bars of `series` in each window, in one query: the windows travel as one
/// JSON array parameter that the database unnests and joins with the bars' primary key.
Result<std::vector<WindowCount>> SelectWindowCounts(SqlSession& sql, Dialect dialect, const Series& series,
                                                    std::span<const TimeRange> windows);

/// The verifications of `series`, ordered by range start.
Result<std::vector<RangeCheck>> SelectChecks(SqlSession& sql, const Series& series);

/// Inserts each check, or replaces the one recorded for its exact range.
Status UpsertChecks(SqlSession& sql, std::span<const RangeCheck> checks);

}  // namespace barfill::store
