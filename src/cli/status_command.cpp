// barfill status: what the ledger and the bars table say about every series, as a table for
// people or as JSON for scripts.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/actions_report.h"
#include "cli/api_flags.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/coverage_page.h"
#include "cli/exit_codes.h"
#include "core/market_time.h"
#include "core/json.h"
#include "store/actions_store.h"
#include "store/bar_store.h"
#include "store/work_queue.h"

namespace barfill::cli {
namespace {

struct StatusFlags {
  std::string db;
  bool json = false;
  std::string html;              ///< the coverage page's file
  GapSelectionFlags selection;   ///< what the page covers
};

/// The ISO time of a bar, or `none` when the series has no bars.
std::string BarTime(const SeriesStatus& s, int64_t ms, std::string_view none) {
  return s.rows == 0 ? std::string(none) : FormatIsoUtc(ms);
}

/// A quoted ISO time, or null when the series has no bars.
std::string JsonBarTime(const SeriesStatus& s, int64_t ms) {
  return s.rows == 0 ? "null" : JsonQuote(FormatIsoUtc(ms));
}

std::string RangeText(const TimeRange& range) {
  return FormatIsoUtc(range.from_ms) + ".." + FormatIsoUtc(range.to_ms);
}

/// A list of ledger ranges as a JSON array.
std::string JsonRanges(const std::vector<LedgerEntry>& entries) {
  std::string out = "[";
  for (size_t j = 0; j < entries.size(); ++j) {
    const LedgerEntry& f = entries[j];
    if (j > 0) out += ",";
    out += "{\"from\":" + JsonQuote(FormatIsoUtc(f.range.from_ms)) + ",\"to\":" + JsonQuote(FormatIsoUtc(f.range.to_ms)) +
           ",\"attempts\":" + std::to_string(f.attempts) + ",\"error\":" + JsonQuote(f.last_error) +
           ",\"updated_at\":" + JsonQuote(FormatIsoUtc(f.updated_at_ms)) + "}";
  }
  return out + "]";
}

std::string ActionsJson(const std::vector<ActionsStatus>& actions) {
  std::string out = "[";
  for (size_t i = 0; i < actions.size(); ++i) {
    const ActionsStatus& a = actions[i];
    if (i > 0) out += ",";
    out += "{\"ticker\":" + JsonQuote(a.ticker) + ",\"synced_at\":" + JsonQuote(FormatIsoUtc(a.synced_at_ms)) +
           ",\"splits\":" + std::to_string(a.splits) + ",\"dividends\":" + std::to_string(a.dividends) +
           ",\"flagged\":" + std::to_string(a.flagged) + ",\"flagged_splits\":" + FlaggedSplitsJson(a.flagged_splits) + "}";
  }
  return out + "]";
}

void PrintJson(const BarStore& store, const std::vector<SeriesStatus>& all, const std::vector<ActionsStatus>& actions,
               const std::string& queue_json) {
  std::string out = "{\"database\":" + JsonQuote(store.Describe()) + ",\"series\":[";
  for (size_t i = 0; i < all.size(); ++i) {
    const SeriesStatus& s = all[i];
    if (i > 0) out += ",";
    out += "{\"ticker\":" + JsonQuote(s.series.ticker.symbol()) +
           ",\"timeframe\":" + JsonQuote(s.series.timeframe.ToString()) +
           ",\"adjusted\":" + (s.series.adjusted ? "true" : "false") +
           ",\"ranges\":{\"done\":" + std::to_string(s.ranges_done) +
           ",\"failed\":" + std::to_string(s.ranges_failed) +
           ",\"empty\":" + std::to_string(s.ranges_empty) + ",\"stale\":" + std::to_string(s.ranges_stale) + "}" +
           ",\"rows\":" + std::to_string(s.rows) +
           ",\"first_bar\":" + JsonBarTime(s, s.first_bar_ms) +
           ",\"last_bar\":" + JsonBarTime(s, s.last_bar_ms) + ",\"failed\":" + JsonRanges(s.failed) +
           ",\"stale\":" + JsonRanges(s.stale) + ",\"derived\":{\"ranges\":" + std::to_string(s.derived_ranges) +
           ",\"bars\":" + std::to_string(s.derived_bars) + "}}";
  }
  out += "],\"corporate_actions\":" + ActionsJson(actions);
  if (!queue_json.empty()) out += ",\"queue\":" + queue_json;  // once anything was enqueued
  out += "}\n";
  std::fputs(out.c_str(), stdout);
}

void PrintTable(const BarStore& store, const std::vector<SeriesStatus>& all, const std::vector<ActionsStatus>& actions) {
  std::printf("%s\n", store.Describe().c_str());
  if (all.empty()) {
    std::printf("no series yet\n");
    return;
  }
  const std::vector<std::string> header = {"series", "done", "failed", "empty", "stale",
                                           "rows",   "first bar", "last bar"};
  std::vector<std::vector<std::string>> rows;
  for (const SeriesStatus& s : all) {
    rows.push_back({s.series.Describe(), std::to_string(s.ranges_done),
                    std::to_string(s.ranges_failed), std::to_string(s.ranges_empty), std::to_string(s.ranges_stale),
                    std::to_string(s.rows), BarTime(s, s.first_bar_ms, "-"),
                    BarTime(s, s.last_bar_ms, "-")});
  }
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& row : rows) width[c] = std::max(width[c], row[c].size());
  }
  // The series name and the times read best left-aligned; counts right-aligned.
  const auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      const std::string pad(width[c] - row[c].size(), ' ');
      const bool left = c == 0 || c >= 6;
      if (c > 0) line += "  ";
      line += left ? row[c] + (c + 1 < row.size() ? pad : "") : pad + row[c];
    }
    std::printf("%s\n", line.c_str());
  };
  print_row(header);
  for (const auto& row : rows) print_row(row);

  bool any_failed = false;
  for (const SeriesStatus& s : all) {
    for (const LedgerEntry& f : s.failed) {
      if (!any_failed) std::printf("\nfailed ranges:\n");
      any_failed = true;
      std::printf("  %s %s (%d attempts): %s\n", s.series.Describe().c_str(),
                  RangeText(f.range).c_str(), f.attempts, f.last_error.c_str());
    }
  }
  bool any_stale = false;
  for (const SeriesStatus& s : all) {
    for (const LedgerEntry& f : s.stale) {
      if (!any_stale) std::printf("\nstale ranges (a split changed since they were fetched; the next backfill fetches them again):\n");
      any_stale = true;
      std::printf("  %s %s: %s\n", s.series.Describe().c_str(), RangeText(f.range).c_str(), f.last_error.c_str());
    }
  }
  bool any_derived = false;
  for (const SeriesStatus& s : all) {
    if (s.derived_ranges == 0) continue;
    if (!any_derived) std::printf("\nderived from minute files (backfill --derive; vwap NULL, not vendor bars):\n");
    any_derived = true;
    std::printf("  %s: %lld bars in %lld ranges\n", s.series.Describe().c_str(), static_cast<long long>(s.derived_bars),
                static_cast<long long>(s.derived_ranges));
  }
  if (actions.empty()) return;
  std::printf("\ncorporate actions (last sync per ticker):\n");
  for (const ActionsStatus& a : actions) {
    std::printf("  %-8s synced %s: %lld splits, %lld dividends, %lld flagged\n", a.ticker.c_str(),
                FormatIsoUtc(a.synced_at_ms).c_str(), static_cast<long long>(a.splits),
                static_cast<long long>(a.dividends), static_cast<long long>(a.flagged));
    for (const ClassifiedSplit& c : a.flagged_splits) {
      std::printf("    %s %s: %s\n", std::string(ActionStatusName(c.status)).c_str(), c.split.id.c_str(), c.reason.c_str());
    }
  }
}

