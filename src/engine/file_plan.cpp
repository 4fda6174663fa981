#include "engine/file_plan.h"

#include <algorithm>
#include <map>
#include <optional>

#include "calendar/exchange_calendar.h"
#include "core/bar_fold.h"
#include "engine/planner.h"

namespace barfill::engine {
namespace {

/// Minute files of a session are complete by about 11:00 New York the next day; two hours more
/// before a day without a file counts as missing rather than late.
constexpr int64_t kPublishedByMs = 13 * kMsPerHour;

/// Whether the vendor should publish a file of `asset` for `day`: the key layout's rule, and for
/// markets with an exchange calendar, a day it trades.
bool Expected(AssetClass asset, CalendarDay day) {
  if (!flatfiles::PublishesFileOn(asset, day)) return false;
  if (asset != AssetClass::kStock && asset != AssetClass::kOption) return true;
  auto session = calendar::ExchangeCalendar::For(asset).SessionOn(day);
  return !session || session->is_open();
}

/// Whether every one of `covered` (each a series' final ranges) holds all of `range`.
bool CoveredByAll(const std::vector<std::vector<TimeRange>>& covered, TimeRange range) {
  if (covered.empty()) return false;
  return std::all_of(covered.begin(), covered.end(),
                     [&](const std::vector<TimeRange>& ranges) { return Subtract(range, ranges).empty(); });
}

}  // namespace

bool FilesServe(const Series& series, bool derive) {
  if (series.adjusted) return false;
  const Timeframe minute(1, Timespan::kMinute);
  const Timeframe day(1, Timespan::kDay);
  return series.timeframe == minute || series.timeframe == day || (derive && DerivableFromMinutes(series.timeframe));
}

std::vector<Timeframe> DerivedTimeframes(const Plan& plan) {
  std::vector<Timeframe> out;
  if (!plan.derive || plan.adjusted) return out;
  for (const Timeframe& tf : plan.timeframes) {
    if (DerivableFromMinutes(tf)) out.push_back(tf);
  }
  return out;
}

std::vector<Timeframe> StoredFrom(const Plan& plan, flatfiles::FileTimeframe bar_size) {
  std::vector<Timeframe> out;
  if (plan.adjusted) return out;
  const Timeframe own = flatfiles::TimeframeOf(bar_size);
  if (std::find(plan.timeframes.begin(), plan.timeframes.end(), own) != plan.timeframes.end()) out.push_back(own);
  if (bar_size == flatfiles::FileTimeframe::kMinute) {
    for (const Timeframe& tf : DerivedTimeframes(plan)) out.push_back(tf);
  }
  return out;
}

std::optional<flatfiles::Dataset> DatasetServing(const Plan& plan, const Series& series) {
  if (series.adjusted != plan.adjusted || !FilesServe(series, plan.derive)) return std::nullopt;
  for (const flatfiles::FileTimeframe bar_size : {flatfiles::FileTimeframe::kMinute, flatfiles::FileTimeframe::kDay}) {
    const std::vector<Timeframe> stored = StoredFrom(plan, bar_size);
    if (std::find(stored.begin(), stored.end(), series.timeframe) != stored.end()) {
      return flatfiles::Dataset{series.ticker.asset_class(), bar_size};
    }
  }
  return std::nullopt;
}

flatfiles::TickerFilter FilesFilter(const Plan& plan, AssetClass asset) {
  flatfiles::TickerFilter filter;
  if (plan.all_tickers) {
    filter.prefixes = plan.ticker_prefixes;
    filter.exclude.insert(plan.exclude.begin(), plan.exclude.end());
    return filter;
  }
  for (const Ticker& t : plan.tickers) {
    if (t.asset_class() == asset) filter.only.insert(t.symbol());
  }
  return filter;
}

std::vector<flatfiles::Dataset> DatasetsOf(const Plan& plan) {
  std::vector<flatfiles::Dataset> out;
  if (plan.adjusted) return out;
  std::vector<AssetClass> assets;
  if (plan.all_tickers) assets.push_back(*plan.all_tickers);
  for (const Ticker& t : plan.tickers) {
    if (std::find(assets.begin(), assets.end(), t.asset_class()) == assets.end()) assets.push_back(t.asset_class());
  }
  for (const AssetClass asset : assets) {
    for (const flatfiles::FileTimeframe bar_size : {flatfiles::FileTimeframe::kMinute, flatfiles::FileTimeframe::kDay}) {
      if (!StoredFrom(plan, bar_size).empty()) out.push_back({asset, bar_size});
    }
  }
  return out;
}

std::string TimeframesText(std::span<const Timeframe> timeframes) {
  std::string out;
  for (const Timeframe& tf : timeframes) out += (out.empty() ? "" : ",") + tf.ToString();
  return out;
}

/// Whether the file's row says every ticker of it was stored in each of `wanted`.
static bool StoredAll(const FileRecord& record, flatfiles::FileTimeframe bar_size, std::span<const Timeframe> wanted) {
  if (!record.all_tickers) return false;
  const std::vector<std::string> had =
      record.timeframes.empty() ? std::vector<std::string>{flatfiles::TimeframeOf(bar_size).ToString()} : SplitList(record.timeframes);
  return std::all_of(wanted.begin(), wanted.end(), [&](const Timeframe& tf) {
    return std::find(had.begin(), had.end(), tf.ToString()) != had.end();
  });
}

Result<FilePlan> PlanFiles(const Plan& plan, BarStore& store, flatfiles::S3Client& client, CalendarDay today,
                           int64_t now_ms) {
  FilePlan out;
  out.datasets = DatasetsOf(plan);
  const CalendarDay last = std::min(plan.to, today);
  for (const flatfiles::Dataset dataset : out.datasets) {
    const MarketZone zone = ZoneFor(dataset.asset);
    // What the bucket holds for the plan's months.
    std::map<int64_t, flatfiles::ObjectInfo> listed;  // by day
    for (CalendarDay month{plan.from.year, plan.from.month, 1}; month <= last;
         month = month.month == 12 ? CalendarDay{month.year + 1, 1, 1} : CalendarDay{month.year, month.month + 1, 1}) {
      auto listing = client.ListAll(flatfiles::MonthPrefix(dataset, month));
      if (!listing) return Fail(listing.error());
      for (const flatfiles::ObjectInfo& object : listing->objects) {
        auto key = flatfiles::ParseKey(object.key);
        if (key && key->dataset == dataset) listed[key->day.DaysSinceEpoch()] = object;
      }
    }
    // What the ledger holds: the files loaded before, and each listed series' final ranges.
    auto loaded = store.ReadFiles(flatfiles::DatasetPrefix(dataset));
    if (!loaded) return Fail(loaded.error());
    std::map<std::string, FileRecord, std::less<>> by_key;
    for (FileRecord& f : *loaded) by_key.emplace(f.key, std::move(f));
    // With --derive a minute file serves several timeframes: it is done with when all are.
    const std::vector<Timeframe> stored = StoredFrom(plan, dataset.timeframe);
    std::vector<std::vector<TimeRange>> covered;
    for (const Ticker& ticker : plan.tickers) {
      if (ticker.asset_class() != dataset.asset) continue;
      for (const Timeframe& tf : stored) {
        auto ledger = store.ReadLedger(Series{ticker, tf, false});
        if (!ledger) return Fail(ledger.error());
        std::vector<TimeRange>& ranges = covered.emplace_back();
        for (const LedgerEntry& e : *ledger) {
          if (e.state == ChunkState::kDone || e.state == ChunkState::kEmpty) ranges.push_back(e.range);
        }
      }
    }
    // Closed days (no file expected, none listed) before a file are its to account for; those
    // after the last file, the last file's.
    std::optional<CalendarDay> closed_from;
    // The file before (among the files to load or the unchanged ones), while only closed days follow it.
    std::vector<FileWork>* previous_in = nullptr;
    size_t previous = 0;
    for (CalendarDay day = plan.from; day <= last; day = day.AddDays(1)) {
      const auto object = listed.find(day.DaysSinceEpoch());
      if (object == listed.end()) {
        if (!Expected(dataset.asset, day)) {
          if (!closed_from) closed_from = day;
          continue;
        }
        if (now_ms > ZoneFor(AssetClass::kStock).DayStartMs(day.AddDays(1)) + kPublishedByMs) {
          out.missing.push_back(std::string(flatfiles::DatasetPrefix(dataset)) + " " + day.ToString());
        }
        closed_from.reset();
        previous_in = nullptr;
        continue;
      }
      const TimeRange range = zone.DaysToRange(closed_from.value_or(day), day);
      closed_from.reset();
      previous_in = nullptr;
      ++out.listed;
      const auto record = by_key.find(object->second.key);
      const bool known = record != by_key.end();
      const bool same = known && record->second.etag == object->second.etag && record->second.size == object->second.size;
      const bool covered_here = CoveredByAll(covered, zone.DaysToRange(day, day));
      const bool skip = (same && (StoredAll(record->second, dataset.timeframe, stored) || covered_here)) || (!known && covered_here);
      FileWork work{flatfiles::DayFileKey{dataset, day, object->second.key}, object->second, known && !same, "", range};
      if (!skip && same && record->second.all_tickers) {
        work.stored_before = record->second.timeframes.empty() ? flatfiles::TimeframeOf(dataset.timeframe).ToString()
                                                               : record->second.timeframes;
      }
      if (work.replaced) ++out.replaced;  // (never a skipped one: it is the same version)
      previous_in = skip ? &out.unchanged : &out.files;
      previous_in->push_back(std::move(work));
      previous = previous_in->size() - 1;
    }
    // Closed days after the last file, up to yesterday: the last file's.
    if (closed_from && previous_in != nullptr) {
      const CalendarDay closed_to = std::min(last, today.AddDays(-1));
      if (*closed_from <= closed_to) (*previous_in)[previous].range.to_ms = zone.DaysToRange(closed_to, closed_to).to_ms;
    }
  }
  return out;
}

std::vector<TimeRange> FileDays(std::span<const FileWork> files, flatfiles::Dataset dataset) {
  std::vector<TimeRange> days;
  for (const FileWork& f : files) {
    if (f.key.dataset == dataset) days.push_back(f.range);
  }
  return days;
}

}  // namespace barfill::engine
