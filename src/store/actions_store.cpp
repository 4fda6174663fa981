#include "store/actions_store.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "store/ledger.h"
#include "store/sql_session.h"

namespace barfill {
namespace {

using store::SqlRow;
using store::SqlSession;
using store::SqlTimestamp;
using store::SqlValue;

/// A raw price jump matches a ratio when they differ by less than this factor.
constexpr double kPriceJumpTolerance = 1.25;

SqlValue Day(const std::optional<CalendarDay>& day, std::string& storage) {
  if (!day) return nullptr;
  storage = day->ToString();
  return std::string_view(storage);
}

std::optional<CalendarDay> DayColumn(const SqlRow& row, int column) {
  if (row.IsNull(column)) return std::nullopt;
  auto day = CalendarDay::Parse(row.Text(column));
  if (!day) return std::nullopt;
  return *day;
}

int64_t DayStartMs(CalendarDay day) { return MarketZone::NewYork().DayStartMs(day); }

constexpr std::string_view kSplitColumns =
    "SELECT id, ticker, execution_date, split_from, split_to, adjustment_type, vendor_factor, exponent_form, status, "
    "status_reason FROM splits ";

SplitRecord SplitFromRow(const SqlRow& row) {
  SplitRecord s;
  s.id = std::string(row.Text(0));
  s.ticker = std::string(row.Text(1));
  s.execution_date = DayColumn(row, 2).value_or(kFirstAdjustedDay);
  s.split_from = row.Real(3);
  s.split_to = row.Real(4);
  if (!row.IsNull(5)) s.adjustment_type = std::string(row.Text(5));
  s.vendor_factor = row.Real(6);
  s.exponent_form = row.Bool(7);
  return s;
}

Result<std::vector<SplitRecord>> ListedSplits(SqlSession& sql, const std::string& ticker) {
  std::vector<SplitRecord> out;
  BARFILL_TRY(sql.Query(std::string(kSplitColumns) + "WHERE ticker = $1 AND status <> 'removed' ORDER BY execution_date, id",
                        {std::string_view(ticker)}, [&](const SqlRow& row) -> Status {
                          out.push_back(SplitFromRow(row));
                          return Ok();
                        }));
  return out;
}

Result<std::vector<DividendRecord>> ListedDividends(SqlSession& sql, const std::string& ticker) {
  std::vector<DividendRecord> out;
  BARFILL_TRY(sql.Query(
      "SELECT id, ticker, cash_amount, currency, declaration_date, ex_dividend_date, record_date, pay_date, frequency, "
      "distribution_type, split_adjusted_cash_amount, vendor_factor, exponent_form FROM dividends WHERE ticker = $1 "
      "AND status <> 'removed' ORDER BY ex_dividend_date, id",
      {std::string_view(ticker)}, [&](const SqlRow& row) -> Status {
        DividendRecord d;
        d.id = std::string(row.Text(0));
        d.ticker = std::string(row.Text(1));
        d.cash_amount = row.Real(2);
        if (!row.IsNull(3)) d.currency = std::string(row.Text(3));
        d.declaration_date = DayColumn(row, 4);
        d.ex_dividend_date = DayColumn(row, 5).value_or(kFirstAdjustedDay);
        d.record_date = DayColumn(row, 6);
        d.pay_date = DayColumn(row, 7);
        d.frequency = static_cast<int>(row.Int(8));
        if (!row.IsNull(9)) d.distribution_type = std::string(row.Text(9));
        d.split_adjusted_cash_amount = row.Real(10);
        d.vendor_factor = row.Real(11);
        d.exponent_form = row.Bool(12);
        out.push_back(std::move(d));
        return Ok();
      }));
  return out;
}

Result<std::vector<SplitOverride>> OverridesOf(SqlSession& sql, const std::string& ticker) {
  std::vector<SplitOverride> out;
  BARFILL_TRY(sql.Query("SELECT o.split_id, o.decision, o.note FROM split_overrides o JOIN splits s ON s.id = o.split_id "
                        "WHERE s.ticker = $1 ORDER BY o.decided_at",
                        {std::string_view(ticker)}, [&](const SqlRow& row) -> Status {
                          out.push_back(SplitOverride{std::string(row.Text(0)), row.Text(1) == "use",
                                                      row.IsNull(2) ? "" : std::string(row.Text(2))});
                          return Ok();
                        }));
  return out;
}

Status SaveOverride(SqlSession& sql, const SplitOverride& o) {
  return sql.Exec(
      "INSERT INTO split_overrides (split_id, decision, note, decided_at) VALUES ($1, $2, $3, $4) "
      "ON CONFLICT (split_id) DO UPDATE SET decision = excluded.decision, note = excluded.note, "
      "decided_at = excluded.decided_at",
      {std::string_view(o.split_id), std::string_view(o.use ? "use" : "ignore"), std::string_view(o.note),
       SqlTimestamp{store::NowMs()}});
}

Result<std::vector<FactorRange>> StoredRanges(SqlSession& sql, const std::string& ticker) {
  std::vector<FactorRange> out;
  const MarketZone ny = MarketZone::NewYork();
  BARFILL_TRY(sql.Query("SELECT from_ts, to_ts, split_price, split_volume, dividend FROM barfill_adjustment_factors "
                        "WHERE ticker = $1 ORDER BY from_ts",
                        {std::string_view(ticker)}, [&](const SqlRow& row) -> Status {
                          out.push_back(FactorRange{ny.DayOf(row.TimestampMs(0)), ny.DayOf(row.TimestampMs(1)),
                                                    row.Real(2), row.Real(3), row.Real(4)});
                          return Ok();
                        }));
  return out;
}

/// The raw close before `day` over the raw open on it, from any raw series stored for the ticker.
Result<std::optional<double>> PriceJump(SqlSession& sql, const std::string& ticker, CalendarDay day) {
  std::vector<std::string> timeframes;
  BARFILL_TRY(sql.Query("SELECT DISTINCT timeframe FROM barfill_ledger WHERE ticker = $1 AND adjusted = $2",
                        {std::string_view(ticker), false}, [&](const SqlRow& row) -> Status {
                          timeframes.emplace_back(row.Text(0));
                          return Ok();
                        }));
  std::sort(timeframes.begin(), timeframes.end(), [](const std::string& a, const std::string& b) {
    return (a == "1d") > (b == "1d") || ((a == "1d") == (b == "1d") && a < b);  // day bars first
  });
  const SqlTimestamp start{DayStartMs(day)};
  const SqlTimestamp end{DayStartMs(day.AddDays(1))};
  for (const std::string& tf : timeframes) {
    std::optional<double> before;
    std::optional<double> on;
    const std::initializer_list<SqlValue> key_before = {std::string_view(ticker), std::string_view(tf), false, start};
    BARFILL_TRY(sql.Query("SELECT close FROM bars WHERE ticker = $1 AND timeframe = $2 AND adjusted = $3 AND ts < $4 "
                          "ORDER BY ts DESC LIMIT 1",
                          key_before, [&](const SqlRow& row) -> Status {
                            before = row.Real(0);
                            return Ok();
                          }));
    BARFILL_TRY(sql.Query("SELECT open FROM bars WHERE ticker = $1 AND timeframe = $2 AND adjusted = $3 AND ts >= $4 "
                          "AND ts < $5 ORDER BY ts LIMIT 1",
                          {std::string_view(ticker), std::string_view(tf), false, start, end},
                          [&](const SqlRow& row) -> Status {
                            on = row.Real(0);
                            return Ok();
                          }));
    if (before && on && *before > 0 && *on > 0) return std::optional<double>(*before / *on);
  }
  return std::optional<double>();
}

/// Decides conflicting days by the raw price jump, recording the decisions as overrides.
Status PreferPriceJump(SqlSession& sql, const std::vector<ClassifiedSplit>& classified, TickerActionsReport& report) {
  std::map<CalendarDay, std::vector<const SplitRecord*>> conflicts;
  for (const ClassifiedSplit& c : classified) {
    if (c.status == ActionStatus::kConflict) conflicts[c.split.execution_date].push_back(&c.split);
  }
  for (const auto& [day, rows] : conflicts) {
    auto jump = PriceJump(sql, rows.front()->ticker, day);
    if (!jump) return Fail(jump.error());
    char observed[32] = "no raw bars";
    if (*jump) std::snprintf(observed, sizeof observed, "%.4g", **jump);
    const SplitRecord* winner = nullptr;
    int fitting = 0;
    for (const SplitRecord* s : rows) {
      if (*jump && std::abs(std::log(**jump / (s->split_to / s->split_from))) < std::log(kPriceJumpTolerance)) {
        winner = s;
        ++fitting;
      }
    }
    const std::string what = rows.front()->ticker + " " + day.ToString();
    if (fitting != 1) {
      report.decisions.push_back("--prefer price-jump could not decide " + what + " (raw close/open across the day: " +
                                 observed + "); resolve it with `barfill actions resolve`");
      continue;
    }
    const std::string note = "--prefer price-jump: raw close/open across the day is " + std::string(observed);
    for (const SplitRecord* s : rows) BARFILL_TRY(SaveOverride(sql, SplitOverride{s->id, s == winner, note}));
    report.decisions.push_back(what + ": used " + winner->id + " (" + note + ")");
  }
  return Ok();
}

/// [from, to) days on which the split factors of `a` and `b` differ, merged.
std::vector<std::pair<CalendarDay, CalendarDay>> MovedDays(const std::vector<FactorRange>& a,
                                                           const std::vector<FactorRange>& b) {
  std::set<CalendarDay> cuts;
  for (const auto* ranges : {&a, &b}) {
    for (const FactorRange& r : *ranges) {
      cuts.insert(r.from_day);
      cuts.insert(r.to_day);
    }
  }
  std::vector<std::pair<CalendarDay, CalendarDay>> moved;
  for (auto it = cuts.begin(); it != cuts.end() && std::next(it) != cuts.end(); ++it) {
    const FactorRange* x = FactorFor(a, *it);
    const FactorRange* y = FactorFor(b, *it);
    const double px = x != nullptr ? x->split_price : 1;
    const double py = y != nullptr ? y->split_price : 1;
    const double vx = x != nullptr ? x->split_volume : 1;
    const double vy = y != nullptr ? y->split_volume : 1;
    if (px == py && vx == vy) continue;
    if (!moved.empty() && moved.back().second == *it) {
      moved.back().second = *std::next(it);
    } else {
      moved.emplace_back(*it, *std::next(it));
    }
  }
  return moved;
}

/// Splits every final adjusted ledger range of `ticker` at the moved days: the parts inside go
/// stale (fetched again by the next run), the parts outside stay final. Rows are recounted.
Status MarkStale(SqlSession& sql, const std::string& ticker, const std::vector<std::pair<CalendarDay, CalendarDay>>& moved,
                 const std::string& why, std::vector<StaleMark>& marks) {
  if (moved.empty()) return Ok();
  struct Row {
    std::string timeframe;
    TimeRange range;
    int64_t attempts;
    int64_t updated_at;
  };
  std::vector<Row> rows;
  BARFILL_TRY(sql.Query("SELECT timeframe, from_ts, to_ts, attempts, updated_at FROM barfill_ledger WHERE ticker = $1 AND "
                        "adjusted = $2 AND state IN ('done', 'empty') ORDER BY timeframe, from_ts",
                        {std::string_view(ticker), true}, [&](const SqlRow& row) -> Status {
                          rows.push_back(Row{std::string(row.Text(0)), {row.TimestampMs(1), row.TimestampMs(2)},
                                             row.Int(3), row.TimestampMs(4)});
                          return Ok();
                        }));
  const MarketZone ny = MarketZone::NewYork();
  const int64_t now = store::NowMs();
  for (const Row& row : rows) {
    auto series = store::ParseSeries(ticker, row.timeframe, true);
    if (!series) return Fail(series.error());
    const Timeframe& tf = series->timeframe;
    // A bar longer than a day that holds any moved day moved with it.
    std::vector<TimeRange> stale;
    for (const auto& [from, to] : moved) {
      const TimeRange days{BucketStart(tf, ny, DayStartMs(from)), NextBucketStart(tf, ny, DayStartMs(to) - 1)};
      const TimeRange cut{std::max(days.from_ms, row.range.from_ms), std::min(days.to_ms, row.range.to_ms)};
      if (cut.empty()) continue;
      if (!stale.empty() && stale.back().to_ms >= cut.from_ms) {
        stale.back().to_ms = std::max(stale.back().to_ms, cut.to_ms);
      } else {
        stale.push_back(cut);
      }
    }
    if (stale.empty()) continue;
    const std::string& t = row.timeframe;
    BARFILL_TRY(sql.Exec("DELETE FROM barfill_ledger WHERE ticker = $1 AND timeframe = $2 AND adjusted = $3 AND "
                         "from_ts = $4 AND to_ts = $5",
                         {std::string_view(ticker), std::string_view(t), true, SqlTimestamp{row.range.from_ms},
                          SqlTimestamp{row.range.to_ms}}));
    const auto insert = [&](TimeRange part, bool is_stale) -> Status {
      if (part.empty()) return Ok();
      return sql.Exec(
          "INSERT INTO barfill_ledger (ticker, timeframe, adjusted, from_ts, to_ts, state, rows, attempts, last_error, "
          "updated_at, requests, base_aggregates) SELECT $1, $2, $3, $4, $5, CASE WHEN $6 THEN 'stale' WHEN n > 0 THEN "
          "'done' ELSE 'empty' END, n, $7, CASE WHEN $6 THEN $8 END, $9, 0, NULL FROM (SELECT count(*) AS n FROM bars "
          "WHERE ticker = $1 AND timeframe = $2 AND adjusted = $3 AND ts >= $4 AND ts < $5) c",
          {std::string_view(ticker), std::string_view(t), true, SqlTimestamp{part.from_ms}, SqlTimestamp{part.to_ms},
           is_stale, row.attempts, std::string_view(why), SqlTimestamp{is_stale ? now : row.updated_at}});
    };
    int64_t at = row.range.from_ms;
    for (const TimeRange& s : stale) {
      BARFILL_TRY(insert({at, s.from_ms}, false));
      BARFILL_TRY(insert(s, true));
      marks.push_back(StaleMark{*series, s, why});
      at = s.to_ms;
    }
    BARFILL_TRY(insert({at, row.range.to_ms}, false));
  }
  return Ok();
}

/// Classifies the ticker's listed rows, applies --prefer, rebuilds its factor ranges and marks
/// what moved stale (unless this is its first sync).
Status Reclassify(SqlSession& sql, const std::string& ticker, const ActionsSyncOptions& options, const std::string& why,
                  TickerActionsReport& report, std::vector<StaleMark>& marks) {
  auto old_ranges = StoredRanges(sql, ticker);
  if (!old_ranges) return Fail(old_ranges.error());
  auto splits = ListedSplits(sql, ticker);
  if (!splits) return Fail(splits.error());
  auto overrides = OverridesOf(sql, ticker);
  if (!overrides) return Fail(overrides.error());
  std::vector<ClassifiedSplit> classified = ClassifySplits(*splits, *overrides, options.today);
  if (options.prefer == PreferRule::kPriceJump) {
    BARFILL_TRY(PreferPriceJump(sql, classified, report));
    overrides = OverridesOf(sql, ticker);
    if (!overrides) return Fail(overrides.error());
    classified = ClassifySplits(*splits, *overrides, options.today);
  }
  std::vector<SplitRecord> active;
  report.splits = static_cast<int64_t>(classified.size());
  report.flagged.clear();
  for (const ClassifiedSplit& c : classified) {
    BARFILL_TRY(sql.Exec("UPDATE splits SET status = $2, status_reason = $3 WHERE id = $1",
                         {std::string_view(c.split.id), ActionStatusName(c.status), std::string_view(c.reason)}));
    if (c.status == ActionStatus::kActive) active.push_back(c.split);
    if (c.status == ActionStatus::kConflict || c.status == ActionStatus::kInvalid || c.status == ActionStatus::kExponent) {
      report.flagged.push_back(c);
    }
  }
  auto dividends = ListedDividends(sql, ticker);
  if (!dividends) return Fail(dividends.error());
  const std::vector<ClassifiedDividend> classified_dividends = ClassifyDividends(*dividends, options.today);
  report.dividends = static_cast<int64_t>(classified_dividends.size());
  report.dividends_flagged = 0;
  for (const ClassifiedDividend& c : classified_dividends) {
    BARFILL_TRY(sql.Exec("UPDATE dividends SET status = $2, status_reason = $3, own_factor = $4 WHERE id = $1",
                         {std::string_view(c.dividend.id), ActionStatusName(c.status), std::string_view(c.reason),
                          c.own_factor}));
    if (c.status == ActionStatus::kConflict || c.status == ActionStatus::kInvalid || c.status == ActionStatus::kExponent) {
      ++report.dividends_flagged;
    }
  }
  const std::vector<FactorRange> ranges = BuildFactorRanges(active, classified_dividends);
  BARFILL_TRY(sql.Exec("DELETE FROM barfill_adjustment_factors WHERE ticker = $1", {std::string_view(ticker)}));
  for (const FactorRange& r : ranges) {
    BARFILL_TRY(sql.Exec("INSERT INTO barfill_adjustment_factors (ticker, from_ts, to_ts, split_price, split_volume, "
                         "dividend) VALUES ($1, $2, $3, $4, $5, $6)",
                         {std::string_view(ticker), SqlTimestamp{DayStartMs(r.from_day)}, SqlTimestamp{DayStartMs(r.to_day)},
                          r.split_price, r.split_volume, r.dividend}));
  }
  if (report.first_sync) return Ok();
  report.moved = MovedDays(*old_ranges, ranges);
  return MarkStale(sql, ticker, report.moved, why, marks);
}

std::string SplitText(const SplitRecord& s) {
  char ratio[64];
  std::snprintf(ratio, sizeof ratio, "%g:%g", s.split_from, s.split_to);
  return s.execution_date.ToString() + " " + ratio;
}

/// Upserts the vendor's split rows of one ticker, counting new, changed and removed ones.
Status SaveSplits(SqlSession& sql, const std::string& ticker, const std::vector<const SplitRecord*>& listed, int64_t now,
                  TickerActionsReport& report, std::vector<std::string>& what) {
  std::map<std::string, SplitRecord> stored;  // listed at the last sync
  BARFILL_TRY(sql.Query(std::string(kSplitColumns) + "WHERE ticker = $1 AND status <> 'removed'",
                        {std::string_view(ticker)}, [&](const SqlRow& row) -> Status {
                          SplitRecord s = SplitFromRow(row);
                          stored.emplace(s.id, s);
                          return Ok();
                        }));
  std::set<std::string> seen;
  for (const SplitRecord* s : listed) {
    seen.insert(s->id);
    const auto it = stored.find(s->id);
    if (it == stored.end()) {
      ++report.splits_new;
      what.push_back("new split " + SplitText(*s));
    } else if (!it->second.SameEvent(*s) || it->second.split_from != s->split_from) {
      ++report.splits_changed;
      what.push_back("split " + SplitText(it->second) + " is now " + SplitText(*s));
    }
    std::string day;
    BARFILL_TRY(sql.Exec(
        "INSERT INTO splits (id, ticker, execution_date, split_from, split_to, adjustment_type, vendor_factor, "
        "exponent_form, status, status_reason, first_seen, last_seen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', "
        "NULL, $9, $9) ON CONFLICT (id) DO UPDATE SET ticker = excluded.ticker, execution_date = excluded.execution_date, "
        "split_from = excluded.split_from, split_to = excluded.split_to, adjustment_type = excluded.adjustment_type, "
        "vendor_factor = excluded.vendor_factor, exponent_form = excluded.exponent_form, status = 'active', "
        "last_seen = excluded.last_seen",
        {std::string_view(s->id), std::string_view(ticker), Day(s->execution_date, day), s->split_from, s->split_to,
         s->adjustment_type.empty() ? SqlValue(nullptr) : SqlValue(std::string_view(s->adjustment_type)),
         s->vendor_factor, s->exponent_form, SqlTimestamp{now}}));
  }
  for (const auto& [id, s] : stored) {
    if (seen.count(id) > 0) continue;
    ++report.splits_removed;
    what.push_back("split " + SplitText(s) + " was removed");
    BARFILL_TRY(sql.Exec("UPDATE splits SET status = 'removed', status_reason = 'no longer listed by the vendor' "
                         "WHERE id = $1",
                         {std::string_view(id)}));
  }
  return Ok();
}

Status SaveDividends(SqlSession& sql, const std::string& ticker, const std::vector<const DividendRecord*>& listed,
                     int64_t now) {
  std::set<std::string> seen;
  for (const DividendRecord* d : listed) {
    seen.insert(d->id);
    std::string declaration;
    std::string ex;
    std::string record;
    std::string pay;
    BARFILL_TRY(sql.Exec(
        "INSERT INTO dividends (id, ticker, cash_amount, currency, declaration_date, ex_dividend_date, record_date, "
        "pay_date, frequency, distribution_type, split_adjusted_cash_amount, vendor_factor, exponent_form, status, "
        "first_seen, last_seen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'active', $14, $14) "
        "ON CONFLICT (id) DO UPDATE SET cash_amount = excluded.cash_amount, currency = excluded.currency, "
        "declaration_date = excluded.declaration_date, ex_dividend_date = excluded.ex_dividend_date, "
        "record_date = excluded.record_date, pay_date = excluded.pay_date, frequency = excluded.frequency, "
        "distribution_type = excluded.distribution_type, split_adjusted_cash_amount = "
        "excluded.split_adjusted_cash_amount, vendor_factor = excluded.vendor_factor, exponent_form = "
        "excluded.exponent_form, status = 'active', last_seen = excluded.last_seen",
        {std::string_view(d->id), std::string_view(ticker), d->cash_amount, std::string_view(d->currency),
         Day(d->declaration_date, declaration), Day(d->ex_dividend_date, ex), Day(d->record_date, record),
         Day(d->pay_date, pay), static_cast<int64_t>(d->frequency), std::string_view(d->distribution_type),
         d->split_adjusted_cash_amount, d->vendor_factor, d->exponent_form, SqlTimestamp{now}}));
  }
  std::vector<std::string> gone;
  BARFILL_TRY(sql.Query("SELECT id FROM dividends WHERE ticker = $1 AND status <> 'removed'", {std::string_view(ticker)},
                        [&](const SqlRow& row) -> Status {
                          if (seen.count(std::string(row.Text(0))) == 0) gone.emplace_back(row.Text(0));
                          return Ok();
                        }));
  for (const std::string& id : gone) {
    BARFILL_TRY(sql.Exec("UPDATE dividends SET status = 'removed', status_reason = 'no longer listed by the vendor' "
                         "WHERE id = $1",
                         {std::string_view(id)}));
  }
  return Ok();
}

std::string Joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

}  // namespace

std::string_view PreferRuleName(PreferRule rule) { return rule == PreferRule::kPriceJump ? "price-jump" : "none"; }

Result<PreferRule> ParsePreferRule(std::string_view text) {
  if (text == "none") return PreferRule::kNone;
  if (text == "price-jump") return PreferRule::kPriceJump;
  return Fail(ErrorCode::kUsage, "--prefer must be none or price-jump (got '" + std::string(text) + "')");
}

Result<ActionsSyncReport> StoreActions(BarStore& store, const std::vector<std::string>& tickers,
                                       const std::vector<SplitRecord>& splits,
                                       const std::vector<DividendRecord>& dividends, const ActionsSyncOptions& options) {
  ActionsSyncReport report;
  const Status done = store.InTransaction(false, [&](SqlSession& sql) -> Status {
    report = ActionsSyncReport{};  // a retried transaction starts over
    const int64_t now = store::NowMs();
    for (const std::string& ticker : tickers) {
      TickerActionsReport t;
      t.ticker = ticker;
      bool synced_before = false;
      BARFILL_TRY(sql.Query("SELECT 1 FROM barfill_actions_sync WHERE ticker = $1", {std::string_view(ticker)},
                            [&](const SqlRow&) -> Status {
                              synced_before = true;
                              return Ok();
                            }));
      t.first_sync = !synced_before;
      std::vector<const SplitRecord*> listed_splits;
      for (const SplitRecord& s : splits) {
        if (s.ticker == ticker) listed_splits.push_back(&s);
      }
      std::vector<const DividendRecord*> listed_dividends;
      for (const DividendRecord& d : dividends) {
        if (d.ticker == ticker) listed_dividends.push_back(&d);
      }
      std::vector<std::string> what;
      BARFILL_TRY(SaveSplits(sql, ticker, listed_splits, now, t, what));
      BARFILL_TRY(SaveDividends(sql, ticker, listed_dividends, now));
      const std::string why = "the split table of " + ticker + " changed: " + (what.empty() ? "a decision" : Joined(what));
      BARFILL_TRY(Reclassify(sql, ticker, options, why, t, report.stale));
      BARFILL_TRY(sql.Exec("INSERT INTO barfill_actions_sync (ticker, synced_at, splits, dividends, flagged) VALUES "
                           "($1, $2, $3, $4, $5) ON CONFLICT (ticker) DO UPDATE SET synced_at = excluded.synced_at, "
                           "splits = excluded.splits, dividends = excluded.dividends, flagged = excluded.flagged",
                           {std::string_view(ticker), SqlTimestamp{now}, t.splits, t.dividends,
                            static_cast<int64_t>(t.flagged.size()) + t.dividends_flagged}));
      report.tickers.push_back(std::move(t));
    }
    return Ok();
  });
  if (!done) return Fail(done.error());
  return report;
}

Result<ActionsSyncReport> ResolveSplit(BarStore& store, const SplitOverride& decision, const ActionsSyncOptions& options) {
  ActionsSyncReport report;
  const Status done = store.InTransaction(false, [&](SqlSession& sql) -> Status {
    report = ActionsSyncReport{};
    std::optional<SplitRecord> split;
    BARFILL_TRY(sql.Query(std::string(kSplitColumns) + "WHERE id = $1", {std::string_view(decision.split_id)},
                          [&](const SqlRow& row) -> Status {
                            split = SplitFromRow(row);
                            return Ok();
                          }));
    if (!split) {
      return Fail(ErrorCode::kNotFound, "no split with id " + decision.split_id +
                                            " is stored; `barfill status` lists the flagged ones with their ids");
    }
    BARFILL_TRY(SaveOverride(sql, decision));
    TickerActionsReport t;
    t.ticker = split->ticker;
    t.decisions.push_back((decision.use ? "use " : "ignore ") + split->id + " (" + SplitText(*split) + ")");
    const std::string why = "the split table of " + split->ticker + " changed: " + t.decisions.back();
    ActionsSyncOptions no_rule = options;
    no_rule.prefer = PreferRule::kNone;
    BARFILL_TRY(Reclassify(sql, split->ticker, no_rule, why, t, report.stale));
    BARFILL_TRY(sql.Exec("UPDATE barfill_actions_sync SET flagged = $2 WHERE ticker = $1",
                         {std::string_view(split->ticker), static_cast<int64_t>(t.flagged.size()) + t.dividends_flagged}));
    report.tickers.push_back(std::move(t));
    return Ok();
  });
  if (!done) return Fail(done.error());
  return report;
}

Result<std::vector<FactorRange>> ReadFactorRanges(BarStore& store, const std::string& ticker) {
  std::vector<FactorRange> ranges;
  const Status done = store.InTransaction(true, [&](SqlSession& sql) -> Status {
    auto read = StoredRanges(sql, ticker);
    if (!read) return Fail(read.error());
    ranges = std::move(*read);
    return Ok();
  });
  if (!done) return Fail(done.error());
  return ranges;
}

Result<std::vector<ActionsStatus>> ReadActionsStatus(BarStore& store) {
  std::vector<ActionsStatus> out;
  const Status done = store.InTransaction(true, [&](SqlSession& sql) -> Status {
    out.clear();
    BARFILL_TRY(sql.Query("SELECT ticker, synced_at, splits, dividends, flagged FROM barfill_actions_sync ORDER BY ticker",
                          {}, [&](const SqlRow& row) -> Status {
                            out.push_back(ActionsStatus{std::string(row.Text(0)), row.TimestampMs(1), row.Int(2),
                                                        row.Int(3), row.Int(4), {}});
                            return Ok();
                          }));
    for (ActionsStatus& a : out) {
      BARFILL_TRY(sql.Query(std::string(kSplitColumns) +
                                "WHERE ticker = $1 AND status IN ('conflict', 'invalid', 'exponent') ORDER BY execution_date, id",
                            {std::string_view(a.ticker)}, [&](const SqlRow& row) -> Status {
                              auto status = ParseActionStatus(row.Text(8));
                              if (!status) return Fail(status.error());
                              a.flagged_splits.push_back(ClassifiedSplit{SplitFromRow(row), *status,
                                                                         row.IsNull(9) ? "" : std::string(row.Text(9))});
                              return Ok();
                            }));
    }
    return Ok();
  });
  if (!done) return Fail(done.error());
  return out;
}

}  // namespace barfill
