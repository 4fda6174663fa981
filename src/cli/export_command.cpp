// barfill export: one series' bars, ascending, as CSV or JSON Lines, streamed with constant
// memory. Numbers are printed in their shortest exact form, so a value read back is the value
// stored. With --adjust, the raw (unadjusted) series is read and adjusted by the stored corporate
// actions exactly as the views bars_split_adjusted and bars_total_return do.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>

#include "cli/api_flags.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "core/market_time.h"
#include "core/corporate_actions.h"
#include "store/actions_store.h"
#include "store/bar_store.h"

namespace barfill::cli {
namespace {

struct ExportFlags {
  std::string db;
  std::string ticker;
  std::string timeframe;
  std::string from;
  std::string to;
  std::string adjusted;  ///< empty: true
  std::string adjust;    ///< empty: read the series as stored
  std::string format = "csv";
  std::string timestamps = "iso";
  std::string output;
};

/// Bytes buffered before a write to the output.
constexpr size_t kOutputBufferBytes = size_t{1} << 16;

/// Writes bars in one format to a FILE*, through its own buffer.
class BarWriter {
 public:
  BarWriter(std::FILE* out, bool jsonl, bool epoch_ms)
      : out_(out), jsonl_(jsonl), epoch_ms_(epoch_ms) {
    buffer_.reserve(kOutputBufferBytes + 512);
    if (!jsonl_) buffer_ += "timestamp,open,high,low,close,volume,vwap,trades\n";
  }

  Status Write(const BarBatch& bars) {
    for (size_t i = 0; i < bars.size(); ++i) {
      if (jsonl_) {
        WriteJsonRow(bars[i]);
      } else {
        WriteCsvRow(bars[i]);
      }
      if (buffer_.size() >= kOutputBufferBytes) BARFILL_TRY(Flush());
    }
    rows_ += bars.size();
    return Ok();
  }

  Status Flush() {
    if (!buffer_.empty() && std::fwrite(buffer_.data(), 1, buffer_.size(), out_) != buffer_.size()) {
      return Fail(ErrorCode::kUsage, std::string("cannot write the export: ") + std::strerror(errno));
    }
    buffer_.clear();
    return Ok();
  }

  size_t rows() const { return rows_; }

 private:
  void Number(double v) {
    char text[32];
    const auto end = std::to_chars(text, text + sizeof text, v).ptr;
    buffer_.append(text, end);
  }
  void Integer(int64_t v) {
    char text[24];
    const auto end = std::to_chars(text, text + sizeof text, v).ptr;
    buffer_.append(text, end);
  }
  void Time(int64_t ms, bool quoted) {
    if (epoch_ms_) {
      Integer(ms);
    } else if (quoted) {
      buffer_ += '"';
      buffer_ += FormatIsoUtc(ms);
      buffer_ += '"';
    } else {
      buffer_ += FormatIsoUtc(ms);
    }
  }

  void WriteCsvRow(const Bar& bar) {
    Time(bar.t, false);
    for (const double v : {bar.open, bar.high, bar.low, bar.close, bar.volume}) {
      buffer_ += ',';
      Number(v);
    }
    buffer_ += ',';
    if (bar.HasVwap()) Number(bar.vwap);
    buffer_ += ',';
    if (bar.HasTrades()) Integer(bar.trades);
    buffer_ += '\n';
  }

  void WriteJsonRow(const Bar& bar) {
    buffer_ += "{\"timestamp\":";
    Time(bar.t, true);
    const std::pair<const char*, double> fields[] = {{",\"open\":", bar.open},
                                                     {",\"high\":", bar.high},
                                                     {",\"low\":", bar.low},
                                                     {",\"close\":", bar.close},
                                                     {",\"volume\":", bar.volume}};
    for (const auto& [name, v] : fields) {
      buffer_ += name;
      Number(v);
    }
    buffer_ += ",\"vwap\":";
    if (bar.HasVwap()) {
      Number(bar.vwap);
    } else {
      buffer_ += "null";
    }
    buffer_ += ",\"trades\":";
    if (bar.HasTrades()) {
      Integer(bar.trades);
    } else {
      buffer_ += "null";
    }
    buffer_ += "}\n";
  }

