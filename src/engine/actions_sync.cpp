#include "engine/actions_sync.h"

#include <algorithm>
#include <map>

#include "fetch/actions_fetcher.h"

namespace barfill::engine {
namespace {

std::string Describe(const SplitRecord& s) {
  char ratio[64];
  std::snprintf(ratio, sizeof ratio, "%g:%g", s.split_from, s.split_to);
  return s.execution_date.ToString() + " " + ratio + " (" + s.id + ")";
}

/// Lines naming every split v1 and v3 list differently, by the vendor's ids.
std::vector<std::string> CompareV3(const std::string& ticker, const std::vector<SplitRecord>& v1,
                                   const std::vector<SplitRecord>& v3) {
  std::vector<std::string> lines;
  std::map<std::string, const SplitRecord*> by_id;
  for (const SplitRecord& s : v3) by_id[s.id] = &s;
  for (const SplitRecord& s : v1) {
    if (s.ticker != ticker) continue;
    const auto it = by_id.find(s.id);
    if (it == by_id.end()) {
      lines.push_back(ticker + ": v1 lists split " + Describe(s) + ", v3 does not");
      continue;
    }
    if (!it->second->SameEvent(s)) {
      lines.push_back(ticker + ": v1 lists split " + Describe(s) + ", v3 " + Describe(*it->second));
    }
    by_id.erase(it);
  }
  for (const auto& [id, s] : by_id) lines.push_back(ticker + ": v3 lists split " + Describe(*s) + ", v1 does not");
  return lines;
}

}  // namespace

std::vector<std::string> StockSymbols(const std::vector<Ticker>& tickers) {
  std::vector<std::string> out;
  for (const Ticker& t : tickers) {
    if (t.asset_class() == AssetClass::kStock) out.push_back(t.symbol());
  }
  return out;
}

Result<std::vector<std::string>> DueForSync(const std::vector<std::string>& symbols, BarStore& store,
                                            std::chrono::milliseconds max_age) {
  if (symbols.empty()) return symbols;
  auto synced = ReadActionsStatus(store);
  if (!synced) return Fail(synced.error());
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  std::vector<std::string> due;
  for (const std::string& symbol : symbols) {
    const auto it = std::find_if(synced->begin(), synced->end(), [&](const ActionsStatus& a) { return a.ticker == symbol; });
    if (it == synced->end() || now - it->synced_at_ms >= max_age.count()) due.push_back(symbol);
  }
  return due;
}

Status SyncActions(const std::vector<std::string>& symbols, BarStore& store, const fetch::FetchShared& fetch,
                   const ActionsOptions& options, CalendarDay today, RunReport& report) {
  if (symbols.empty()) return Ok();
  fetch::ActionsFetcher fetcher(fetch);
  fetch::FetchStats stats;
  auto fetched = fetcher.Fetch(symbols, stats);
  report.actions_fetch_stats.Add(stats);
  if (!fetched) return Fail(fetched.error());
  if (options.compare_v3) {
    for (const std::string& symbol : symbols) {
      fetch::FetchStats v3_stats;
      auto v3 = fetcher.FetchV3Splits(symbol, v3_stats);
      report.actions_fetch_stats.Add(v3_stats);
      if (!v3) return Fail(v3.error());
      for (std::string& line : CompareV3(symbol, fetched->splits, *v3)) report.actions_v3_disagreements.push_back(std::move(line));
    }
  }
  auto stored = StoreActions(store, symbols, fetched->splits, fetched->dividends, ActionsSyncOptions{today, options.prefer});
  if (!stored) return Fail(stored.error());
  report.actions = std::move(*stored);
  report.actions_synced = true;
  return Ok();
}

Result<WorkPlan> StaleWork(const std::vector<Ticker>& tickers, BarStore& store) {
  WorkPlan work;
  auto status = store.ReadStatus();
  if (!status) return Fail(status.error());
  for (const SeriesStatus& s : *status) {
    if (s.stale.empty() || std::find(tickers.begin(), tickers.end(), s.series.ticker) == tickers.end()) continue;
    SeriesWork sw;
    sw.series = s.series;
    sw.range = TimeRange{s.stale.front().range.from_ms, s.stale.back().range.to_ms};
    for (const LedgerEntry& e : s.stale) {
      sw.ranges.push_back(CoarseRange{e.range, sw.todo.size()});
      sw.todo.push_back(e.range);
      sw.requests.low += 1;
      sw.requests.high += std::max<int64_t>(1, (BaseCapacity(s.series, e.range) + kMaxBaseAggregatesPerRequest - 1) /
                                                   kMaxBaseAggregatesPerRequest);
    }
    work.requests.low += sw.requests.low;
    work.requests.high += sw.requests.high;
    work.ranges_todo += static_cast<int64_t>(sw.ranges.size());
    work.series.push_back(std::move(sw));
  }
  return work;
}

void AddWork(WorkPlan& work, const WorkPlan& extra) {
  for (const SeriesWork& add : extra.series) {
    auto same = std::find_if(work.series.begin(), work.series.end(), [&](const SeriesWork& sw) { return sw.series == add.series; });
    if (same == work.series.end()) {
      work.series.push_back(add);
      work.ranges_todo += static_cast<int64_t>(add.ranges.size());
      work.requests.low += add.requests.low;
      work.requests.high += add.requests.high;
      continue;
    }
    const bool was_complete = same->todo.empty();
    for (const TimeRange& part : add.todo) {
      // The plan's own range already fetches what its ledger does not cover.
      if (part.from_ms >= same->range.from_ms && part.to_ms <= same->range.to_ms) continue;
      same->ranges.push_back(CoarseRange{part, same->todo.size()});
      same->todo.push_back(part);
      ++work.ranges_todo;
      ++work.requests.low;
      ++work.requests.high;
    }
    if (was_complete && !same->todo.empty() && work.series_up_to_date > 0) --work.series_up_to_date;
  }
}

}  // namespace barfill::engine
