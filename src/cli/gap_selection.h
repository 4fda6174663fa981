// What `barfill gaps`, `barfill repair` and `barfill status --html` look at: the series of a
// database (all, or those of --tickers/--timeframes) over --from..--to (default: each series'
// own ledger days).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/series.h"
#include "quality/inspect.h"
#include "store/bar_store.h"

namespace CLI {
class App;
}

namespace barfill::cli {

/// The flags as typed.
struct GapSelectionFlags {
  std::string db;
  std::string tickers;     ///< "AAPL,X:BTCUSD"; empty: every ticker stored
  std::string timeframes;  ///< "1m,1d"; empty: every timeframe stored
  std::string from;        ///< YYYY-MM-DD, today or yesterday; empty: each series' first ledger day
  std::string to;
};

/// The flags checked, before the database is opened.
struct GapSelection {
  std::vector<Ticker> tickers;
  std::vector<Timeframe> timeframes;
  std::optional<CalendarDay> from;
  std::optional<CalendarDay> to;
};

/// Registers --tickers, --timeframes, --from and --to on `cmd`, and --db unless `with_db` is false.
void AddGapSelectionFlags(CLI::App* cmd, GapSelectionFlags* flags, bool with_db = true);

/// Checks the flags: each problem is one kUsage error naming the flag and the fix.
Result<GapSelection> ParseGapSelection(const GapSelectionFlags& flags, CalendarDay today);

/// The series to report on, and every series the store knows.
struct SelectedSeries {
  /// Those the store knows, narrowed to the selected tickers and timeframes; with tickers,
  /// timeframes and both days given, the ones it does not know yet too (all never fetched).
  /// Sorted as the store sorts them.
  std::vector<Series> selected;
  std::vector<Series> known;
};

Result<SelectedSeries> SelectSeries(BarStore& store, const GapSelection& selection);

/// InspectOptions for the selection, `now_ms` being now.
quality::InspectOptions InspectOptionsFor(const GapSelection& selection, const SelectedSeries& series, int64_t now_ms);

/// Now, in Unix ms.
int64_t NowMs();

}  // namespace barfill::cli
