// What fetching a stored range again found: bars the vendor revised (same t, other values),
// added and removed. Used by the recent-session refresh of a backfill and by `barfill repair`.
#pragma once

#include <cstdint>
#include <span>

#include "core/bar.h"
#include "core/series.h"
#include "store/bar_store.h"

namespace barfill::engine {

/// Differences between the bars stored for a range and the bars fetched for it again.
struct BarChanges {
  int64_t revised = 0;  ///< same t, other values
  int64_t added = 0;    ///< fetched, not stored before
  int64_t removed = 0;  ///< stored before, not fetched: the vendor withdrew them

  void Add(const BarChanges& other) {
    revised += other.revised;
    added += other.added;
    removed += other.removed;
  }
  int64_t Total() const { return revised + added + removed; }
  friend bool operator==(const BarChanges&, const BarChanges&) = default;
};

/// Compares `stored` with `fetched` (both sorted by t, unique), every field of a bar (Bar's
/// equality: two missing vwaps are equal).
BarChanges CompareBars(const BarBatch& stored, const BarBatch& fetched);

/// A range of a series fetched again to verify it, and what changed.
struct VerifiedRange {
  Series series;
  TimeRange range;
  BarChanges changes;
  int64_t bars = 0;   ///< bars fetched for it
  bool done = false;  ///< every page committed
};

/// Records when each done range of `verified` was verified (barfill_checks): checks counted on
/// from what was recorded for its exact range, no retry pending.
Status RecordVerified(BarStore& store, std::span<const VerifiedRange> verified, int64_t now_ms);

}  // namespace barfill::engine
