// barfill gaps: is the stored data complete? Every session of every series classified
// (docs/data-quality.md), as a short table of the problem ranges and totals, or as JSON listing
// every range. Reads only; series are inspected one at a time.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/gap_selection.h"
#include "core/json.h"
#include "quality/inspect.h"

namespace barfill::cli {
namespace {

struct GapsFlags {
  GapSelectionFlags selection;
  bool json = false;
};

std::string Rounded(double x) { return x < 0 ? "-" : std::to_string(std::llround(x)); }

/// The detail a person reads: why, plus what a repair already did about it.
std::string DetailOf(const quality::GapRange& r) {
  std::string detail = r.detail;
  if (r.cls == quality::SessionClass::kFailed && r.attempts > 0) detail += " (" + std::to_string(r.attempts) + " attempts)";
  if (r.check && r.cls == quality::SessionClass::kSuspicious) {
    detail += "; re-fetched " + std::to_string(r.check->checks) + "x, last " + FormatIsoUtc(r.check->verified_at_ms);
    if (r.check->retry_at_ms > 0) detail += ", next try after " + FormatIsoUtc(r.check->retry_at_ms);
  }
  return detail;
}

std::string RangeJson(const quality::GapRange& r) {
  std::string out = "{\"class\":" + JsonQuote(quality::SessionClassName(r.cls)) + ",\"from\":" + JsonQuote(r.from.ToString()) +
                    ",\"to\":" + JsonQuote(r.to.ToString()) + ",\"window_from\":" + JsonQuote(FormatIsoUtc(r.window.from_ms)) +
                    ",\"window_to\":" + JsonQuote(FormatIsoUtc(r.window.to_ms)) + ",\"sessions\":" + std::to_string(r.sessions) +
                    ",\"bars\":" + std::to_string(r.bars) +
                    ",\"expected\":" + (r.expected < 0 ? "null" : std::to_string(std::llround(r.expected)));
  if (!r.reason.empty()) out += ",\"reason\":" + JsonQuote(r.reason);
  if (!r.detail.empty()) out += ",\"detail\":" + JsonQuote(r.detail);
  if (r.cls == quality::SessionClass::kFailed) {
    out += ",\"error\":" + JsonQuote(r.error) + ",\"attempts\":" + std::to_string(r.attempts);
  }
  if (r.check) {
    out += ",\"verified_at\":" + JsonQuote(FormatIsoUtc(r.check->verified_at_ms)) +
           ",\"checks\":" + std::to_string(r.check->checks) +
           ",\"retry_at\":" + (r.check->retry_at_ms > 0 ? JsonQuote(FormatIsoUtc(r.check->retry_at_ms)) : "null");
  }
  return out + "}";
}

std::string TotalsJson(const quality::GapTotals& t) {
  return "{\"series\":" + std::to_string(t.series) + ",\"series_with_problems\":" + std::to_string(t.series_with_problems) +
         ",\"complete\":" + std::to_string(t.complete) + ",\"non_trading\":" + std::to_string(t.non_trading) +
         ",\"early_close\":" + std::to_string(t.early_close) + ",\"suspicious\":" + std::to_string(t.suspicious) +
         ",\"never_fetched\":" + std::to_string(t.never_fetched) + ",\"failed\":" + std::to_string(t.failed) +
         ",\"holidays\":" + std::to_string(t.holidays) + "}";
}

std::string SeriesJson(const quality::SeriesGaps& gaps) {
  quality::GapTotals own;
  own.Add(gaps);
  std::string out = "{\"ticker\":" + JsonQuote(gaps.series.ticker.symbol()) +
                    ",\"timeframe\":" + JsonQuote(gaps.series.timeframe.ToString()) +
                    ",\"adjusted\":" + (gaps.series.adjusted ? "true" : "false") +
                    ",\"usual_bars\":" + (gaps.usual.sessions > 0 ? std::to_string(std::llround(gaps.usual.bars)) : "null") +
                    ",\"history_sessions\":" + std::to_string(gaps.usual.sessions) +
                    ",\"not_over\":" + std::to_string(gaps.not_over) + ",\"sessions\":" + TotalsJson(own) + ",\"ranges\":[";
  bool first = true;
  for (const quality::GapRange& r : quality::ToRanges(gaps)) {
    out += (first ? "" : ",") + RangeJson(r);
    first = false;
  }
  return out + "]}";
}

std::string TotalsLine(const quality::GapTotals& t) {
  return "totals: " + std::to_string(t.series) + " series (" + std::to_string(t.series_with_problems) + " with problems); " +
         std::to_string(t.complete + t.early_close + t.suspicious + t.never_fetched + t.failed) + " trading sessions: " +
         std::to_string(t.complete) + " complete, " + std::to_string(t.early_close) + " early close, " +
         std::to_string(t.suspicious) + " suspicious, " + std::to_string(t.never_fetched) + " never fetched, " +
         std::to_string(t.failed) + " failed; " + std::to_string(t.non_trading) + " non-trading (" +
         std::to_string(t.holidays) + " holidays and closings)";
}

/// Prints rows as left-aligned columns (numbers right-aligned), the last column as it is.
void PrintColumns(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right) {
  std::vector<size_t> width(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (size_t c = 0; c + 1 < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      if (c > 0) line += "  ";
      const std::string pad(c + 1 < row.size() ? width[c] - row[c].size() : 0, ' ');
      line += right[c] ? pad + row[c] : row[c] + (c + 1 < row.size() ? pad : "");
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::printf("%s\n", line.c_str());
  }
}

int RunGaps(const GapsFlags& flags) {
  auto selection = ParseGapSelection(flags.selection, TodayUtc());
  if (!selection) return ReportError(selection.error());
  auto store = OpenStore(ResolveDbUrl(flags.selection.db), StoreOptions::ForReading());
  if (!store) return ReportError(store.error());
  if (auto checked = (*store)->Migrate(); !checked) return ReportError(checked.error());
  auto series = SelectSeries(**store, *selection);
  if (!series) return ReportError(series.error());
  const quality::InspectOptions options = InspectOptionsFor(*selection, *series, NowMs());

  quality::GapTotals totals;
  std::vector<std::vector<std::string>> rows = {{"series", "problem", "from", "to", "sessions", "bars", "usual", "detail"}};
  if (flags.json) {
    std::printf("{\"database\":%s,\"from\":%s,\"to\":%s,\"series\":[", JsonQuote((*store)->Describe()).c_str(),
                selection->from ? JsonQuote(selection->from->ToString()).c_str() : "null",
                selection->to ? JsonQuote(selection->to->ToString()).c_str() : "null");
  }
  bool first = true;
  for (const Series& s : series->selected) {
    auto gaps = quality::InspectSeries(**store, s, options);
    if (!gaps) return ReportError(gaps.error());
    totals.Add(*gaps);
    if (flags.json) {
      std::printf("%s%s", first ? "" : ",", SeriesJson(*gaps).c_str());
      first = false;
      continue;
    }
    for (const quality::GapRange& r : quality::ToRanges(*gaps)) {
      if (!quality::IsProblem(r.cls)) continue;
      rows.push_back({s.Describe(), std::string(quality::SessionClassLabel(r.cls)), r.from.ToString(), r.to.ToString(),
                      std::to_string(r.sessions), std::to_string(r.bars),
                      gaps->usual.sessions > 0 ? Rounded(gaps->usual.bars) : "-", DetailOf(r)});
    }
  }
  if (flags.json) {
    std::printf("],\"totals\":%s}\n", TotalsJson(totals).c_str());
  } else {
    std::printf("%s: %zu series, %s..%s\n", (*store)->Describe().c_str(), series->selected.size(),
                selection->from ? selection->from->ToString().c_str() : "each series' first ledger day",
                selection->to ? selection->to->ToString().c_str() : "its last");
    if (rows.size() > 1) {
      PrintColumns(rows, {false, false, false, false, true, true, true, false});
    } else {
      std::printf("no problems: every trading session is complete or an early close\n");
    }
    std::printf("%s\n", TotalsLine(totals).c_str());
  }
  if (std::fflush(stdout) != 0) return kExitUsage;
  // Like diff: 1 says there is something to look at (a repair or a backfill may fix it).
  return totals.Problems() > 0 ? kExitChunksFailed : kExitOk;
}

}  // namespace

void AddGapsCommand(CLI::App& app, CommandMain* run) {
  auto flags = std::make_shared<GapsFlags>();
  CLI::App* cmd = app.add_subcommand(
      "gaps", "Every session of every series: complete, non-trading, early close, suspicious, never fetched or failed");
  AddGapSelectionFlags(cmd, &flags->selection);
  cmd->add_flag("--json", flags->json, "Every range of every series as JSON instead of the problem table");
  cmd->callback([flags, run] { *run = [flags] { return RunGaps(*flags); }; });
}

}  // namespace barfill::cli
