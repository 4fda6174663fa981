#include "core/corporate_actions.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <tuple>

namespace barfill {
namespace {

bool PositiveNumber(double x) { return std::isfinite(x) && x > 0; }

const SplitOverride* OverrideOf(const std::vector<SplitOverride>& overrides, const std::string& id) {
  const SplitOverride* found = nullptr;
  for (const SplitOverride& o : overrides) {
    if (o.split_id == id) found = &o;  // the last decision wins
  }
  return found;
}

std::string RatioText(const SplitRecord& s) {
  char text[64];
  std::snprintf(text, sizeof text, "%g:%g", s.split_from, s.split_to);
  return text;
}

}  // namespace

std::string_view ActionStatusName(ActionStatus status) {
  switch (status) {
    case ActionStatus::kActive: return "active";
    case ActionStatus::kDuplicate: return "duplicate";
    case ActionStatus::kConflict: return "conflict";
    case ActionStatus::kInvalid: return "invalid";
    case ActionStatus::kExponent: return "exponent";
    case ActionStatus::kPending: return "pending";
    case ActionStatus::kIgnored: return "ignored";
    case ActionStatus::kRemoved: return "removed";
  }
  return "active";
}

Result<ActionStatus> ParseActionStatus(std::string_view text) {
  for (const ActionStatus s : {ActionStatus::kActive, ActionStatus::kDuplicate, ActionStatus::kConflict,
                               ActionStatus::kInvalid, ActionStatus::kExponent, ActionStatus::kPending,
                               ActionStatus::kIgnored, ActionStatus::kRemoved}) {
    if (ActionStatusName(s) == text) return s;
  }
  return Fail(ErrorCode::kDatabase, "unknown corporate-action status '" + std::string(text) + "'");
}

std::vector<ClassifiedSplit> ClassifySplits(std::vector<SplitRecord> splits,
                                            const std::vector<SplitOverride>& overrides, CalendarDay today) {
  std::sort(splits.begin(), splits.end(), [](const SplitRecord& a, const SplitRecord& b) {
    return std::tie(a.execution_date, a.id) < std::tie(b.execution_date, b.id);
  });
  std::vector<ClassifiedSplit> out;
  out.reserve(splits.size());
  for (SplitRecord& s : splits) out.push_back(ClassifiedSplit{std::move(s), ActionStatus::kActive, ""});

  // Rows that take part in a day's comparison: sound, or taken in by an override.
  std::vector<bool> candidate(out.size(), false);
  for (size_t i = 0; i < out.size(); ++i) {
    ClassifiedSplit& c = out[i];
    const SplitOverride* o = OverrideOf(overrides, c.split.id);
    if (!PositiveNumber(c.split.split_from) || !PositiveNumber(c.split.split_to)) {
      c.status = ActionStatus::kInvalid;
      c.reason = "ratio " + RatioText(c.split) + " is not two positive numbers";
    } else if (o != nullptr && !o->use) {
      c.status = ActionStatus::kIgnored;
      c.reason = "override: " + o->note;
    } else if (c.split.exponent_form && o == nullptr) {
      c.status = ActionStatus::kExponent;
      c.reason = "ratio written in exponent form; resolve it to use it";
    } else {
      candidate[i] = true;
    }
  }
  // One day at a time: one split (perhaps listed twice), or rows that disagree.
  for (size_t begin = 0; begin < out.size();) {
    size_t end = begin;
    while (end < out.size() && out[end].split.execution_date == out[begin].split.execution_date) ++end;
    std::vector<size_t> rows;
    std::vector<size_t> chosen;
    for (size_t i = begin; i < end; ++i) {
      if (!candidate[i]) continue;
      rows.push_back(i);
      const SplitOverride* o = OverrideOf(overrides, out[i].split.id);
      if (o != nullptr && o->use) chosen.push_back(i);
    }
    const std::vector<size_t>& pool = chosen.empty() ? rows : chosen;
    bool agree = true;
    for (const size_t i : pool) agree = agree && out[i].split.SameEvent(out[pool.front()].split);
    for (const size_t i : rows) {
      ClassifiedSplit& c = out[i];
      const bool in_pool = std::find(pool.begin(), pool.end(), i) != pool.end();
      if (!in_pool) {
        c.status = ActionStatus::kIgnored;
        c.reason = "another row of " + c.split.execution_date.ToString() + " was chosen";
      } else if (!agree) {
        c.status = ActionStatus::kConflict;
        std::string others;
        for (const size_t j : pool) {
          if (j != i) others += (others.empty() ? "" : ", ") + RatioText(out[j].split) + " (" + out[j].split.id + ")";
        }
        c.reason = c.split.ticker + " " + c.split.execution_date.ToString() + " is listed as " + RatioText(c.split) +
                   " and as " + others + "; resolve with --prefer or `barfill actions resolve`";
      } else if (i != pool.front()) {
        c.status = ActionStatus::kDuplicate;
        c.reason = "the same split as " + out[pool.front()].split.id;
      } else if (today < c.split.execution_date) {
        c.status = ActionStatus::kPending;
        c.reason = "executes after today";
      }
    }
    begin = end;
  }
  return out;
}

std::vector<ClassifiedDividend> ClassifyDividends(std::vector<DividendRecord> dividends, CalendarDay today) {
  std::sort(dividends.begin(), dividends.end(), [](const DividendRecord& a, const DividendRecord& b) {
    return std::tie(a.ex_dividend_date, a.id) < std::tie(b.ex_dividend_date, b.id);
  });
  std::vector<ClassifiedDividend> out;
  out.reserve(dividends.size());
  for (DividendRecord& d : dividends) out.push_back(ClassifiedDividend{std::move(d), ActionStatus::kActive, "", kNoFactor});
  for (size_t begin = 0; begin < out.size();) {
    size_t end = begin;
    while (end < out.size() && out[end].dividend.ex_dividend_date == out[begin].dividend.ex_dividend_date) ++end;
    std::optional<size_t> first;
    bool agree = true;
    for (size_t i = begin; i < end; ++i) {
      ClassifiedDividend& c = out[i];
      const DividendRecord& d = c.dividend;
      if (!PositiveNumber(d.cash_amount) || !PositiveNumber(d.vendor_factor) || d.vendor_factor > 1) {
        c.status = ActionStatus::kInvalid;
        c.reason = "cash amount or factor is not a positive number (factor at most 1)";
      } else if (d.exponent_form) {
        c.status = ActionStatus::kExponent;
        c.reason = "an amount written in exponent form";
      } else if (!first) {
        first = i;
      } else if (d.cash_amount == out[*first].dividend.cash_amount) {
        c.status = ActionStatus::kDuplicate;
        c.reason = "the same dividend as " + out[*first].dividend.id;
      } else {
        agree = false;
      }
    }
    if (!agree) {
      for (size_t i = begin; i < end; ++i) {
        if (out[i].status != ActionStatus::kActive && out[i].status != ActionStatus::kDuplicate) continue;
        out[i].status = ActionStatus::kConflict;
        out[i].reason = "two different amounts on " + out[i].dividend.ex_dividend_date.ToString();
      }
    } else if (first && today < out[*first].dividend.ex_dividend_date) {
      out[*first].status = ActionStatus::kPending;
      out[*first].reason = "goes ex after today";
    }
    begin = end;
  }
  // A dividend's own factor: its cumulative factor over the cumulative factor of the next dividend
  // the vendor lists (used or not: the vendor's chain includes it).
  double next_cumulative = 1;
  for (size_t i = out.size(); i-- > 0;) {
    ClassifiedDividend& c = out[i];
    if (!PositiveNumber(c.dividend.vendor_factor) || c.dividend.vendor_factor > 1) continue;
    if (c.status == ActionStatus::kDuplicate) continue;
    if (c.status == ActionStatus::kActive) c.own_factor = c.dividend.vendor_factor / next_cumulative;
    next_cumulative = c.dividend.vendor_factor;
  }
  return out;
}

std::vector<FactorRange> BuildFactorRanges(const std::vector<SplitRecord>& active_splits,
                                           const std::vector<ClassifiedDividend>& dividends) {
  // Per day, the factor its actions apply to every day before it.
  struct DayFactors {
    double price = 1;
    double volume = 1;
    double dividend = 1;
  };
  std::map<CalendarDay, DayFactors> by_day;
  for (const SplitRecord& s : active_splits) {
    DayFactors& f = by_day[s.execution_date];
    f.price *= s.split_from / s.split_to;
    f.volume *= s.split_to / s.split_from;
  }
  for (const ClassifiedDividend& d : dividends) {
    if (d.status != ActionStatus::kActive || std::isnan(d.own_factor)) continue;
    by_day[d.dividend.ex_dividend_date].dividend *= d.own_factor;
  }
  std::vector<FactorRange> ranges(by_day.size());
  double price = 1;
  double volume = 1;
  double dividend = 1;
  size_t k = ranges.size();
  for (auto it = by_day.rbegin(); it != by_day.rend(); ++it) {
    price *= it->second.price;
    volume *= it->second.volume;
    dividend *= it->second.dividend;
    FactorRange& r = ranges[--k];
    r.to_day = it->first;
    r.split_price = price;
    r.split_volume = volume;
    r.dividend = dividend;
  }
  for (size_t i = 0; i < ranges.size(); ++i) ranges[i].from_day = i == 0 ? kFirstAdjustedDay : ranges[i - 1].to_day;
  return ranges;
}

const FactorRange* FactorFor(const std::vector<FactorRange>& ranges, CalendarDay day) {
  const auto it = std::upper_bound(ranges.begin(), ranges.end(), day,
                                   [](CalendarDay d, const FactorRange& r) { return d < r.to_day; });
  if (it == ranges.end() || day < it->from_day) return nullptr;
  return &*it;
}

std::string_view AdjustmentName(Adjustment adjustment) {
  switch (adjustment) {
    case Adjustment::kNone: return "none";
    case Adjustment::kSplits: return "splits";
    case Adjustment::kTotalReturn: return "total-return";
  }
  return "none";
}

Result<Adjustment> ParseAdjustment(std::string_view text) {
  for (const Adjustment a : {Adjustment::kNone, Adjustment::kSplits, Adjustment::kTotalReturn}) {
    if (AdjustmentName(a) == text) return a;
  }
  return Fail(ErrorCode::kUsage, "adjustment must be none, splits or total-return (got '" + std::string(text) + "')");
}

Bar AdjustBar(const Bar& raw, const FactorRange& range, Adjustment adjustment) {
  Bar out = raw;
  if (adjustment == Adjustment::kNone) return out;
  const auto price = [&](double x) {
    return adjustment == Adjustment::kSplits ? SplitAdjustedPrice(x, range.split_price)
                                             : x * range.split_price * range.dividend;
  };
  out.open = price(raw.open);
  out.high = price(raw.high);
  out.low = price(raw.low);
  out.close = price(raw.close);
  if (raw.HasVwap()) out.vwap = price(raw.vwap);
  out.volume = raw.volume * range.split_volume;
  return out;
}

void AdjustBars(BarBatch& bars, const std::vector<FactorRange>& ranges, Adjustment adjustment) {
  if (adjustment == Adjustment::kNone || ranges.empty()) return;
  const MarketZone ny = MarketZone::NewYork();
  for (size_t i = 0; i < bars.size(); ++i) {
    const FactorRange* range = FactorFor(ranges, ny.DayOf(bars.t[i]));
    if (range != nullptr) bars.Set(i, AdjustBar(bars[i], *range, adjustment));
  }
}

}  // namespace barfill
