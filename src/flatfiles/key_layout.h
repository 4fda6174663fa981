// Where the flat files live: one object per asset class, bar size and session date, e.g.
// us_stocks_sip/minute_aggs_v1/2024/01/2024-01-02.csv.gz; which dates have one; and how a
// ticker is spelled inside them (X:BTC-USD in a file is X:BTCUSD in REST).
#pragma once

#include <string>
#include <string_view>

#include "core/market_time.h"
#include "core/result.h"
#include "core/ticker.h"

namespace barfill::flatfiles {

/// The two aggregate files per day: minute bars (minute_aggs_v1) and day bars (day_aggs_v1).
enum class FileTimeframe { kMinute, kDay };

/// One family of files: an asset class and a bar size.
struct Dataset {
  AssetClass asset = AssetClass::kStock;
  FileTimeframe timeframe = FileTimeframe::kMinute;

  friend bool operator==(const Dataset&, const Dataset&) = default;
};

/// The asset class's top folder: "us_stocks_sip", "global_crypto", "global_forex",
/// "us_indices", "us_options_opra".
std::string_view AssetDirectory(AssetClass asset);
/// "minute_aggs_v1" or "day_aggs_v1".
std::string_view TimeframeDirectory(FileTimeframe timeframe);
/// The REST timeframe the files hold: 1m or 1d.
Timeframe TimeframeOf(FileTimeframe timeframe);

/// "us_stocks_sip/minute_aggs_v1/" (with the trailing slash), the listing prefix of a dataset.
std::string DatasetPrefix(Dataset dataset);
/// "us_stocks_sip/minute_aggs_v1/2024/01/" for the month holding `day`.
std::string MonthPrefix(Dataset dataset, CalendarDay day);
/// "us_stocks_sip/minute_aggs_v1/2024/01/2024-01-02.csv.gz".
std::string KeyFor(Dataset dataset, CalendarDay day);

/// A parsed object key.
struct DayFileKey {
  Dataset dataset;
  CalendarDay day;  ///< the session date: the market's own calendar day (New York for stocks)
  std::string key;
};

/// Reads a key made by KeyFor back. kUsage naming the problem for anything else (another
/// folder, trades_v1, a month folder that does not match the date, a date that does not exist).
Result<DayFileKey> ParseKey(std::string_view key);

/// Whether the vendor publishes a file of `asset` for session date `day`: stocks and options on
/// the exchange calendar's trading days (no holidays or special closings; docs/calendar.md),
/// indices on every weekday including holidays, crypto every day, forex Sunday to Friday. The
/// one place that decides it, for the simulator and for planning alike.
bool PublishesFileOn(AssetClass asset, CalendarDay day);

/// The symbol as the files spell it: crypto and forex pairs get a hyphen between base and quote
/// currency (X:BTCUSD -> X:BTC-USD, C:EURUSD -> C:EUR-USD); other tickers are unchanged.
std::string FileSymbol(const Ticker& ticker);

/// The REST spelling of a file symbol: the hyphen of an X: or C: pair removed
/// (X:BTC-USD -> X:BTCUSD); other symbols are unchanged. Does not validate.
std::string RestSymbol(std::string_view file_symbol);

}  // namespace barfill::flatfiles
