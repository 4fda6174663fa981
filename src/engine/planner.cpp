#include "engine/planner.h"

#include <algorithm>
#include <cstdio>

#include "fetch/asset_profile.h"

namespace barfill::engine {
namespace {

// A grid point of the chunk grid: an instant snapped back to its local day start, then to the
// start of its bar, so chunks begin at midnight in the market's zone and on a whole bar.
int64_t GridPoint(const Series& series, int64_t instant) {
  const MarketZone zone = series.ticker.zone();
  const int64_t day_start = zone.DayStartMs(zone.DayOf(instant));
  return BucketStart(series.timeframe, zone, day_start);
}

// A done chunk covers its range only if it was written after the range ended: a chunk that
// reached into the present is fetched again next time, which is how a series keeps up to date.
bool Covers(const LedgerEntry& entry) {
  return (entry.state == ChunkState::kDone || entry.state == ChunkState::kEmpty) &&
         entry.updated_at_ms >= entry.range.to_ms;
}

std::string FormatDuration(double seconds) {
  char buf[64];
  if (seconds < 120) {
    std::snprintf(buf, sizeof buf, "%.1f s", seconds);
  } else if (seconds < 7200) {
    std::snprintf(buf, sizeof buf, "%.1f min", seconds / 60);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f h", seconds / 3600);
  }
  return buf;
}

}  // namespace

std::vector<TimeRange> SplitIntoChunks(const Series& series, TimeRange range) {
  std::vector<TimeRange> chunks;
  const MarketZone zone = series.ticker.zone();
  const int64_t step = fetch::MaxChunkMs(series.timeframe, series.ticker.asset_class());
  // The grid: multiples of the longest chunk since the epoch for intraday bars; for daily and
  // longer bars, New Year's days of years divisible by fetch::kDailyChunkYears, so a calendar year of
  // daily bars is one request.
  const auto next_grid_point = [&](int64_t cur) {
    if (series.timeframe.IsIntraday()) {
      int64_t k = FloorDiv(cur, step) + 1;
      int64_t next = GridPoint(series, k * step);
      while (next <= cur) next = GridPoint(series, ++k * step);
      return next;
    }
    int year = (zone.DayOf(cur).year / fetch::kDailyChunkYears + 1) * fetch::kDailyChunkYears;
    int64_t next = GridPoint(series, zone.DayStartMs(CalendarDay{year, 1, 1}));
    while (next <= cur) {
      year += fetch::kDailyChunkYears;
      next = GridPoint(series, zone.DayStartMs(CalendarDay{year, 1, 1}));
    }
    return next;
  };
  int64_t cur = range.from_ms;
  while (cur < range.to_ms) {
    const int64_t end = std::min(next_grid_point(cur), range.to_ms);
    chunks.push_back(TimeRange{cur, end});
    cur = end;
  }
  return chunks;
}

std::vector<TimeRange> Subtract(TimeRange range, std::vector<TimeRange> covered) {
  std::sort(covered.begin(), covered.end(),
            [](const TimeRange& a, const TimeRange& b) { return a.from_ms < b.from_ms; });
  std::vector<TimeRange> left;
  int64_t cur = range.from_ms;
  for (const TimeRange& c : covered) {
    if (c.to_ms <= cur) continue;
    if (c.from_ms >= range.to_ms) break;
    if (c.from_ms > cur) left.push_back(TimeRange{cur, c.from_ms});
    cur = std::max(cur, c.to_ms);
  }
  if (cur < range.to_ms) left.push_back(TimeRange{cur, range.to_ms});
  return left;
}

Result<WorkPlan> BuildWorkPlan(const Plan& plan, BarStore& store, CalendarDay today) {
  WorkPlan work;
  CalendarDay to = plan.to;
  if (today < to) {
    to = today;
    work.clamped_to = today;
  }
  if (to < plan.from) {
    return Fail(ErrorCode::kUsage, "the first day " + plan.from.ToString() + " is in the future (today is " +
                                       today.ToString() + " UTC)");
  }
  for (const Ticker& ticker : plan.tickers) {
    const MarketZone zone = ticker.zone();
    for (const Timeframe& timeframe : plan.timeframes) {
      SeriesWork sw;
      sw.series = Series{ticker, timeframe, plan.adjusted};
      sw.range = SnapToBuckets(timeframe, zone, zone.DaysToRange(plan.from, to));
      auto ledger = store.ReadLedger(sw.series);
      if (!ledger) return Fail(ledger.error());
      std::vector<TimeRange> covered;
      std::vector<TimeRange> failed;
      for (const LedgerEntry& entry : *ledger) {
        if (Covers(entry)) covered.push_back(entry.range);
        if (entry.state == ChunkState::kFailed) failed.push_back(entry.range);
      }
      sw.todo = Subtract(sw.range, std::move(covered));
      sw.chunks_total = static_cast<int64_t>(SplitIntoChunks(sw.series, sw.range).size());
      for (const TimeRange& part : sw.todo) {
        for (const TimeRange& chunk : SplitIntoChunks(sw.series, part)) {
          ++sw.chunks_todo;
          const bool was_failed = std::any_of(failed.begin(), failed.end(), [&](const TimeRange& f) {
            return f.from_ms < chunk.to_ms && chunk.from_ms < f.to_ms;
          });
          if (was_failed) ++sw.chunks_previously_failed;
        }
      }
      work.chunks_total += sw.chunks_total;
      work.chunks_todo += sw.chunks_todo;
      work.series.push_back(std::move(sw));
    }
  }
  work.chunks_skipped = std::max<int64_t>(0, work.chunks_total - work.chunks_todo);
  return work;
}

std::optional<WorkItem> ChunkCursor::Next() {
  std::lock_guard lock(mutex_);
  while (series_ < work_.series.size()) {
    const SeriesWork& sw = work_.series[series_];
    if (part_ >= sw.todo.size()) {
      ++series_;
      part_ = 0;
      part_split_ = false;
      continue;
    }
    if (!part_split_) {
      part_chunks_ = SplitIntoChunks(sw.series, sw.todo[part_]);
      part_split_ = true;
      chunk_ = 0;
    }
    if (chunk_ < part_chunks_.size()) {
      return WorkItem{Chunk{sw.series, part_chunks_[chunk_++]}, series_};
    }
    ++part_;
    part_split_ = false;
  }
  return std::nullopt;
}

std::string DescribeWorkPlan(const Plan& plan, const WorkPlan& work, double rate_per_s, int concurrency) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "plan %s: %zu tickers x %zu timeframes = %zu series, %s..%s%s\n",
                plan.name.c_str(), plan.tickers.size(), plan.timeframes.size(), work.series.size(),
                plan.from.ToString().c_str(), (work.clamped_to ? *work.clamped_to : plan.to).ToString().c_str(),
                plan.adjusted ? " (adjusted)" : " (unadjusted)");
  out += line;
  if (work.clamped_to) {
    out += "note: the last day " + plan.to.ToString() + " is in the future; clamped to " + work.clamped_to->ToString() + "\n";
  }
  std::snprintf(line, sizeof line, "chunks: %lld in all, %lld already done (skipped, no API call), %lld to fetch\n",
                static_cast<long long>(work.chunks_total), static_cast<long long>(work.chunks_skipped),
                static_cast<long long>(work.chunks_todo));
  out += line;
  const double seconds = rate_per_s > 0 ? static_cast<double>(work.chunks_todo) / rate_per_s : 0;
  std::snprintf(line, sizeof line, "requests: at least %lld (one per chunk; a chunk with more pages needs more)\n",
                static_cast<long long>(work.chunks_todo));
  out += line;
  if (rate_per_s > 0) {
    std::snprintf(line, sizeof line, "time: at least %s at %.4g requests/s with %d concurrent fetches\n",
                  FormatDuration(seconds).c_str(), rate_per_s, concurrency);
    out += line;
  }
  out += "series:\n";
  for (const SeriesWork& sw : work.series) {
    std::snprintf(line, sizeof line, "  %-22s %s..%s  chunks %lld/%lld to fetch%s\n",
                  sw.series.Describe().c_str(), FormatIsoUtc(sw.range.from_ms).c_str(),
                  FormatIsoUtc(sw.range.to_ms).c_str(), static_cast<long long>(sw.chunks_todo),
                  static_cast<long long>(sw.chunks_total),
                  sw.chunks_previously_failed > 0
                      ? (" (" + std::to_string(sw.chunks_previously_failed) + " failed before)").c_str()
                      : "");
    out += line;
  }
  return out;
}

}  // namespace barfill::engine
