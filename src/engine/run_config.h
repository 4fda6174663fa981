// A run's settings: as given (RunSettings: text and numbers, empty meaning "the default"), and
// resolved (RunConfig: checked, defaults applied, ready to open stores and start fetching).
// ResolveRunConfig is pure: it reads no environment, file, network or database.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "core/result.h"
#include "engine/plan.h"
#include "fetch/chunk_fetcher.h"
#include "fetch/rate_limiter.h"
#include "flatfiles/s3_client.h"
#include "store/actions_store.h"
#include "store/bar_store.h"

namespace barfill::engine {

inline constexpr int kDefaultConcurrency = 8;
inline constexpr const char* kDefaultRate = "paid";
inline constexpr const char* kDefaultBaseUrl = "https://api.polygon.io";
/// Two COPY sessions load PostgreSQL about 35% faster than one when two cores are free
/// (docs/design.md §12); more sessions cannot help on a small machine.
inline constexpr int kDefaultPostgresWriters = 2;
inline constexpr int kMaxWriters = 16;
/// Day files in one transaction at most (each is read whole into scratch disk first).
inline constexpr int kMaxFilesPerTransaction = 64;
inline constexpr double kMaxStallTimeoutS = 3600;

/// The corporate-actions sync a run of stock tickers does before its bars (docs/corporate-actions.md).
struct ActionsOptions {
  bool sync = true;                       ///< fetch splits and dividends of the plan's stocks first
  PreferRule prefer = PreferRule::kNone;  ///< how conflicting split rows are resolved
  bool compare_v3 = false;                ///< also read /v3/reference/splits and report where it disagrees
  bool refresh_stale = false;             ///< fetch every stale range of the plan's tickers, not only the plan's
  /// A backfill syncs the stocks whose last sync is at least this old: by default every run, so
  /// that no run keeps adjusted bars the vendor's current split table contradicts; a longer age
  /// (the vendor changes its table overnight) saves the requests of frequent runs.
  /// `barfill actions sync` always syncs.
  std::chrono::milliseconds max_age{0};
};

/// How a run should behave, as a caller gives it. Empty strings and unset values take the plan
/// file's value (Plan::rate, ...) if it has one, else the default.
struct RunSettings {
  std::string db_url;            ///< required: "sqlite:PATH" or a PostgreSQL URL / conninfo
  std::string base_url;          ///< default https://api.polygon.io
  std::string api_key;           ///< required unless dry_run; never printed
  bool api_key_in_query = false;  ///< ?apiKey= instead of an Authorization header
  std::string rate;              ///< "free", "paid" (default), "N/min", "N/s"
  std::optional<int> concurrency;  ///< requests in flight; default 8
  std::optional<int> writers;      ///< database sessions writing at once; default 2 (PostgreSQL) or 1 (SQLite)
  std::string compression = "auto";  ///< gzip: on, off, or auto (off for a server on this machine)
  double stall_timeout_s = 0;    ///< how long a response may stall; 0: the asset profile's
  std::string ca_file;           ///< extra CA bundle for TLS
  bool fallback_daily = false;   ///< failing intraday series get daily bars (reported as degraded)
  bool dry_run = false;          ///< plan only: no API key needed, nothing fetched
  /// Where bars come from: "auto" (flat files for what they hold when S3 keys are given, REST for
  /// the rest), "rest", or "files" (flat files only).
  std::string source = "auto";
  /// Grouped daily: "auto" (one request per market day for a market's 1d series when that needs
  /// fewer requests than per-ticker ranges) or "off" (per-ticker ranges always).
  std::string grouped = "auto";
  /// `--derive`: build unadjusted multi-minute bars (5m, 15m, 1h, ...) from the minute files' rows
  /// on the days a file covers, instead of asking REST (Plan::derive).
  bool derive = false;
  std::string files_url;         ///< default https://files.massive.com
  std::string files_bucket;      ///< default flatfiles
  std::string files_access_key;  ///< the S3 keys (not the REST key); never printed
  std::string files_secret_key;
  std::string files_ca_file;     ///< default: ca_file
  /// Day files a writer stores in one transaction, in the bars key's order (FilePassOptions); default 16.
  std::optional<int> files_per_transaction;
  /// A plan reaching into the last days fetches each series' last N sessions again and reports
  /// vendor revisions (engine/refresh.h); default 2, 0 turns it off.
  std::optional<int> refresh_sessions;
  ActionsOptions actions;        ///< the corporate-actions sync before the bars
};

/// Where a run's bars come from.
enum class Source { kAuto, kRest, kFiles };

/// A checked run: what the job needs and nothing else.
struct RunConfig {
  Plan plan;
  std::string db_url;
  StoreKind store_kind = StoreKind::kSqlite;
  int writers = 1;
  int concurrency = kDefaultConcurrency;
  fetch::RateSpec rate;
  fetch::FetchConfig fetch_config;  ///< base URL, key, HTTP settings
  bool fallback_daily = false;
  bool dry_run = false;
  Source source = Source::kAuto;
  /// Whether the planner may request 1d series by market day (grouped daily) when cheaper.
  bool grouped = true;
  /// The flat files to use, when the source takes them (auto with S3 keys, or files).
  std::optional<flatfiles::S3Options> files;
  int files_per_transaction = 16;  ///< see RunSettings::files_per_transaction
  /// Whether REST serves the series the files do not (or cannot). "tickers all" asks REST (with
  /// an API key) for the days no file covers, for the tickers that traded in the files' last week.
  bool UsesRest() const { return source != Source::kFiles && (!plan.all_tickers || !fetch_config.api_key.empty()); }
  int refresh_sessions = 2;  ///< see RunSettings::refresh_sessions
  ActionsOptions actions;
};

/// Checks `settings` against each other and `plan`, applies defaults, and returns the resolved
/// run. Every problem is a kUsage error naming the setting and the fix.
Result<RunConfig> ResolveRunConfig(Plan plan, const RunSettings& settings);

/// True for http(s)://localhost, 127.x.x.x or [::1]: a server on this machine.
bool IsLoopbackUrl(const std::string& url);

}  // namespace barfill::engine
