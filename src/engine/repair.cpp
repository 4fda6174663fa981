#include "engine/repair.h"

#include <algorithm>

namespace barfill::engine {
namespace {

int64_t Pages(const Series& series, TimeRange range) {
  return std::max<int64_t>(1, (BaseCapacity(series, range) + kMaxBaseAggregatesPerRequest - 1) /
                                  kMaxBaseAggregatesPerRequest);
}

}  // namespace

void AddRepairTargets(const quality::SeriesGaps& gaps, int64_t now_ms, int64_t max_requests, RepairPlan* plan) {
  for (const quality::GapRange& r : quality::ToRanges(gaps)) {
    if (r.cls != quality::SessionClass::kSuspicious && r.cls != quality::SessionClass::kFailed) continue;
    if (r.cls == quality::SessionClass::kSuspicious && r.check && r.check->retry_at_ms > now_ms) {
      ++plan->waiting;
      plan->next_try_ms = plan->next_try_ms == 0 ? r.check->retry_at_ms : std::min(plan->next_try_ms, r.check->retry_at_ms);
      continue;
    }
    const int64_t pages = Pages(gaps.series, r.window);
    if (plan->requests_high + pages > max_requests) {
      ++plan->over_budget;
      continue;
    }
    plan->requests_high += pages;
    plan->targets.push_back(RepairTarget{gaps.series, r.window, r.cls, r.from, r.to, r.bars, r.check});
  }
}

WorkPlan RepairWorkPlan(const RepairPlan& plan) {
  WorkPlan work;
  for (const RepairTarget& t : plan.targets) {
    if (work.series.empty() || !(work.series.back().series == t.series)) {
      SeriesWork sw;
      sw.series = t.series;
      sw.range = t.range;
      work.series.push_back(std::move(sw));
    }
    SeriesWork& sw = work.series.back();
    sw.range = TimeRange{std::min(sw.range.from_ms, t.range.from_ms), std::max(sw.range.to_ms, t.range.to_ms)};
    sw.todo.push_back(t.range);
    sw.ranges.push_back(CoarseRange{t.range, sw.todo.size() - 1, true});
    const int64_t pages = Pages(t.series, t.range);
    sw.requests.low += 1;
    sw.requests.high += pages;
    work.requests.low += 1;
    work.requests.high += pages;
    ++work.ranges_todo;
    ++work.ranges_to_verify;
  }
  return work;
}

int64_t NextTryMs(int64_t now_ms, int checks, std::chrono::milliseconds first_wait) {
  const int64_t longest = std::chrono::duration_cast<std::chrono::milliseconds>(kLongestRetryWait).count();
  int64_t wait = std::max<int64_t>(0, first_wait.count());
  for (int i = 1; i < checks && wait < longest; ++i) wait *= 2;
  return now_ms + std::min(wait, longest);
}

}  // namespace barfill::engine
