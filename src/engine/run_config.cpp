#include "engine/run_config.h"

#include "polygon/aggs_request.h"

namespace barfill::engine {
namespace {

Status CheckBaseUrl(const std::string& url) {
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    return Fail(ErrorCode::kUsage, "base URL '" + url + "' must start with https:// (or http:// for a local simulator)");
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
  if (settings.api_key.empty() && !settings.dry_run) {
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
  config.actions = settings.actions;
  config.plan = std::move(plan);
  return config;
}

}  // namespace barfill::engine
