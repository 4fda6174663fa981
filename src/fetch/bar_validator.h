// The last gate before bars leave the fetcher (docs/fault-model.md §6): every bar sane, aligned and
// inside its chunk; out-of-order bars sorted, identical duplicates dropped, conflicting ones
// rejected.
#pragma once

#include <cstdint>

#include "core/bar.h"
#include "core/result.h"
#include "core/series.h"

namespace barfill::fetch {

struct ValidationReport {
  int64_t duplicates_dropped = 0;  ///< identical bars seen twice
  bool reordered = false;          ///< the batch was not sorted by t
};

/// Sorts `batch` by t, drops identical duplicates and checks every bar against `chunk`.
/// kInvalidData (naming ticker, t and values) for a non-finite number, a broken OHLC invariant,
/// negative volume or trades, a misaligned t, a t outside the chunk, or two different bars
/// with the same t.
Status ValidateBars(const Chunk& chunk, BarBatch& batch, ValidationReport& report);

}  // namespace barfill::fetch