std::string Ago(int64_t ms, int64_t now_ms) {
  const int64_t s = std::max<int64_t>(0, (now_ms - ms) / 1000);
  return s < 120 ? std::to_string(s) + " s ago" : std::to_string(s / 60) + " min ago";
}

/// The work queue and its workers (PostgreSQL, once anything was enqueued).
void PrintQueueTable(const store::QueueStatus& q) {
  const int64_t now = NowMs();
  std::printf("\nwork queue: %lld pending, %lld leased (%lld expired, reclaimable), %lld done, %lld failed",
              static_cast<long long>(q.pending), static_cast<long long>(q.leased), static_cast<long long>(q.expired),
              static_cast<long long>(q.done), static_cast<long long>(q.failed));
  if (q.oldest_lease_ms) std::printf("; oldest lease claimed %s", Ago(*q.oldest_lease_ms, now).c_str());
  std::printf("\n");
  for (const auto& [key, rate] : q.rates) {
    std::printf("shared rate limit %s: %.1f requests/s now, %lld 429s, %lld cuts%s\n", key.c_str(), rate.rate_per_s,
                static_cast<long long>(rate.rate_limited), static_cast<long long>(rate.decreases),
                rate.paused_for_ms > 0 ? (", paused for " + std::to_string(rate.paused_for_ms) + " ms").c_str() : "");
  }
  if (!q.workers.empty()) {
    std::printf("workers:\n  %-4s %-8s %-20s %-7s %-24s %-14s %6s %6s %5s %10s  %s\n", "id", "state", "host", "pid",
                "started", "heartbeat", "done", "failed", "lost", "rows", "current item");
  }
  for (const store::WorkerRow& w : q.workers) {
    std::printf("  %-4lld %-8s %-20s %-7lld %-24s %-14s %6lld %6lld %5lld %10lld  %s\n", static_cast<long long>(w.id),
                w.state.c_str(), w.host.c_str(), static_cast<long long>(w.pid), FormatIsoUtc(w.started_ms).c_str(),
                Ago(w.heartbeat_ms, now).c_str(), static_cast<long long>(w.items_done),
                static_cast<long long>(w.items_failed), static_cast<long long>(w.lease_losses),
                static_cast<long long>(w.rows), w.current.empty() ? "-" : w.current.c_str());
  }
  for (const std::string& f : q.failures) std::printf("failed item: %s\n", f.c_str());
}

