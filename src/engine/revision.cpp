#include "engine/revision.h"

#include <vector>

namespace barfill::engine {

BarChanges CompareBars(const BarBatch& stored, const BarBatch& fetched) {
  BarChanges changes;
  size_t i = 0;
  size_t j = 0;
  while (i < stored.size() || j < fetched.size()) {
    if (j == fetched.size() || (i < stored.size() && stored.t[i] < fetched.t[j])) {
      ++changes.removed;
      ++i;
    } else if (i == stored.size() || fetched.t[j] < stored.t[i]) {
      ++changes.added;
      ++j;
    } else {
      changes.revised += stored[i] == fetched[j] ? 0 : 1;
      ++i;
      ++j;
    }
  }
  return changes;
}

Status RecordVerified(BarStore& store, std::span<const VerifiedRange> verified, int64_t now_ms) {
  std::vector<RangeCheck> checks;
  std::vector<RangeCheck> recorded;  // of the series at hand: ranges of a series come together
  for (size_t i = 0; i < verified.size(); ++i) {
    const VerifiedRange& v = verified[i];
    if (!v.done) continue;
    if (checks.empty() || !(checks.back().series == v.series)) {
      auto read = store.ReadChecks(v.series);
      if (!read) return Fail(read.error());
      recorded = std::move(*read);
    }
    int previous = 0;
    for (const RangeCheck& c : recorded) {
      if (c.range == v.range) previous = c.checks;
    }
    checks.push_back(RangeCheck{v.series, v.range, now_ms, previous + 1, v.bars, 0});
  }
  if (checks.empty()) return Ok();
  return store.RecordChecks(checks);
}

}  // namespace barfill::engine