  std::FILE* out_;
  bool jsonl_;
  bool epoch_ms_;
  std::string buffer_;
  size_t rows_ = 0;
};

/// The series and range the flags ask for; days are read in the ticker's market zone.
Result<std::pair<Series, TimeRange>> ParseSelection(const ExportFlags& flags) {
  auto ticker = Ticker::Parse(flags.ticker);
  if (!ticker) return Fail(ErrorCode::kUsage, "--ticker: " + ticker.error().message);
  auto timeframe = Timeframe::Parse(flags.timeframe);
  if (!timeframe) return Fail(ErrorCode::kUsage, "--timeframe: " + timeframe.error().message);
  if (!flags.adjusted.empty() && flags.adjusted != "true" && flags.adjusted != "false") {
    return Fail(ErrorCode::kUsage, "--adjusted must be true or false (got '" + flags.adjusted + "')");
  }
  bool adjusted = flags.adjusted != "false";
  if (!flags.adjust.empty()) {
    auto adjustment = ParseAdjustment(flags.adjust);
    if (!adjustment) return Fail(ErrorCode::kUsage, "--adjust: " + adjustment.error().message);
    if (!flags.adjusted.empty()) {
      return Fail(ErrorCode::kUsage, "--adjust reads the unadjusted series and adjusts it itself: drop --adjusted");
    }
    if (*adjustment != Adjustment::kNone && ticker->asset_class() != AssetClass::kStock) {
      return Fail(ErrorCode::kUsage, ticker->symbol() + " is a " + std::string(AssetClassName(ticker->asset_class())) +
                                         " ticker and has no corporate actions: drop --adjust");
    }
    adjusted = false;
  }
  std::optional<CalendarDay> from;
  std::optional<CalendarDay> to;
  if (!flags.from.empty()) {
    auto day = CalendarDay::Parse(flags.from);
    if (!day) return Fail(ErrorCode::kUsage, "--from " + flags.from + " is not a valid YYYY-MM-DD date");
    from = *day;
  }
  if (!flags.to.empty()) {
    auto day = CalendarDay::Parse(flags.to);
    if (!day) return Fail(ErrorCode::kUsage, "--to " + flags.to + " is not a valid YYYY-MM-DD date");
    to = *day;
  }
  if (from && to && *from > *to) return Fail(ErrorCode::kUsage, "--from must not be after --to");
  return std::make_pair(Series{*ticker, *timeframe, adjusted}, ticker->zone().DaysToRange(from, to));
}

int RunExport(const ExportFlags& flags) {
  auto selection = ParseSelection(flags);
  if (!selection) return ReportError(selection.error());
  const auto& [series, range] = *selection;

  // Export never creates or changes a database.
  auto store = OpenStore(ResolveDbUrl(flags.db), StoreOptions::ForReading());
  if (!store) return ReportError(store.error());
  if (auto checked = (*store)->Migrate(); !checked) return ReportError(checked.error());
  const Adjustment adjustment = flags.adjust.empty() ? Adjustment::kNone : *ParseAdjustment(flags.adjust);
  std::vector<FactorRange> factors;
  if (adjustment != Adjustment::kNone) {
    auto synced = ReadActionsStatus(**store);
    if (!synced) return ReportError(synced.error());
    const bool known = std::any_of(synced->begin(), synced->end(),
                                   [&](const ActionsStatus& a) { return a.ticker == series.ticker.symbol(); });
    if (!known) {
      return ReportError(Error(ErrorCode::kUsage, "the corporate actions of " + series.ticker.symbol() +
                                                      " were never synced into this database: run `barfill actions "
                                                      "sync --tickers " + series.ticker.symbol() + "` first"));
    }
    auto ranges = ReadFactorRanges(**store, series.ticker.symbol());
    if (!ranges) return ReportError(ranges.error());
    factors = std::move(*ranges);
  }

  // A file is written beside its final name and renamed when complete, so a failed export never
  // leaves a truncated file that looks finished.
  const std::string partial = flags.output.empty() ? "" : flags.output + ".partial";
  std::FILE* out = stdout;
  if (!partial.empty()) {
    out = std::fopen(partial.c_str(), "wb");
    if (out == nullptr) {
      return ReportError(Error(ErrorCode::kUsage,
                               "cannot write " + flags.output + ": " + std::strerror(errno)));
    }
  }
  BarWriter writer(out, flags.format == "jsonl", flags.timestamps == "ms");
  BarBatch adjusted_bars;
  Status status = (*store)->ReadBars(series, range, [&](const BarBatch& bars) {
    if (adjustment == Adjustment::kNone) return writer.Write(bars);
    adjusted_bars = bars;
    AdjustBars(adjusted_bars, factors, adjustment);
    return writer.Write(adjusted_bars);
  });
  if (status) status = writer.Flush();
  if (out != stdout) {
    if (std::fclose(out) != 0 && status) {
      status = Fail(ErrorCode::kUsage, "cannot write " + flags.output + ": " + std::strerror(errno));
    }
    std::error_code ec;
    if (status) {
      std::filesystem::rename(partial, flags.output, ec);
      if (ec) status = Fail(ErrorCode::kUsage, "cannot write " + flags.output + ": " + ec.message());
    }
    if (!status) std::filesystem::remove(partial, ec);
  } else if (status && std::fflush(stdout) != 0) {
    status = Fail(ErrorCode::kUsage, std::string("cannot write the export: ") + std::strerror(errno));
  }
  if (!status) return ReportError(status.error());
  if (!flags.output.empty()) {
    std::fprintf(stderr, "exported %zu bars of %s to %s\n", writer.rows(),
                 series.Describe().c_str(), flags.output.c_str());
  }
  return kExitOk;
}

}  // namespace

void AddExportCommand(CLI::App& app, CommandMain* run) {
  auto flags = std::make_shared<ExportFlags>();
  CLI::App* cmd = app.add_subcommand("export", "Write one series' bars as CSV or JSON Lines, in time order");
  cmd->add_option("--ticker", flags->ticker, "Ticker, e.g. AAPL or X:BTCUSD")->required();
  cmd->add_option("--timeframe", flags->timeframe, "Bar size, e.g. 1m, 5m, 1h, 1d")->required();
  cmd->add_option("--from", flags->from, "First day (YYYY-MM-DD, inclusive, in the market's zone)");
  cmd->add_option("--to", flags->to, "Last day (YYYY-MM-DD, inclusive)");
  cmd->add_option("--adjusted", flags->adjusted, "Split-adjusted series: true (default) or false");
  cmd->add_option("--adjust", flags->adjust,
                  "Read the unadjusted series and adjust it by the stored corporate actions: none, splits (prices "
                  "x factor rounded half up to 4 decimals, as the vendor; volume / factor) or total-return "
                  "(splits and cash dividends, not rounded)")
      ->check(CLI::IsMember({"none", "splits", "total-return"}));
  cmd->add_option("--format", flags->format, "csv (default) or jsonl")
      ->check(CLI::IsMember({"csv", "jsonl"}));
  cmd->add_option("--timestamps", flags->timestamps, "iso (ISO-8601 UTC, default) or ms (Unix ms)")
      ->check(CLI::IsMember({"iso", "ms"}));
  cmd->add_option("--output", flags->output, "Write to this file instead of standard output");
  AddDbFlag(cmd, &flags->db);
  cmd->callback([flags, run] { *run = [flags] { return RunExport(*flags); }; });
}

}  // namespace barfill::cli