std::string QueueJson(const store::QueueStatus& q) {
  std::string out = "{\"pending\":" + std::to_string(q.pending) + ",\"leased\":" + std::to_string(q.leased) +
                    ",\"expired\":" + std::to_string(q.expired) + ",\"done\":" + std::to_string(q.done) +
                    ",\"failed\":" + std::to_string(q.failed) + ",\"oldest_lease\":" +
                    (q.oldest_lease_ms ? JsonQuote(FormatIsoUtc(*q.oldest_lease_ms)) : "null") + ",\"workers\":[";
  for (size_t i = 0; i < q.workers.size(); ++i) {
    const store::WorkerRow& w = q.workers[i];
    if (i > 0) out += ",";
    out += "{\"id\":" + std::to_string(w.id) + ",\"host\":" + JsonQuote(w.host) + ",\"pid\":" + std::to_string(w.pid) +
           ",\"state\":" + JsonQuote(w.state) + ",\"started\":" + JsonQuote(FormatIsoUtc(w.started_ms)) +
           ",\"heartbeat\":" + JsonQuote(FormatIsoUtc(w.heartbeat_ms)) + ",\"items_done\":" +
           std::to_string(w.items_done) + ",\"items_failed\":" + std::to_string(w.items_failed) +
           ",\"lease_losses\":" + std::to_string(w.lease_losses) + ",\"rows\":" + std::to_string(w.rows) +
           ",\"current_item\":" + (w.current.empty() ? "null" : JsonQuote(w.current)) + "}";
  }
  return out + "]}";
}

/// The coverage page instead of the table (`--html FILE`).
int RunCoveragePage(const StatusFlags& flags, BarStore& store) {
  auto selection = ParseGapSelection(flags.selection, TodayUtc());
  if (!selection) return ReportError(selection.error());
  auto series = SelectSeries(store, *selection);
  if (!series) return ReportError(series.error());
  if (auto written = WriteCoveragePage(store, *series, *selection, NowMs(), flags.html); !written) {
    return ReportError(written.error());
  }
  std::printf("wrote %s: %zu series\n", flags.html.c_str(), series->selected.size());
  return std::fflush(stdout) == 0 ? kExitOk : kExitUsage;
}

int RunStatus(const StatusFlags& flags) {
  const GapSelectionFlags& s = flags.selection;
  if (flags.html.empty() && !(s.tickers.empty() && s.timeframes.empty() && s.from.empty() && s.to.empty())) {
    return ReportError(Error(ErrorCode::kUsage, "--tickers, --timeframes, --from and --to choose what --html draws; add "
                                                "--html FILE, or use barfill gaps for a report in the terminal"));
  }
  if (!flags.html.empty()) {
    // Bad page flags stop before the database is opened.
    if (auto ok = CheckPagePath(flags.html); !ok) return ReportError(ok.error());
    if (auto ok = ParseGapSelection(flags.selection, TodayUtc()); !ok) return ReportError(ok.error());
  }
  // Status never creates or changes a database.
  const std::string url = ResolveDbUrl(flags.db);
  auto store = OpenStore(url, StoreOptions::ForReading());
  if (!store) return ReportError(store.error());
  if (auto checked = (*store)->Migrate(); !checked) return ReportError(checked.error());
  if (!flags.html.empty()) return RunCoveragePage(flags, **store);
  auto status = (*store)->ReadStatus();
  if (!status) return ReportError(status.error());
  auto actions = ReadActionsStatus(**store);
  if (!actions) return ReportError(actions.error());
  std::optional<store::QueueStatus> queue;
  if ((*store)->Kind() == "postgresql") {
    auto opened = store::WorkQueue::Open(url, "barfill status", StoreOptions::ForReading());
    if (!opened) return ReportError(opened.error());
    auto read = (*opened)->ReadStatus();
    if (!read) return ReportError(read.error());
    if (read->total() > 0 || !read->workers.empty()) queue = std::move(*read);
  }
  if (flags.json) {
    PrintJson(**store, *status, *actions, queue ? QueueJson(*queue) : "");
  } else {
    PrintTable(**store, *status, *actions);
    if (queue) PrintQueueTable(*queue);
  }
  return std::fflush(stdout) == 0 ? kExitOk : kExitUsage;
}

}  // namespace

void AddStatusCommand(CLI::App& app, CommandMain* run) {
  auto flags = std::make_shared<StatusFlags>();
  CLI::App* cmd = app.add_subcommand(
      "status", "Ranges done/failed/empty, rows and first/last bar per series, failed ranges");
  AddDbFlag(cmd, &flags->db);
  cmd->add_flag("--json", flags->json, "Machine-readable JSON instead of a table");
  cmd->add_option("--html", flags->html,
                  "Write the coverage picture to this file instead: one self-contained HTML page, series x week or month");
  AddGapSelectionFlags(cmd, &flags->selection, /*with_db=*/false);
  cmd->callback([flags, run] { *run = [flags] { return RunStatus(*flags); }; });
}

}  // namespace barfill::cli
