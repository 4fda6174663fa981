#include "cli/report_format.h"

#include <algorithm>
#include <cstdio>

#include "cli/actions_report.h"
#include "cli/exit_codes.h"
#include "core/json.h"

namespace barfill::cli {
std::string Thousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

namespace {

double Share(double part, double whole) { return whole > 0 ? 100.0 * part / whole : 0; }

std::string Bytes(int64_t bytes) {
  char buf[32];
  if (bytes >= (int64_t{1} << 30)) {
    std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(bytes) / (1 << 30));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  }
  return buf;
}

void Line(std::string& out, const char* format, auto... args) {
  char buf[1024];
  std::snprintf(buf, sizeof buf, format, args...);
  out += buf;
}

/// Up to 20 notes, one line each under `label`, and how many more the JSON report has.
void Notes(std::string& out, const char* label, const std::vector<std::string>& notes, const char* kind) {
  constexpr size_t kNotesShown = 20;
  for (size_t i = 0; i < notes.size() && i < kNotesShown; ++i) Line(out, "  %-17s%s\n", label, notes[i].c_str());
  if (notes.size() > kNotesShown) Line(out, "  ... and %zu more %s notes (see --report-json)\n", notes.size() - kNotesShown, kind);
}

/// A JSON array of strings.
std::string JsonStrings(const std::vector<std::string>& items) {
  std::string j = "[";
  for (size_t i = 0; i < items.size(); ++i) j += (i > 0 ? "," : "") + JsonQuote(items[i]);
  return j + "]";
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

}  // namespace

std::string FormatReport(const engine::RunReport& r) {
  std::string out;
  const fetch::FetchStats& f = r.fetch_stats;
  Line(out, "\nbarfill report: plan %s -> %s\n", r.plan_name.c_str(), r.store.c_str());
  Line(out, "  Total records:   %s\n", Thousands(r.records).c_str());
  Line(out, "  Jobs (series):   %lld total, %lld succeeded (%.1f%%), %lld failed, %lld degraded%s\n",
       static_cast<long long>(r.jobs_total), static_cast<long long>(r.jobs_succeeded),
       Share(static_cast<double>(r.jobs_succeeded), static_cast<double>(r.jobs_total)),
       static_cast<long long>(r.jobs_failed), static_cast<long long>(r.jobs_degraded),
       r.jobs_incomplete > 0 ? (", " + std::to_string(r.jobs_incomplete) + " incomplete").c_str() : "");
  Line(out, "  Ranges:          %lld to fetch: %lld done, %lld failed, %lld pending; %lld pages committed; %lld series already complete\n",
       static_cast<long long>(r.ranges_total), static_cast<long long>(r.ranges_done),
       static_cast<long long>(r.ranges_failed), static_cast<long long>(r.ranges_pending), static_cast<long long>(r.pages),
       static_cast<long long>(r.series_up_to_date));
  const engine::FilesReport& fr = r.files;
  if (fr.listed > 0 || !fr.missing.empty()) {
    Line(out, "  Flat files:      %lld listed: %lld fetched (%lld replaced by the vendor since loaded), %lld unchanged "
              "(skipped), %lld failed, %lld refused, %zu expected but missing\n",
         static_cast<long long>(fr.listed), static_cast<long long>(fr.fetched), static_cast<long long>(fr.replaced),
         static_cast<long long>(fr.unchanged), static_cast<long long>(fr.failed), static_cast<long long>(fr.refused),
         fr.missing.size());
    if (fr.fetched > 0 || fr.bytes > 0) {
      Line(out, "                   %s downloaded (%.1f MiB/s), %s bars (%s/s), %lld bad rows skipped, %lld resumed, %lld restarted\n",
           Bytes(fr.bytes).c_str(), fr.download_s > 0 ? static_cast<double>(fr.bytes) / (1 << 20) / fr.download_s : 0.0,
           Thousands(fr.rows).c_str(),
           Thousands(static_cast<int64_t>(fr.duration_s > 0 ? static_cast<double>(fr.rows) / fr.duration_s : 0)).c_str(),
           static_cast<long long>(fr.bad_rows), static_cast<long long>(fr.resumes), static_cast<long long>(fr.restarts));
      Line(out, "                   %.2f s in all: downloading %.2f s, gunzip+CSV %.2f s (thread time), database %.2f s\n",
           fr.duration_s, fr.download_s, fr.parse_s, fr.db_s);
    }
    if (!fr.derived.empty()) {
      std::string parts;
      for (const auto& [tf, bars] : fr.derived) parts += (parts.empty() ? "" : ", ") + Thousands(bars) + " bars of " + tf;
      Line(out, "  Derived:         from files: %s (built from minute rows, vwap NULL, marked derived)\n", parts.c_str());
    }
    for (const std::string& m : fr.missing) Line(out, "  Missing file:    %s (REST fetches its days in --source auto)\n", m.c_str());
    Notes(out, "File note:", fr.notes, "file");
  }
  const engine::GroupedReport& g = r.grouped;
  if (g.days_planned > 0) {
    Line(out, "  Grouped daily:   %lld market days to request: %lld stored, %lld failed; %lld requests (%lld retried) "
              "instead of %lld per-ticker; %s bars for %lld series\n",
         static_cast<long long>(g.days_planned), static_cast<long long>(g.days_stored), static_cast<long long>(g.days_failed),
         static_cast<long long>(g.requests), static_cast<long long>(g.retries), static_cast<long long>(g.per_ticker_requests),
         Thousands(g.bars).c_str(), static_cast<long long>(g.series_served));
    if (g.rejected > 0 || g.skipped > 0) {
      Line(out, "                   %lld ticker-days rejected by validation, %lld results with tickers barfill cannot hold skipped\n",
           static_cast<long long>(g.rejected), static_cast<long long>(g.skipped));
    }
    Notes(out, "Grouped note:", g.notes, "grouped");
  }
  Line(out, "  Total duration:  %.2f s\n", r.duration_s);
  Line(out, "  Throughput:      %s records/s\n", Thousands(static_cast<int64_t>(r.RecordsPerSecond())).c_str());
  out += "\n  Bottleneck analysis (wall time; API and DB overlap because they run in parallel):\n";
  Line(out, "  - API time:      %.2f s (%.1f%%)  some request in flight\n", r.api_s, Share(r.api_s, r.duration_s));
  Line(out, "  - DB time:       %.2f s (%.1f%%)  some writer busy (%d writer%s)\n", r.db_s, Share(r.db_s, r.duration_s),
       r.writers, r.writers == 1 ? "" : "s");
  if (r.records > 0) {
    // The seed's DB time was sequential, ours overlaps the API; per record, the two compare.
    Line(out, "  - Per record:    DB %.2f us, API %.2f us of wall time (the seed: 1001 us of DB per record)\n",
         1e6 * r.db_s / static_cast<double>(r.records), 1e6 * r.api_s / static_cast<double>(r.records));
  }
  if (r.fetcher_thread_s > 0) {
    const double accounted = f.limiter_wait_s + f.network_s + f.parse_s + f.backoff_s + r.backpressure_s;
    const double idle = std::max(0.0, r.fetcher_thread_s - accounted);
    Line(out, "  Where the fetchers' time went (%d x %.1f s = %.1f thread-seconds):\n", r.concurrency,
         r.duration_s, r.fetcher_thread_s);
    Line(out, "    rate-limit wait %5.1f%%   network %5.1f%%   parse+validate %5.1f%%\n",
         Share(f.limiter_wait_s, r.fetcher_thread_s), Share(f.network_s, r.fetcher_thread_s),
         Share(f.parse_s, r.fetcher_thread_s));
    Line(out, "    retry backoff   %5.1f%%   waiting for DB %5.1f%%   idle %5.1f%%\n",
         Share(f.backoff_s, r.fetcher_thread_s), Share(r.backpressure_s, r.fetcher_thread_s),
         Share(idle, r.fetcher_thread_s));
  }
  Line(out, "\n  Requests:        made %lld, minimum for the bars received %lld (efficiency %.2f)\n",
       static_cast<long long>(r.RequestsMade()), static_cast<long long>(r.requests_minimum), r.RequestEfficiency());
  Line(out, "                   %lld sent in all: %lld retried, %lld rate-limited (429), %lld 5xx, %lld transport errors, %lld bad bodies\n",
       static_cast<long long>(f.requests), static_cast<long long>(f.retries),
       static_cast<long long>(f.rate_limited), static_cast<long long>(f.server_errors),
       static_cast<long long>(f.transport_errors), static_cast<long long>(f.bad_responses));
  if (r.rate_per_s > 0) {
    Line(out, "  Rate:            %.4g requests/s configured, %.4g achieved\n", r.rate_per_s,
         r.duration_s > 0 ? static_cast<double>(f.requests) / r.duration_s : 0.0);
  }
  Line(out, "  Received:        %s of JSON; %lld duplicate bars dropped, %lld pages sorted\n", Bytes(f.bytes).c_str(),
       static_cast<long long>(f.duplicates_dropped), static_cast<long long>(f.reordered));
  if (r.peak_rss_bytes > 0) Line(out, "  Peak memory:     %s\n", Bytes(r.peak_rss_bytes).c_str());
  for (const std::string& d : r.degraded) Line(out, "  Degraded:        %s (daily bars stored instead)\n", d.c_str());
  if (!r.verified.empty()) {
    const auto done = std::count_if(r.verified.begin(), r.verified.end(), [](const engine::VerifiedRange& v) { return v.done; });
    Line(out, "  Verified:        %lld of %zu ranges fetched again: %lld bars revised, %lld added, %lld removed\n",
         static_cast<long long>(done), r.verified.size(), static_cast<long long>(r.changes.revised),
         static_cast<long long>(r.changes.added), static_cast<long long>(r.changes.removed));
  }
  if (!r.failures.empty()) {
    Line(out, "\n  Failures (%zu ranges or files; a re-run retries them from where they stopped):\n", r.failures.size());
    constexpr size_t kShown = 20;
    for (size_t i = 0; i < r.failures.size() && i < kShown; ++i) {
      const engine::FailureRecord& fr = r.failures[i];
      Line(out, "  - %s\n", fr.error.c_str());
    }
    if (r.failures.size() > kShown) Line(out, "  ... and %zu more (see --report-json)\n", r.failures.size() - kShown);
  }
  out += FormatActions(r);
  if (!r.stop_reason.empty()) Line(out, "\n  Stopped early: %s\n", r.stop_reason.c_str());
  return out;
}

std::string ReportToJson(const engine::RunReport& r) {
  // The keys of docs/design.md §11 (records, duration_s, jobs, ranges, requests, failures) and more.
  // Request counts cover every request of the run (bars and corporate actions); made, minimum and
  // efficiency are about the bars' pages.
  const fetch::FetchStats f = r.AllFetchStats();
  std::string j = "{";
  j += "\"plan\":" + JsonQuote(r.plan_name);
  j += ",\"store\":" + JsonQuote(r.store);
  j += ",\"records\":" + std::to_string(r.records);
  j += ",\"duration_s\":" + Num(r.duration_s);
  j += ",\"api_s\":" + Num(r.api_s);
  j += ",\"db_s\":" + Num(r.db_s);
  j += ",\"api_share\":" + Num(r.duration_s > 0 ? r.api_s / r.duration_s : 0);
  j += ",\"db_share\":" + Num(r.duration_s > 0 ? r.db_s / r.duration_s : 0);
  j += ",\"records_per_s\":" + Num(r.RecordsPerSecond());
  j += ",\"jobs\":{\"total\":" + std::to_string(r.jobs_total) + ",\"succeeded\":" + std::to_string(r.jobs_succeeded) +
       ",\"failed\":" + std::to_string(r.jobs_failed) + ",\"degraded\":" + std::to_string(r.jobs_degraded) +
       ",\"incomplete\":" + std::to_string(r.jobs_incomplete) + "}";
  j += ",\"ranges\":{\"total\":" + std::to_string(r.ranges_total) + ",\"done\":" + std::to_string(r.ranges_done) +
       ",\"failed\":" + std::to_string(r.ranges_failed) + ",\"pending\":" + std::to_string(r.ranges_pending) + "}";
  j += ",\"series_up_to_date\":" + std::to_string(r.series_up_to_date);
  j += ",\"pages\":" + std::to_string(r.pages);
  j += ",\"requests\":{\"total\":" + std::to_string(f.requests) + ",\"made\":" + std::to_string(r.RequestsMade()) +
       ",\"minimum\":" + std::to_string(r.requests_minimum) + ",\"efficiency\":" + Num(r.RequestEfficiency()) +
       ",\"pages\":" + std::to_string(f.pages) +
       ",\"retried\":" + std::to_string(f.retries) + ",\"rate_limited\":" + std::to_string(f.rate_limited) +
       ",\"server_errors\":" + std::to_string(f.server_errors) +
       ",\"transport_errors\":" + std::to_string(f.transport_errors) +
       ",\"bad_responses\":" + std::to_string(f.bad_responses) + ",\"bytes\":" + std::to_string(f.bytes) + "}";
  j += ",\"time_breakdown_thread_s\":{\"fetcher_total\":" + Num(r.fetcher_thread_s) +
       ",\"rate_limit_wait\":" + Num(f.limiter_wait_s) + ",\"network\":" + Num(f.network_s) +
       ",\"parse\":" + Num(f.parse_s) + ",\"backoff\":" + Num(f.backoff_s) +
       ",\"waiting_for_db\":" + Num(r.backpressure_s) + "}";
  j += ",\"validation\":{\"duplicates_dropped\":" + std::to_string(f.duplicates_dropped) +
       ",\"reordered\":" + std::to_string(f.reordered) + ",\"delayed_pages\":" + std::to_string(f.delayed_pages) + "}";
  const engine::FilesReport& fr = r.files;
  j += ",\"files\":{\"listed\":" + std::to_string(fr.listed) + ",\"fetched\":" + std::to_string(fr.fetched) +
       ",\"unchanged\":" + std::to_string(fr.unchanged) + ",\"replaced\":" + std::to_string(fr.replaced) +
       ",\"failed\":" + std::to_string(fr.failed) + ",\"refused\":" + std::to_string(fr.refused) +
       ",\"bytes\":" + std::to_string(fr.bytes) + ",\"rows\":" + std::to_string(fr.rows) +
       ",\"bad_rows\":" + std::to_string(fr.bad_rows) + ",\"resumes\":" + std::to_string(fr.resumes) +
       ",\"restarts\":" + std::to_string(fr.restarts) + ",\"download_s\":" + Num(fr.download_s) +
       ",\"parse_s\":" + Num(fr.parse_s) + ",\"db_s\":" + Num(fr.db_s) + ",\"duration_s\":" + Num(fr.duration_s) +
       ",\"missing\":" + JsonStrings(fr.missing) + ",\"notes\":" + JsonStrings(fr.notes) + ",\"derived\":{";
  for (size_t i = 0; i < fr.derived.size(); ++i) {
    j += (i > 0 ? "," : "") + JsonQuote(fr.derived[i].first) + ":" + std::to_string(fr.derived[i].second);
  }
  j += "}}";
  const engine::GroupedReport& g = r.grouped;
  j += ",\"grouped\":{\"days\":" + std::to_string(g.days_planned) + ",\"stored\":" + std::to_string(g.days_stored) +
       ",\"failed\":" + std::to_string(g.days_failed) + ",\"requests\":" + std::to_string(g.requests) +
       ",\"retried\":" + std::to_string(g.retries) + ",\"per_ticker_requests\":" + std::to_string(g.per_ticker_requests) +
       ",\"bars\":" + std::to_string(g.bars) + ",\"series\":" + std::to_string(g.series_served) +
       ",\"rejected\":" + std::to_string(g.rejected) + ",\"skipped\":" + std::to_string(g.skipped) +
       ",\"duration_s\":" + Num(g.duration_s) + ",\"notes\":" + JsonStrings(g.notes) + "}";
  j += ",\"concurrency\":" + std::to_string(r.concurrency);
  j += ",\"writers\":" + std::to_string(r.writers);
  j += ",\"rate_per_s\":" + Num(r.rate_per_s);
  j += ",\"peak_rss_bytes\":" + std::to_string(r.peak_rss_bytes);
  j += ",\"failures\":[";
  for (size_t i = 0; i < r.failures.size(); ++i) {
    const engine::FailureRecord& fr = r.failures[i];
    if (i > 0) j += ",";
    j += "{\"ticker\":" + JsonQuote(fr.series.ticker.symbol()) + ",\"timeframe\":" +
         JsonQuote(fr.series.timeframe.ToString()) + ",\"adjusted\":" + (fr.series.adjusted ? "true" : "false") +
         ",\"from\":" + JsonQuote(FormatIsoUtc(fr.range.from_ms)) + ",\"to\":" + JsonQuote(FormatIsoUtc(fr.range.to_ms)) +
         ",\"attempts\":" + std::to_string(fr.attempts) + ",\"error\":" + JsonQuote(fr.error) + "}";
  }
  j += "],\"degraded\":" + JsonStrings(r.degraded);
  j += ",\"verified\":{\"revised\":" + std::to_string(r.changes.revised) + ",\"added\":" + std::to_string(r.changes.added) +
       ",\"removed\":" + std::to_string(r.changes.removed) + ",\"ranges\":[";
  for (size_t i = 0; i < r.verified.size(); ++i) {
    const engine::VerifiedRange& v = r.verified[i];
    j += std::string(i > 0 ? "," : "") + "{\"ticker\":" + JsonQuote(v.series.ticker.symbol()) +
         ",\"timeframe\":" + JsonQuote(v.series.timeframe.ToString()) + ",\"adjusted\":" + (v.series.adjusted ? "true" : "false") +
         ",\"from\":" + JsonQuote(FormatIsoUtc(v.range.from_ms)) + ",\"to\":" + JsonQuote(FormatIsoUtc(v.range.to_ms)) +
         ",\"done\":" + (v.done ? "true" : "false") + ",\"bars\":" + std::to_string(v.bars) +
         ",\"revised\":" + std::to_string(v.changes.revised) + ",\"added\":" + std::to_string(v.changes.added) +
         ",\"removed\":" + std::to_string(v.changes.removed) + "}";
  }
  j += "]}";
  j += ",\"actions\":" + ActionsToJson(r);
  j += ",\"stop_reason\":" + JsonQuote(r.stop_reason);
  j += ",\"error\":" + JsonQuote(r.error);
  j += ",\"outcome\":" + JsonQuote(engine::RunOutcomeName(r.outcome));
  j += ",\"exit_code\":" + std::to_string(ExitCodeFor(r.outcome));
  j += "}\n";
  return j;
}

}  // namespace barfill::cli
