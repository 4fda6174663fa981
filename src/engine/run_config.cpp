#include "engine/run_config.h"

#include "core/bar_fold.h"
#include "engine/refresh.h"
#include "polygon/aggs_request.h"

namespace barfill::engine {
namespace {

Status CheckBaseUrl(const std::string& url, std::string_view what = "base URL") {
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    return Fail(ErrorCode::kUsage, std::string(what) + " '" + url + "' must start with https:// (or http:// for a local simulator)");
  }
  return Ok();
}

}  // namespace

bool IsLoopbackUrl(const std::string& url) {
  const auto origin = polygon::ParseOrigin(url);
  if (!origin) return false;
  const std::string& host = origin->host;
  return host == "localhost" || host.starts_with("127.") || host == "[::1]" || host == "::1";
}

Result<RunConfig> ResolveRunConfig(Plan plan, const RunSettings& settings) {
  RunConfig config;
  config.concurrency = settings.concurrency.value_or(plan.concurrency.value_or(kDefaultConcurrency));
  if (config.concurrency < 1 || config.concurrency > kMaxConcurrency) {
    return Fail(ErrorCode::kUsage, "concurrency must be 1.." + std::to_string(kMaxConcurrency) + " (got " +
                                       std::to_string(config.concurrency) + ")");
  }
  auto rate = fetch::ParseRate(!settings.rate.empty() ? settings.rate : plan.rate.value_or(kDefaultRate));
  if (!rate) return Fail(rate.error());
  config.rate = *rate;

  const std::string base_url = !settings.base_url.empty() ? settings.base_url : plan.base_url.value_or(kDefaultBaseUrl);
  BARFILL_TRY(CheckBaseUrl(base_url));
  if (settings.compression != "auto" && settings.compression != "on" && settings.compression != "off") {
    return Fail(ErrorCode::kUsage, "compression must be auto, on or off (got '" + settings.compression + "')");
  }
  if (settings.stall_timeout_s < 0 || settings.stall_timeout_s > kMaxStallTimeoutS) {
    return Fail(ErrorCode::kUsage, "stall timeout must be 0 (the default) to 3600 seconds");
  }
  if (settings.source == "auto") {
    config.source = Source::kAuto;
  } else if (settings.source == "rest") {
    config.source = Source::kRest;
  } else if (settings.source == "files") {
    config.source = Source::kFiles;
  } else {
    return Fail(ErrorCode::kUsage, "source must be auto, rest or files (got '" + settings.source + "')");
  }
  if (settings.grouped != "auto" && settings.grouped != "off") {
    return Fail(ErrorCode::kUsage, "grouped must be auto or off (got '" + settings.grouped + "')");
  }
  config.grouped = settings.grouped == "auto";
  const bool have_keys = !settings.files_access_key.empty() && !settings.files_secret_key.empty();
  if (config.source == Source::kFiles && !have_keys) {
    return Fail(ErrorCode::kUsage,
                "source files needs the flat files' S3 keys: set MASSIVE_S3_ACCESS_KEY_ID and "
                "MASSIVE_S3_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
  }
  if (plan.all_tickers && plan.adjusted) {
    return Fail(ErrorCode::kUsage, "flat files hold unadjusted bars: tickers all needs adjusted false");
  }
  if (plan.all_tickers && (config.source == Source::kRest || !have_keys)) {
    return Fail(ErrorCode::kUsage,
                "tickers all means every ticker of the flat files: give the S3 keys (MASSIVE_S3_ACCESS_KEY_ID, "
                "MASSIVE_S3_SECRET_ACCESS_KEY) and use source auto or files");
  }
  if (settings.derive) {
    // Derived bars come from minute files, which hold unadjusted bars only.
    if (config.source == Source::kRest) {
      return Fail(ErrorCode::kUsage, "derive builds bars from the minute flat files: use source auto or files, not rest");
    }
    if (plan.adjusted) {
      return Fail(ErrorCode::kUsage, std::string("derive builds unadjusted bars from the minute flat files: the plan asks for ") +
                                         std::string(plan.AdjustedText()) + " bars; use adjusted false");
    }
    plan.derive = true;
  }
  if (config.source == Source::kFiles) {
    for (const Timeframe& tf : plan.timeframes) {
      if (plan.derive && DerivableFromMinutes(tf)) continue;
      if (plan.adjusted || (tf != Timeframe(1, Timespan::kMinute) && tf != Timeframe(1, Timespan::kDay))) {
        return Fail(ErrorCode::kUsage, "source files gives unadjusted 1m and 1d bars only (asked: " + tf.ToString() +
                                           (plan.adjusted ? ", adjusted" : "") +
                                           "): use auto to fetch the rest from REST" +
                                           (plan.adjusted ? ", and adjusted false for the files' bars" : ""));
      }
    }
  }
  if (have_keys && config.source != Source::kRest) {
    flatfiles::S3Options files;
    if (!settings.files_url.empty()) files.endpoint = settings.files_url;
    if (!settings.files_bucket.empty()) files.bucket = settings.files_bucket;
    files.access_key_id = settings.files_access_key;
    files.secret_access_key = settings.files_secret_key;
    files.ca_file = !settings.files_ca_file.empty() ? settings.files_ca_file : settings.ca_file;
    BARFILL_TRY(CheckBaseUrl(files.endpoint, "files URL"));
    config.files = std::move(files);
  }
  config.files_per_transaction = settings.files_per_transaction.value_or(config.files_per_transaction);
  if (config.files_per_transaction < 1 || config.files_per_transaction > kMaxFilesPerTransaction) {
    return Fail(ErrorCode::kUsage, "files per transaction must be 1.." + std::to_string(kMaxFilesPerTransaction) +
                                       " (more files per transaction: faster loads, more scratch disk, more to redo after a kill)");
  }
  if (settings.api_key.empty() && !settings.dry_run && config.source != Source::kFiles && !plan.all_tickers) {
    return Fail(ErrorCode::kUsage, "no API key given: a run needs the Polygon/Massive API key");
  }

  config.db_url = !settings.db_url.empty() ? settings.db_url : plan.db.value_or("");
  if (config.db_url.empty()) return Fail(ErrorCode::kUsage, "no database given: use sqlite:PATH or postgresql://...");
  auto store_url = ParseStoreUrl(config.db_url);
  if (!store_url) return Fail(store_url.error());
  config.store_kind = store_url->kind;
  const bool sqlite = config.store_kind == StoreKind::kSqlite;
  config.writers = settings.writers.value_or(sqlite ? 1 : kDefaultPostgresWriters);
  if (config.writers < 1 || config.writers > kMaxWriters || (sqlite && config.writers != 1)) {
    return Fail(ErrorCode::kUsage, sqlite ? "writers must be 1 for SQLite (it takes one writer at a time)"
                                          : "writers must be 1.." + std::to_string(kMaxWriters));
  }

  fetch::FetchConfig& wire = config.fetch_config;
  wire.base_url = base_url;
  wire.api_key = settings.api_key;
  wire.api_key_in_query = settings.api_key_in_query;
  wire.http.ca_file = settings.ca_file;
  // Compression saves the wire from a remote API; on loopback it only costs CPU on both ends.
  wire.http.compressed = settings.compression == "on" || (settings.compression == "auto" && !IsLoopbackUrl(base_url));
  wire.stall_timeout_ms = static_cast<int64_t>(settings.stall_timeout_s * 1000);
  config.fallback_daily = settings.fallback_daily;
  config.dry_run = settings.dry_run;
  config.refresh_sessions = settings.refresh_sessions.value_or(kDefaultRefreshSessions);
  if (config.refresh_sessions < 0 || config.refresh_sessions > kMaxRefreshSessions) {
    return Fail(ErrorCode::kUsage, "refresh sessions must be 0.." + std::to_string(kMaxRefreshSessions) + " (got " +
                                       std::to_string(config.refresh_sessions) + "); 0 turns the refresh off");
  }
  config.actions = settings.actions;
  config.plan = std::move(plan);
  return config;
}

}  // namespace barfill::engine
