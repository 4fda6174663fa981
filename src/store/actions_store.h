// Corporate actions beside the bars: the vendor's splits and dividends stored by their ids, checked,
// turned into the factor ranges the adjusted views read, and the adjusted ledger ranges a changed
// split made wrong marked stale. Works on either store through BarStore::InTransaction.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/corporate_actions.h"
#include "core/series.h"
#include "store/bar_store.h"

namespace barfill {

/// How conflicting split rows are resolved when nobody decided.
enum class PreferRule {
  kNone,       ///< not at all: they stay unused until `barfill actions resolve`
  kPriceJump,  ///< the row whose ratio matches the raw close before the day over the open on it
};

/// "none", "price-jump".
std::string_view PreferRuleName(PreferRule rule);
Result<PreferRule> ParsePreferRule(std::string_view text);

struct ActionsSyncOptions {
  CalendarDay today;  ///< rows after it are pending (New York day)
  PreferRule prefer = PreferRule::kNone;
};

/// A stored adjusted range marked stale, and why.
struct StaleMark {
  Series series;
  TimeRange range;
  std::string why;
};

/// What one sync (or resolve) found and did for one ticker.
struct TickerActionsReport {
  std::string ticker;
  bool first_sync = false;  ///< no earlier sync: the baseline, nothing to compare with
  int64_t splits = 0;       ///< rows the vendor lists now
  int64_t dividends = 0;
  int64_t splits_new = 0;      ///< since the last sync
  int64_t splits_changed = 0;  ///< another day or ratio under the same id
  int64_t splits_removed = 0;  ///< no longer listed
  std::vector<ClassifiedSplit> flagged;  ///< splits not used: conflict, invalid, exponent
  int64_t dividends_flagged = 0;
  std::vector<std::string> decisions;  ///< what a --prefer rule or an override decided
  std::vector<std::pair<CalendarDay, CalendarDay>> moved;  ///< [from, to) days whose split factor changed
};

struct ActionsSyncReport {
  std::vector<TickerActionsReport> tickers;
  std::vector<StaleMark> stale;  ///< adjusted ranges marked stale, to be fetched again
};

/// Stores what the vendor lists now for `tickers` (their every row; rows no longer listed become
/// removed), classifies them, rebuilds the factor ranges, and marks stale every stored
/// adjusted=true ledger range of a ticker whose split factors changed since its last sync. All in
/// one transaction; raw bars are never touched.
Result<ActionsSyncReport> StoreActions(BarStore& store, const std::vector<std::string>& tickers,
                                       const std::vector<SplitRecord>& splits,
                                       const std::vector<DividendRecord>& dividends, const ActionsSyncOptions& options);

/// Records a decision on one stored split (use it, or ignore it) and applies it at once: factors
/// rebuilt, stale ranges marked. An unknown id is a kNotFound error.
Result<ActionsSyncReport> ResolveSplit(BarStore& store, const SplitOverride& decision, const ActionsSyncOptions& options);

/// The factor ranges stored for `ticker` (empty: no split or dividend adjusts it).
Result<std::vector<FactorRange>> ReadFactorRanges(BarStore& store, const std::string& ticker);

/// Per ticker, for `barfill status`.
struct ActionsStatus {
  std::string ticker;
  int64_t synced_at_ms = 0;
  int64_t splits = 0;
  int64_t dividends = 0;
  int64_t flagged = 0;
  std::vector<ClassifiedSplit> flagged_splits;
};

/// Every synced ticker, sorted.
Result<std::vector<ActionsStatus>> ReadActionsStatus(BarStore& store);

}  // namespace barfill
