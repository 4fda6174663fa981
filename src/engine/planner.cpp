#include "engine/planner.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "calendar/exchange_calendar.h"

namespace barfill::engine {
namespace {

// A final ledger row covers its range: stored, or known to be empty, and not fetched again.
bool Covers(const LedgerEntry& entry) {
  return entry.state == ChunkState::kDone || entry.state == ChunkState::kEmpty;
}

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Each timeframe with each adjusted flag of the plan ("both" gives two series per timeframe).
std::vector<std::pair<Timeframe, bool>> TimeframesAndFlags(const Plan& plan) {
  std::vector<std::pair<Timeframe, bool>> out;
  for (const Timeframe& timeframe : plan.timeframes) {
    for (const bool adjusted : plan.AdjustedFlags()) out.emplace_back(timeframe, adjusted);
  }
  return out;
}

/// Requests a range with `base` base aggregates costs: one per page of `limit`, at least one.
int64_t PagesFor(int64_t base, int64_t limit) { return std::max<int64_t>(1, CeilDiv(base, limit)); }

std::string FormatDuration(double seconds) {
  char buf[64];
  if (seconds < 120) {
    std::snprintf(buf, sizeof buf, "%.1f s", seconds);
  } else if (seconds < 7200) {
    std::snprintf(buf, sizeof buf, "%.1f min", seconds / 60);
  } else if (seconds < 3 * 86400) {
    std::snprintf(buf, sizeof buf, "%.1f h", seconds / 3600);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f days", seconds / 86400);
  }
  return buf;
}

/// Base aggregates per ms the ledger has seen for the series (final rows whose count is known).
double DensityOf(const std::vector<LedgerEntry>& ledger) {
  int64_t base = 0;
  int64_t ms = 0;
  for (const LedgerEntry& e : ledger) {
    if (!Covers(e) || e.base_aggregates < 0) continue;
    base += e.base_aggregates;
    ms += e.range.DurationMs();
  }
  return ms > 0 ? static_cast<double>(base) / static_cast<double>(ms) : -1;
}

/// The base aggregates a range of the series probably holds: from the ledger's density when
/// known, else the most it can hold.
int64_t LikelyBase(const SeriesWork& sw, TimeRange range) {
  if (sw.density >= 0) return std::llround(sw.density * static_cast<double>(range.DurationMs()));
  return BaseCapacity(sw.series, range);
}

/// Cuts the ranges of `work` until there are `fetchers` of them or none is worth cutting (a
/// range likely to fit one page gains nothing from a cut and would cost a request).
void CutForParallelism(WorkPlan& work, int fetchers, int64_t limit) {
  int64_t total = 0;
  for (const SeriesWork& sw : work.series) total += static_cast<int64_t>(sw.ranges.size());
  while (total > 0 && total < fetchers) {
    SeriesWork* best_series = nullptr;
    size_t best_range = 0;
    int64_t best_pages = 1;
    for (SeriesWork& sw : work.series) {
      for (size_t i = 0; i < sw.ranges.size(); ++i) {
        const int64_t pages = PagesFor(LikelyBase(sw, sw.ranges[i].range), limit);
        if (pages > best_pages) {
          best_pages = pages;
          best_series = &sw;
          best_range = i;
        }
      }
    }
    if (best_series == nullptr) return;
    const CoarseRange whole = best_series->ranges[best_range];
    const MarketZone zone = best_series->series.ticker.zone();
    const int64_t middle = BucketStart(best_series->series.timeframe, zone,
                                       whole.range.from_ms + whole.range.DurationMs() / 2);
    if (middle <= whole.range.from_ms || middle >= whole.range.to_ms) return;
    best_series->ranges[best_range].range.to_ms = middle;
    best_series->ranges.insert(best_series->ranges.begin() + static_cast<std::ptrdiff_t>(best_range) + 1,
                               CoarseRange{TimeRange{middle, whole.range.to_ms}, whole.part});
    ++total;
  }
}

}  // namespace

int64_t BaseCapacity(const Series& series, TimeRange range) {
  if (range.empty()) return 0;
  const bool intraday = series.timeframe.IsIntraday();
  const calendar::ExchangeCalendar& cal = calendar::ExchangeCalendar::For(series.ticker.asset_class());
  const MarketZone zone = cal.zone();
  const CalendarDay first = std::max(zone.DayOf(range.from_ms), calendar::ExchangeCalendar::kFirstDay);
  const CalendarDay last = std::min(zone.DayOf(range.to_ms - 1), calendar::ExchangeCalendar::kLastDay);
  int64_t base = 0;
  if (first <= last) {
    auto sessions = cal.Sessions(first, last);
    if (sessions) {
      for (const calendar::Session& s : *sessions) {
        if (!s.is_open()) continue;
        if (!intraday) {
          ++base;
          continue;
        }
        const int64_t from = std::max(s.extended.from_ms, range.from_ms);
        const int64_t to = std::min(s.extended.to_ms, range.to_ms);
        if (to > from) base += CeilDiv(to - from, kMsPerMinute);
      }
    }
  }
  // Outside the calendar's years: every minute or day, as if the market never closed.
  const TimeRange known{std::max(range.from_ms, zone.DayStartMs(calendar::ExchangeCalendar::kFirstDay)),
                        std::min(range.to_ms, zone.DayStartMs(calendar::ExchangeCalendar::kLastDay.AddDays(1)))};
  const int64_t outside_ms = range.DurationMs() - std::max<int64_t>(0, known.DurationMs());
  if (outside_ms > 0) base += CeilDiv(outside_ms, intraday ? kMsPerMinute : kMsPerDay);
  return base;
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

Result<WorkPlan> BuildWorkPlan(const Plan& plan, BarStore& store, CalendarDay today, int fetchers, int64_t page_limit,
                               const CoveredElsewhere& elsewhere) {
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
    for (const auto& [timeframe, adjusted] : TimeframesAndFlags(plan)) {
      SeriesWork sw;
      sw.series = Series{ticker, timeframe, adjusted};
      sw.range = SnapToBuckets(timeframe, zone, zone.DaysToRange(plan.from, to));
      auto ledger = store.ReadLedger(sw.series);
      if (!ledger) return Fail(ledger.error());
      std::vector<TimeRange> covered;
      for (const LedgerEntry& entry : *ledger) {
        if (Covers(entry)) covered.push_back(entry.range);
      }
      if (elsewhere) {
        for (const TimeRange& r : elsewhere(sw.series)) covered.push_back(r);
      }
      sw.todo = Subtract(sw.range, std::move(covered));
      sw.density = DensityOf(*ledger);
      for (size_t part = 0; part < sw.todo.size(); ++part) {
        const TimeRange& t = sw.todo[part];
        sw.ranges.push_back(CoarseRange{t, part});
        sw.requests.high += PagesFor(BaseCapacity(sw.series, t), page_limit);
        sw.requests.low += sw.density >= 0 ? PagesFor(LikelyBase(sw, t), page_limit) : 1;
        for (const LedgerEntry& entry : *ledger) {
          if (entry.state == ChunkState::kFailed && entry.range.from_ms < t.to_ms && t.from_ms < entry.range.to_ms) {
            ++sw.failed_before;
          }
        }
      }
      if (sw.todo.empty()) ++work.series_up_to_date;
      work.requests.low += sw.requests.low;
      work.requests.high += sw.requests.high;
      work.series.push_back(std::move(sw));
    }
  }
  CutForParallelism(work, fetchers, page_limit);
  for (const SeriesWork& sw : work.series) work.ranges_todo += static_cast<int64_t>(sw.ranges.size());
  return work;
}

std::optional<RangeItem> RangeCursor::Next() {
  std::lock_guard lock(mutex_);
  while (series_ < work_.series.size()) {
    if (range_ < work_.series[series_].ranges.size()) return RangeItem{series_, range_++};
    ++series_;
    range_ = 0;
  }
  return std::nullopt;
}

std::string DescribeWorkPlan(const Plan& plan, const WorkPlan& work, double rate_per_s, int concurrency) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "plan %s: %zu tickers x %zu timeframes = %zu series, %s..%s%s\n",
                plan.name.c_str(), plan.tickers.size(), plan.timeframes.size(), work.series.size(),
                plan.from.ToString().c_str(), (work.clamped_to ? *work.clamped_to : plan.to).ToString().c_str(),
                (" (" + std::string(plan.AdjustedText()) + ")").c_str());
  out += line;
  if (work.clamped_to) {
    out += "note: the last day " + plan.to.ToString() + " is in the future; clamped to " + work.clamped_to->ToString() + "\n";
  }
  std::snprintf(line, sizeof line, "ranges: %lld to fetch; %lld series already complete (no API call)\n",
                static_cast<long long>(work.ranges_todo), static_cast<long long>(work.series_up_to_date));
  out += line;
  std::snprintf(line, sizeof line,
                "requests: %lld to %lld (one per 50,000 base aggregates a range holds, at least one per range; "
                "the low end from what earlier runs saw, else one per range)\n",
                static_cast<long long>(work.requests.low), static_cast<long long>(work.requests.high));
  out += line;
  if (rate_per_s > 0) {
    std::snprintf(line, sizeof line, "time: %s to %s at %.4g requests/s with %d concurrent fetches\n",
                  FormatDuration(static_cast<double>(work.requests.low) / rate_per_s).c_str(),
                  FormatDuration(static_cast<double>(work.requests.high) / rate_per_s).c_str(), rate_per_s, concurrency);
    out += line;
  }
  out += "series:\n";
  for (const SeriesWork& sw : work.series) {
    if (sw.todo.empty()) {
      std::snprintf(line, sizeof line, "  %-22s %s..%s  complete\n", sw.series.Describe().c_str(),
                    FormatIsoUtc(sw.range.from_ms).c_str(), FormatIsoUtc(sw.range.to_ms).c_str());
    } else {
      std::snprintf(line, sizeof line, "  %-22s %s..%s  %zu range%s to fetch, %lld-%lld requests%s\n",
                    sw.series.Describe().c_str(), FormatIsoUtc(sw.range.from_ms).c_str(),
                    FormatIsoUtc(sw.range.to_ms).c_str(), sw.ranges.size(), sw.ranges.size() == 1 ? "" : "s",
                    static_cast<long long>(sw.requests.low), static_cast<long long>(sw.requests.high),
                    sw.failed_before > 0 ? (" (" + std::to_string(sw.failed_before) + " failed before)").c_str() : "");
    }
    out += line;
  }
  return out;
}

}  // namespace barfill::engine
