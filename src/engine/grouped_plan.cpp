#include "engine/grouped_plan.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>

#include "calendar/exchange_calendar.h"

namespace barfill::engine {
namespace {

constexpr polygon::GroupedMarket kMarkets[] = {polygon::GroupedMarket::kStocks, polygon::GroupedMarket::kCrypto,
                                               polygon::GroupedMarket::kFx};

/// Whether the exchange calendar has a session on `day`: an answer without bars is then a
/// fault to retry (polygon-io/issues#2), not an empty day.
bool Trades(AssetClass asset, CalendarDay day) {
  auto session = calendar::ExchangeCalendar::For(asset).SessionOn(day);
  return session && session->is_open();
}

/// Whether a market day of `asset` is worth a request: for stocks the NYSE sessions (no
/// weekend, no holiday; a day outside the calendar's years is asked for), for crypto and forex
/// every day (their bars do not follow a calendar closely enough to leave a day out).
bool Requested(AssetClass asset, CalendarDay day) {
  if (asset != AssetClass::kStock) return true;
  auto session = calendar::ExchangeCalendar::For(asset).SessionOn(day);
  return !session || session->is_open();
}

/// The parts of `range` inside the union of `todo` (sorted, disjoint).
std::vector<TimeRange> Intersect(TimeRange range, const std::vector<TimeRange>& todo) {
  std::vector<TimeRange> out;
  for (const TimeRange& t : todo) {
    const TimeRange piece{std::max(range.from_ms, t.from_ms), std::min(range.to_ms, t.to_ms)};
    if (!piece.empty()) out.push_back(piece);
  }
  return out;
}

/// The todo parts of `sw` that are not stored yet: those of ranges fetched again to verify
/// them (a recent-session refresh, a repair) stay with REST, whose writers compare them.
std::vector<TimeRange> Missing(const SeriesWork& sw) {
  std::vector<TimeRange> out;
  for (size_t part = 0; part < sw.todo.size(); ++part) {
    const bool verified = std::any_of(sw.ranges.begin(), sw.ranges.end(),
                                      [&](const CoarseRange& r) { return r.verify && r.part == part; });
    if (!verified) out.push_back(sw.todo[part]);
  }
  return out;
}

/// The market days of `candidates`' missing parts that have ended by `now_ms`, the days the NYSE
/// is closed folded into the session right after them (or, after the last one, into that one).
std::vector<GroupedDayWork> MarketDays(polygon::GroupedMarket market, const std::vector<const SeriesWork*>& candidates,
                                       int64_t now_ms) {
  const AssetClass asset = polygon::AssetClassOf(market);
  const MarketZone zone = ZoneFor(asset);
  std::map<int64_t, CalendarDay> days;  // by days since the epoch
  for (const SeriesWork* sw : candidates) {
    for (const TimeRange& t : Missing(*sw)) {
      for (CalendarDay d = zone.DayOf(t.from_ms); zone.DayStartMs(d) < t.to_ms; d = d.AddDays(1)) {
        if (zone.DayStartMs(d.AddDays(1)) > now_ms) break;  // not over yet: REST's
        days.emplace(d.DaysSinceEpoch(), d);
      }
    }
  }
  std::vector<GroupedDayWork> out;
  std::optional<CalendarDay> closed_from;  // a run of closed days, unbroken up to the previous day
  std::optional<int64_t> previous;         // the previous day of the set
  bool after_last_trading_day = false;     // the closed run follows the last trading day directly
  for (const auto& [n, day] : days) {
    const bool next_to_previous = previous && *previous + 1 == n;
    if (!next_to_previous) {
      closed_from.reset();
      after_last_trading_day = false;
    }
    previous = n;
    if (!Requested(asset, day)) {
      if (!closed_from) {
        closed_from = day;
        after_last_trading_day =
            next_to_previous && !out.empty() && zone.DayOf(out.back().range.to_ms - 1) == day.AddDays(-1);
      }
      continue;
    }
    GroupedDayWork work;
    work.market = market;
    work.date = day;
    work.range = zone.DaysToRange(closed_from.value_or(day), day);
    work.expect_bars = Trades(asset, day);
    out.push_back(std::move(work));
    closed_from.reset();
    after_last_trading_day = false;
  }
  if (closed_from && after_last_trading_day) {
    out.back().range.to_ms = zone.DaysToRange(*closed_from, days.rbegin()->second).to_ms;
  }
  return out;
}

/// Decides for the 1d series of one market and adjusted flag, adding to `out`.
void PlanMarket(const WorkPlan& work, polygon::GroupedMarket market, bool adjusted, int64_t now_ms, GroupedPlan& out) {
  const Timeframe daily(1, Timespan::kDay);
  std::vector<const SeriesWork*> candidates;
  for (const SeriesWork& sw : work.series) {
    if (sw.series.timeframe == daily && sw.series.adjusted == adjusted && !sw.todo.empty() &&
        polygon::GroupedMarketOf(sw.series.ticker.asset_class()) == market) {
      candidates.push_back(&sw);
    }
  }
  if (candidates.empty()) return;
  std::sort(candidates.begin(), candidates.end(), [](const SeriesWork* a, const SeriesWork* b) {
    return a->series.ticker.symbol() < b->series.ticker.symbol();
  });
  GroupedMarketChoice choice;
  choice.market = market;
  choice.adjusted = adjusted;
  choice.series = static_cast<int64_t>(candidates.size());
  std::vector<GroupedDayWork> days = MarketDays(market, candidates, now_ms);
  for (GroupedDayWork& d : days) d.adjusted = adjusted;
  std::vector<TimeRange> covered;
  for (const GroupedDayWork& d : days) covered.push_back(d.range);
  for (const SeriesWork* sw : candidates) {
    choice.per_ticker_requests += sw->requests.low;
    // What REST still asks this series for afterwards: a request per part left (a 1d part
    // holds far fewer than 50,000 days), and its ranges to verify.
    const std::vector<TimeRange> missing = Missing(*sw);
    for (const TimeRange& t : missing) choice.rest_after += static_cast<int64_t>(Subtract(t, covered).size());
    choice.rest_after += static_cast<int64_t>(sw->todo.size() - missing.size());
  }
  choice.days = static_cast<int64_t>(days.size());
  choice.chosen = choice.days > 0 && choice.days + choice.rest_after < choice.per_ticker_requests;
  out.markets.push_back(choice);
  if (!choice.chosen) return;
  const size_t first = out.series.size();
  for (const SeriesWork* sw : candidates) {
    out.series.push_back(sw->series);
    out.todo.push_back(Missing(*sw));
  }
  for (GroupedDayWork& d : days) {
    for (size_t i = first; i < out.series.size(); ++i) {
      if (!Intersect(d.range, out.todo[i]).empty()) d.series.push_back(i);
    }
    out.days.push_back(std::move(d));
  }
}

}  // namespace

int64_t GroupedPlan::PerTickerRequests() const {
  int64_t n = 0;
  for (const GroupedMarketChoice& m : markets) {
    if (m.chosen) n += m.per_ticker_requests;
  }
  return n;
}

GroupedPlan PlanGrouped(const WorkPlan& work, int64_t now_ms) {
  GroupedPlan out;
  for (const polygon::GroupedMarket market : kMarkets) {
    for (const bool adjusted : {true, false}) PlanMarket(work, market, adjusted, now_ms, out);
  }
  return out;
}

std::vector<TimeRange> GroupedCoverage(const GroupedPlan& plan, const Series& series) {
  std::vector<TimeRange> ranges;
  if (std::find(plan.series.begin(), plan.series.end(), series) == plan.series.end()) return ranges;
  const auto market = polygon::GroupedMarketOf(series.ticker.asset_class());
  for (const GroupedDayWork& d : plan.days) {
    if (d.market == market && d.adjusted == series.adjusted) ranges.push_back(d.range);
  }
  return ranges;
}

std::string DescribeGroupedPlan(const GroupedPlan& plan) {
  std::string out;
  char line[512];
  for (const GroupedMarketChoice& m : plan.markets) {
    const std::string market = std::string(polygon::GroupedMarketName(m.market)) + (m.adjusted ? "" : " unadjusted");
    if (m.chosen) {
      std::snprintf(line, sizeof line,
                    "grouped daily %s: %lld requests (one per market day) for %lld 1d series, instead of %lld "
                    "per-ticker requests%s\n",
                    market.c_str(), static_cast<long long>(m.days), static_cast<long long>(m.series),
                    static_cast<long long>(m.per_ticker_requests),
                    m.rest_after > 0
                        ? (" (REST still asks " + std::to_string(m.rest_after) + " for days after them)").c_str()
                        : "");
    } else {
      std::snprintf(
          line, sizeof line,
          "grouped daily %s: not used: %lld per-ticker requests for %lld 1d series are fewer than %lld market "
          "days (+%lld per-ticker requests left)\n",
          market.c_str(), static_cast<long long>(m.per_ticker_requests), static_cast<long long>(m.series),
          static_cast<long long>(m.days), static_cast<long long>(m.rest_after));
    }
    out += line;
  }
  return out;
}

GroupedDayWrites WritesForDay(const GroupedPlan& plan, const GroupedDayWork& day, const fetch::FetchedDay& fetched) {
  GroupedDayWrites out;
  const std::vector<Ticker>& tickers = fetched.day.tickers;  // sorted by symbol, one bar each
  for (const size_t s : day.series) {
    const Series& series = plan.series[s];
    const std::vector<TimeRange> pieces = Intersect(day.range, plan.todo[s]);
    if (pieces.empty()) continue;
    const auto rejected = std::find_if(fetched.rejected.begin(), fetched.rejected.end(),
                                       [&](const fetch::RejectedTicker& r) { return r.ticker == series.ticker; });
    if (rejected != fetched.rejected.end()) {
      for (const TimeRange& piece : pieces) out.rejected.push_back({Chunk{series, piece}, rejected->error});
      continue;
    }
    const auto row = std::lower_bound(tickers.begin(), tickers.end(), series.ticker.symbol(),
                                      [](const Ticker& t, const std::string& symbol) { return t.symbol() < symbol; });
    const bool traded = row != tickers.end() && *row == series.ticker;
    for (const TimeRange& piece : pieces) {
      BarBatch& bars = out.bars.emplace_back();
      if (traded) {
        const Bar bar = fetched.day.bars[static_cast<size_t>(row - tickers.begin())];
        if (piece.Contains(bar.t)) bars.push_back(bar);
      }
      ChunkWrite write(Chunk{series, piece}, nullptr, 1);
      write.requests = 0;  // the day's request served every series; the report counts it once
      write.base_aggregates = static_cast<int64_t>(bars.size());
      out.rows += static_cast<int64_t>(bars.size());
      out.writes.push_back(std::move(write));
    }
    ++out.series;
  }
  for (size_t i = 0; i < out.writes.size(); ++i) out.writes[i].bars = &out.bars[i];
  return out;
}

GroupedDayWrites MergeDays(std::vector<GroupedDayWrites> days) {
  if (days.size() == 1) return std::move(days.front());
  GroupedDayWrites out;
  std::map<std::string, size_t> last;  // by series: its latest write in out
  for (GroupedDayWrites& day : days) {
    out.rows += day.rows;
    out.series += day.series;
    for (GroupedDayWrites::Rejected& r : day.rejected) out.rejected.push_back(std::move(r));
    for (size_t i = 0; i < day.writes.size(); ++i) {
      const ChunkWrite& w = day.writes[i];
      const std::string key = w.chunk.series.Describe();
      const auto found = last.find(key);
      if (found != last.end() && out.writes[found->second].chunk.range.to_ms == w.chunk.range.from_ms) {
        ChunkWrite& into = out.writes[found->second];
        into.chunk.range.to_ms = w.chunk.range.to_ms;
        into.base_aggregates += w.base_aggregates;
        out.bars[found->second].Append(day.bars[i]);
        continue;
      }
      last[key] = out.writes.size();
      out.writes.push_back(w);
      out.bars.push_back(std::move(day.bars[i]));
    }
  }
  for (size_t i = 0; i < out.writes.size(); ++i) out.writes[i].bars = &out.bars[i];
  return out;
}

}  // namespace barfill::engine
