#include "cli/backfill_run.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "engine/backfill.h"
#include "engine/planner.h"
#include "fetch/clock.h"
#include "fetch/rate_limiter.h"
#include "fetch/retry_policy.h"
#include "polygon/aggs_request.h"
#include "store/bar_store.h"

namespace barfill::cli {
namespace {

constexpr int kDefaultConcurrency = 8;
constexpr int kMaxConcurrency = 256;
// Two COPY sessions load PostgreSQL about 35% faster than one when two cores are free
// (docs/design.md §12); more sessions cannot help on a small machine.
constexpr int kDefaultPostgresWriters = 2;
constexpr int kMaxWriters = 16;
constexpr const char* kDefaultRate = "paid";
constexpr const char* kDefaultBaseUrl = "https://api.polygon.io";

Status CheckBaseUrl(const std::string& url) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return Fail(ErrorCode::kUsage, "--base-url '" + url + "' must start with https:// (or http:// for a local simulator)");
  }
  return Ok();
}

// True for http(s)://localhost, 127.x.x.x or [::1]: a server on this machine.
bool IsLoopbackUrl(const std::string& url) {
  const auto origin = polygon::ParseOrigin(url);
  if (!origin) return false;
  const std::string& host = origin->host;
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "[::1]" || host == "::1";
}

// Prints each distinct warning once, on its own line even while a live progress line is shown.
std::function<void(const std::string&)> MakeWarningPrinter(bool tty) {
  struct Seen {
    std::mutex mutex;
    std::set<std::string> lines;
  };
  auto seen = std::make_shared<Seen>();
  return [seen, tty](const std::string& line) {
    std::lock_guard lock(seen->mutex);
    if (!seen->lines.insert(line).second) return;
    std::fprintf(stderr, "%s%s\n", tty ? "\r\033[K" : "", line.c_str());
  };
}

Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Fail(ErrorCode::kUsage, "cannot write the report to " + path);
  return Ok();
}

// Test hook for crash-recovery tests: BARFILL_CRASH_AT=STEP[:N] dies by SIGKILL at STEP
// (begun, bars_half_written, before_commit) of the N-th transaction that writes bars.
StoreOptions StoreOptionsFromEnvironment() {
  StoreOptions options;
  const char* spec = std::getenv("BARFILL_CRASH_AT");
  if (spec == nullptr) return options;
  const std::string text(spec);
  const size_t colon = text.find(':');
  const std::string step_name = text.substr(0, colon);
  const long nth = colon == std::string::npos ? 1 : std::strtol(text.c_str() + colon + 1, nullptr, 10);
  const WriteStep step = step_name == "begun"            ? WriteStep::kBegun
                         : step_name == "before_commit" ? WriteStep::kBeforeCommit
                                                        : WriteStep::kBarsHalfWritten;
  // Shared by every writer's connection, so "the N-th transaction" counts across them.
  auto transactions = std::make_shared<std::atomic<long>>(0);
  options.write_hook = [step, nth, transactions](WriteStep at) -> Status {
    const long count = at == WriteStep::kBegun ? ++*transactions : transactions->load();
    if (at == step && count >= nth) raise(SIGKILL);
    return Ok();
  };
  return options;
}

}  // namespace

