#include "cli/gap_selection.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>

#include "cli/api_flags.h"
#include "engine/plan.h"
#include "store/ledger.h"

namespace barfill::cli {
namespace {

Error InFlag(const std::string& flag, const Error& error) { return Error(ErrorCode::kUsage, flag + ": " + error.message); }

}  // namespace

void AddGapSelectionFlags(CLI::App* cmd, GapSelectionFlags* flags, bool with_db) {
  if (with_db) AddDbFlag(cmd, &flags->db);
  cmd->add_option("--tickers", flags->tickers, "Only these tickers, e.g. AAPL,X:BTCUSD (default: every series stored)");
  cmd->add_option("--timeframes", flags->timeframes, "Only these bar sizes, e.g. 1m,1d");
  cmd->add_option("--from", flags->from, "First day (YYYY-MM-DD, the market's zone; default: each series' first ledger day)");
  cmd->add_option("--to", flags->to, "Last day, inclusive (default: each series' last ledger day, at most today)");
}

Result<GapSelection> ParseGapSelection(const GapSelectionFlags& flags, CalendarDay today) {
  GapSelection selection;
  if (!flags.tickers.empty()) {
    auto tickers = engine::ParseTickers(engine::SplitList(flags.tickers));
    if (!tickers) return Fail(InFlag("--tickers", tickers.error()));
    selection.tickers = std::move(*tickers);
  }
  if (!flags.timeframes.empty()) {
    auto timeframes = engine::ParseTimeframes(engine::SplitList(flags.timeframes));
    if (!timeframes) return Fail(InFlag("--timeframes", timeframes.error()));
    selection.timeframes = std::move(*timeframes);
  }
  for (const auto& [text, day, flag] : {std::tuple{&flags.from, &selection.from, "--from"},
                                        std::tuple{&flags.to, &selection.to, "--to"}}) {
    if (text->empty()) continue;
    auto parsed = engine::ParseDay(*text, today);
    if (!parsed) return Fail(InFlag(flag, parsed.error()));
    *day = *parsed;
  }
  if (selection.from && selection.to && *selection.to < *selection.from) {
    return Fail(ErrorCode::kUsage, "--from " + selection.from->ToString() + " must not be after --to " +
                                       selection.to->ToString());
  }
  return selection;
}

Result<SelectedSeries> SelectSeries(BarStore& store, const GapSelection& selection) {
  auto status = store.ReadStatus();
  if (!status) return Fail(status.error());
  const auto wanted = [&](const Series& s) {
    const bool ticker = selection.tickers.empty() ||
                        std::find(selection.tickers.begin(), selection.tickers.end(), s.ticker) != selection.tickers.end();
    const bool timeframe = selection.timeframes.empty() ||
                           std::find(selection.timeframes.begin(), selection.timeframes.end(), s.timeframe) !=
                               selection.timeframes.end();
    return ticker && timeframe;
  };
  SelectedSeries out;
  std::vector<Series>& series = out.selected;
  for (const SeriesStatus& s : *status) {
    out.known.push_back(s.series);
    if (wanted(s.series)) series.push_back(s.series);
  }
  if (!selection.tickers.empty() && !selection.timeframes.empty() && selection.from && selection.to) {
    for (const Ticker& ticker : selection.tickers) {
      for (const Timeframe& timeframe : selection.timeframes) {
        const Series s{ticker, timeframe, true};
        const bool known = std::any_of(series.begin(), series.end(),
                                       [&](const Series& x) { return x.ticker == ticker && x.timeframe == timeframe; });
        if (!known) series.push_back(s);
      }
    }
    std::sort(series.begin(), series.end(), store::SeriesLess);
  }
  return out;
}

quality::InspectOptions InspectOptionsFor(const GapSelection& selection, const SelectedSeries& series, int64_t now_ms) {
  quality::InspectOptions options;
  options.known_series = series.known;
  options.from = selection.from;
  options.to = selection.to;
  options.now_ms = now_ms;
  return options;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace barfill::cli
