// Planning the flat-file part of a run: which day files serve the plan (one object per asset
// class, bar size and day, every ticker in it), which of those the ledger holds already at the
// same version (skipped), which the vendor replaced since (fetched again), and which days
// should have a file by now but have none (reported; REST fetches them in auto mode).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/series.h"
#include "engine/plan.h"
#include "flatfiles/day_file_reader.h"
#include "flatfiles/key_layout.h"
#include "flatfiles/s3_client.h"
#include "store/bar_store.h"

namespace barfill::engine {

/// One day file to fetch.
struct FileWork {
  flatfiles::DayFileKey key;
  flatfiles::ObjectInfo object;  ///< as the listing showed it
  bool replaced = false;         ///< the ledger holds another version
  /// The timeframes an earlier load of the same version stored for every ticker (kept in the
  /// file's row with this run's when this run stores every ticker too), comma-separated.
  std::string stored_before;
  /// What the file accounts for in the market's zone: its day, and the days around it the
  /// market is closed (weekends, holidays) up to the neighbouring file or the plan's ends, so a
  /// run from files leaves no closed day for REST to ask about.
  TimeRange range;
};

struct FilePlan {
  std::vector<flatfiles::Dataset> datasets;  ///< the families of files the plan uses
  std::vector<FileWork> files;               ///< to fetch, by key
  std::vector<FileWork> unchanged;           ///< listed, loaded before at the same version: skipped
  int64_t listed = 0;
  int64_t replaced = 0;
  std::vector<std::string> missing;          ///< "us_stocks_sip/minute_aggs_v1 2025-03-03": expected, not listed
};

/// Whether flat files can serve `series`: unadjusted (files are), minute or day bars, of an
/// asset class with files; with `derive`, also the multi-minute bars built from minute rows
/// (DerivableFromMinutes).
bool FilesServe(const Series& series, bool derive = false);

/// The timeframes of `plan` that `--derive` builds from minute files (none without it, or for
/// an adjusted plan), in plan order.
std::vector<Timeframe> DerivedTimeframes(const Plan& plan);

/// The timeframes a file of `bar_size` stores for `plan`: its own when the plan asks for it,
/// and, for minute files, the derived ones. Its own comes first.
std::vector<Timeframe> StoredFrom(const Plan& plan, flatfiles::FileTimeframe bar_size);

/// "1m,5m,1h": timeframes as barfill_files.timeframes holds them.
std::string TimeframesText(std::span<const Timeframe> timeframes);

/// The dataset whose files serve `series` of `plan` (nullopt: none).
std::optional<flatfiles::Dataset> DatasetServing(const Plan& plan, const Series& series);

/// Which tickers of an `asset` day file the plan stores: with "tickers all", every one its
/// `--ticker-prefix`/`--exclude` let through; else the plan's own.
flatfiles::TickerFilter FilesFilter(const Plan& plan, AssetClass asset);

/// The plan's datasets: for every asset class it asks for (its tickers' or "all"), the minute
/// and day files its timeframes need; none when the plan wants adjusted bars.
std::vector<flatfiles::Dataset> DatasetsOf(const Plan& plan);

/// Lists the plan's months of each dataset and decides file by file (see the header comment).
/// `today` (UTC) ends the plan's days; `now_ms` decides which days should be published by now.
Result<FilePlan> PlanFiles(const Plan& plan, BarStore& store, flatfiles::S3Client& client, CalendarDay today,
                           int64_t now_ms);

/// The ranges of `dataset` that `files` account for (FileWork::range): the files to load, so the
/// REST planner can leave them out of a dry run's estimate; or those loaded before.
std::vector<TimeRange> FileDays(std::span<const FileWork> files, flatfiles::Dataset dataset);

}  // namespace barfill::engine