int RunBackfillFromSettings(const BackfillSettings& settings, RunReport* report_out) {
  // 1. Everything the user typed, checked before the database or the network is touched.
  auto plan = ApplyPlanFlags(settings.plan_file, settings.plan_flags);
  if (!plan) return ReportError(plan.error());

  const int concurrency = settings.concurrency != kUnsetConcurrency ? settings.concurrency : plan->concurrency.value_or(kDefaultConcurrency);
  if (concurrency < 1 || concurrency > kMaxConcurrency) {
    return ReportError(Error(ErrorCode::kUsage, "--concurrency must be 1.." + std::to_string(kMaxConcurrency) +
                                                    " (got " + std::to_string(concurrency) + ")"));
  }
  const std::string rate_text = !settings.rate.empty() ? settings.rate : plan->rate.value_or(kDefaultRate);
  auto rate = ParseRate(rate_text);
  if (!rate) return ReportError(rate.error());

  const std::string base_url = !settings.base_url.empty() ? settings.base_url : plan->base_url.value_or(kDefaultBaseUrl);
  if (auto ok = CheckBaseUrl(base_url); !ok) return ReportError(ok.error());

  if (settings.compression != "auto" && settings.compression != "on" && settings.compression != "off") {
    return ReportError(Error(ErrorCode::kUsage, "--compression must be auto, on or off (got '" + settings.compression + "')"));
  }
  // Compression saves the wire from a remote API; on loopback it only costs CPU on both ends.
  const bool compressed = settings.compression == "on" || (settings.compression == "auto" && !IsLoopbackUrl(base_url));

  if (settings.stall_timeout_s < 0 || settings.stall_timeout_s > 3600) {
    return ReportError(Error(ErrorCode::kUsage, "--stall-timeout must be 1..3600 seconds"));
  }

  const std::optional<std::string> api_key = ResolveApiKey(settings.api_key);
  if (!api_key && !settings.dry_run) {
    return ReportError(Error(ErrorCode::kUsage, "Polygon API key missing: set POLYGON_API_KEY (or MASSIVE_API_KEY) or pass --api-key"));
  }

  // 2. The store: refuse to start before any download if it is unreachable or wrong.
  const std::string db_url = ResolveDbUrl(!settings.db.empty() ? settings.db : plan->db.value_or(""));
  const StoreOptions store_options = StoreOptionsFromEnvironment();
  auto store = OpenStore(db_url, store_options);
  if (!store) return ReportError(store.error());
  const bool sqlite = (*store)->Kind() == "sqlite";
  const int writers = settings.writers != 0 ? settings.writers : (sqlite ? 1 : kDefaultPostgresWriters);
  if (writers < 1 || writers > kMaxWriters || (sqlite && writers != 1)) {
    return ReportError(Error(ErrorCode::kUsage, sqlite ? "--writers must be 1 for SQLite (it takes one writer at a time)"
                                                       : "--writers must be 1.." + std::to_string(kMaxWriters)));
  }
  if (auto migrated = (*store)->Migrate(); !migrated) return ReportError(migrated.error());
  for (const std::string& warning : (*store)->Warnings()) std::fprintf(stderr, "%s\n", warning.c_str());

  // 3. The plan against the ledger: done chunks are skipped without an API call.
  auto work = BuildWorkPlan(*plan, **store, TodayUtc());
  if (!work) return ReportError(work.error());
  if (settings.dry_run) {
    std::fputs(DescribeWorkPlan(*plan, *work, rate->per_second, concurrency).c_str(), stdout);
    return kExitOk;
  }
  if (work->clamped_to) {
    std::fprintf(stderr, "warning: --to %s is in the future; clamped to %s (UTC)\n", plan->to.ToString().c_str(),
                 work->clamped_to->ToString().c_str());
  }

  // 4. The run. Extra writers are further connections to the same database.
  std::vector<std::unique_ptr<BarStore>> extra_stores;
  std::vector<BarStore*> extra_writers;
  if (!settings.dry_run) {
    for (int i = 1; i < writers; ++i) {
      auto extra = OpenStore(db_url, store_options);
      if (!extra) return ReportError(extra.error());
      extra_writers.push_back(extra->get());
      extra_stores.push_back(std::move(*extra));
    }
  }
  std::atomic<bool>& stop = InstallStopSignals();
  Clock& clock = RealClock();
  FetchShared shared;
  // One cap on Retry-After for the limiter's pause and the retry policy's wait.
  RateLimiterOptions limiter_options;
  limiter_options.retry_after_cap_ms = shared.config.retry.retry_after_cap_ms;
  RateLimiter limiter(*rate, clock, limiter_options);
  shared.config.base_url = base_url;
  shared.config.api_key = *api_key;
  shared.config.api_key_in_query = settings.api_key_in_query;
  shared.config.http.ca_file = settings.ca_file;
  shared.config.http.compressed = compressed;
  shared.config.stall_timeout_ms = static_cast<int64_t>(settings.stall_timeout_s * 1000);
  RetryBudget budget(shared.config.retry);
  shared.limiter = &limiter;
  shared.budget = &budget;
  shared.clock = &clock;
  shared.cancel = &stop;
  shared.warn = MakeWarningPrinter(isatty(STDERR_FILENO) != 0);

  RunOptions options;
  options.concurrency = concurrency;
  options.show_progress = !settings.no_progress;
  options.progress_is_tty = isatty(STDERR_FILENO) != 0;
  options.fallback_daily = settings.fallback_daily;
  options.rate_per_s = rate->per_second;
  options.retry_budget_exhausted = [&budget] { return budget.refused() > 0; };
  // Test hook for crash-recovery tests: die by SIGKILL right after the N-th commit.
  if (const char* crash = std::getenv("BARFILL_CRASH_AFTER_COMMITS"); crash != nullptr) {
    const long after = std::strtol(crash, nullptr, 10);
    auto commits = std::make_shared<std::atomic<long>>(0);
    options.after_commit = [after, commits](size_t) {
      if (++*commits >= after) raise(SIGKILL);
    };
  }

  std::fprintf(stderr, "barfill: %zu series, %lld chunks to fetch (%lld already done), %s at %s, %d concurrent, into %s (%d writer%s)\n",
               work->series.size(), static_cast<long long>(work->chunks_todo),
               static_cast<long long>(work->chunks_skipped), base_url.c_str(), rate_text.c_str(), concurrency,
               (*store)->Describe().c_str(), writers, writers == 1 ? "" : "s");
  const RunReport report = RunBackfill(*plan, *work, options, shared, **store, extra_writers);
  std::fputs(FormatReport(report).c_str(), stdout);
  std::fflush(stdout);
  if (!settings.report_json.empty()) {
    if (auto written = WriteFile(settings.report_json, ReportToJson(report)); !written) {
      ReportError(written.error());
    }
  }
  if (!report.error.empty()) std::fprintf(stderr, "error: %s\n", report.error.c_str());
  if (report_out != nullptr) *report_out = report;
  return report.exit_code;
}

}  // namespace barfill::cli
