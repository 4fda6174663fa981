// barfill status: what the ledger and the bars table say about every series, as a table for
// people or as JSON for scripts.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/actions_report.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/coverage_page.h"
#include "cli/exit_codes.h"
#include "core/market_time.h"
#include "core/json.h"
#include "store/actions_store.h"
#include "store/bar_store.h"

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

void PrintJson(const BarStore& store, const std::vector<SeriesStatus>& all, const std::vector<ActionsStatus>& actions) {
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
           ",\"stale\":" + JsonRanges(s.stale) + "}";
  }
  out += "],\"corporate_actions\":" + ActionsJson(actions) + "}\n";
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
  auto store = OpenStore(ResolveDbUrl(flags.db), StoreOptions::ForReading());
  if (!store) return ReportError(store.error());
  if (auto checked = (*store)->Migrate(); !checked) return ReportError(checked.error());
  if (!flags.html.empty()) return RunCoveragePage(flags, **store);
  auto status = (*store)->ReadStatus();
  if (!status) return ReportError(status.error());
  auto actions = ReadActionsStatus(**store);
  if (!actions) return ReportError(actions.error());
  if (flags.json) {
    PrintJson(**store, *status, *actions);
  } else {
    PrintTable(**store, *status, *actions);
  }
  return std::fflush(stdout) == 0 ? kExitOk : kExitUsage;
}

}  // namespace

void AddStatusCommand(CLI::App& app, CommandMain* run) {
  auto flags = std::make_shared<StatusFlags>();
  CLI::App* cmd = app.add_subcommand(
      "status", "Ranges done/failed/empty, rows and first/last bar per series, failed ranges");
  cmd->add_option("--db", flags->db,
                  "sqlite:PATH or postgresql://... (default $BARFILL_DB or sqlite:barfill.db)");
  cmd->add_flag("--json", flags->json, "Machine-readable JSON instead of a table");
  cmd->add_option("--html", flags->html,
                  "Write the coverage picture to this file instead: one self-contained HTML page, series x week or month");
  AddGapSelectionFlags(cmd, &flags->selection, /*with_db=*/false);
  cmd->callback([flags, run] { *run = [flags] { return RunStatus(*flags); }; });
}

}  // namespace barfill::cli
