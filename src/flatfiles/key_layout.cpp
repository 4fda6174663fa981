#include "flatfiles/key_layout.h"

#include <array>
#include <cstdio>

#include "calendar/exchange_calendar.h"

namespace barfill::flatfiles {
namespace {

constexpr std::array<AssetClass, 5> kAssets = {AssetClass::kStock, AssetClass::kCrypto, AssetClass::kFx,
                                               AssetClass::kIndex, AssetClass::kOption};
constexpr std::array<FileTimeframe, 2> kTimeframes = {FileTimeframe::kMinute, FileTimeframe::kDay};
constexpr std::string_view kKeySuffix = ".csv.gz";

// Quote currencies of crypto pairs, longest first so that X:BTCUSDT splits as BTC-USDT.
constexpr std::array<std::string_view, 10> kCryptoQuotes = {"USDT", "USDC", "USD", "EUR", "GBP",
                                                            "JPY",  "AUD",  "CAD", "BTC", "ETH"};
constexpr size_t kForexCodeLength = 3;

std::string TwoDigits(unsigned n) {
  char buf[4];
  std::snprintf(buf, sizeof buf, "%02u", n % 100);
  return buf;
}

std::string YearText(int year) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d", year);
  return buf;
}

Unexpected BadKey(std::string_view key, std::string_view why) {
  return Fail(ErrorCode::kUsage, "'" + std::string(key) + "' is not a flat-file day key (" + std::string(why) +
                                     "); expected e.g. us_stocks_sip/minute_aggs_v1/2024/01/2024-01-02.csv.gz");
}

}  // namespace

std::string_view AssetDirectory(AssetClass asset) {
  switch (asset) {
    case AssetClass::kStock: return "us_stocks_sip";
    case AssetClass::kCrypto: return "global_crypto";
    case AssetClass::kFx: return "global_forex";
    case AssetClass::kIndex: return "us_indices";
    case AssetClass::kOption: return "us_options_opra";
  }
  return "us_stocks_sip";
}

std::string_view TimeframeDirectory(FileTimeframe timeframe) {
  return timeframe == FileTimeframe::kMinute ? "minute_aggs_v1" : "day_aggs_v1";
}

Timeframe TimeframeOf(FileTimeframe timeframe) {
  return timeframe == FileTimeframe::kMinute ? Timeframe(1, Timespan::kMinute) : Timeframe(1, Timespan::kDay);
}

std::string DatasetPrefix(Dataset dataset) {
  std::string prefix(AssetDirectory(dataset.asset));
  prefix += '/';
  prefix += TimeframeDirectory(dataset.timeframe);
  prefix += '/';
  return prefix;
}

std::string MonthPrefix(Dataset dataset, CalendarDay day) {
  return DatasetPrefix(dataset) + YearText(day.year) + "/" + TwoDigits(day.month) + "/";
}

std::string KeyFor(Dataset dataset, CalendarDay day) {
  return MonthPrefix(dataset, day) + day.ToString() + std::string(kKeySuffix);
}

Result<DayFileKey> ParseKey(std::string_view key) {
  DayFileKey parsed;
  const size_t slash = key.find('/');
  if (slash == std::string_view::npos) return BadKey(key, "no folder");
  bool asset_found = false;
  for (const AssetClass asset : kAssets) {
    if (key.substr(0, slash) == AssetDirectory(asset)) {
      parsed.dataset.asset = asset;
      asset_found = true;
    }
  }
  if (!asset_found) return BadKey(key, "unknown asset folder '" + std::string(key.substr(0, slash)) + "'");
  std::string_view rest = key.substr(slash + 1);
  const size_t slash2 = rest.find('/');
  bool timeframe_found = false;
  for (const FileTimeframe timeframe : kTimeframes) {
    if (rest.substr(0, slash2) == TimeframeDirectory(timeframe)) {
      parsed.dataset.timeframe = timeframe;
      timeframe_found = true;
    }
  }
  if (!timeframe_found || slash2 == std::string_view::npos) {
    return BadKey(key, "not minute_aggs_v1 or day_aggs_v1");
  }
  rest = rest.substr(slash2 + 1);
  // YYYY/MM/YYYY-MM-DD.csv.gz
  constexpr size_t kDateLength = 10;
  constexpr size_t kFolders = 8;  // "YYYY/MM/"
  if (rest.size() != kFolders + kDateLength + kKeySuffix.size() ||
      rest.substr(kFolders + kDateLength) != kKeySuffix) {
    return BadKey(key, "the file name must be YYYY/MM/YYYY-MM-DD.csv.gz");
  }
  auto day = CalendarDay::Parse(rest.substr(kFolders, kDateLength));
  if (!day) return BadKey(key, day.error().message);
  if (KeyFor(parsed.dataset, *day) != key) return BadKey(key, "the year/month folders do not match the date");
  parsed.day = *day;
  parsed.key = std::string(key);
  return parsed;
}

bool PublishesFileOn(AssetClass asset, CalendarDay day) {
  const unsigned weekday = day.Weekday();
  const bool weekend = weekday == 0 || weekday == 6;
  switch (asset) {
    case AssetClass::kCrypto: return true;
    case AssetClass::kFx: return weekday != 6;
    case AssetClass::kIndex: return !weekend;
    case AssetClass::kStock:
    case AssetClass::kOption: {
      // Exchange sessions only; a day outside the calendar's years falls back to weekdays.
      const auto session = calendar::ExchangeCalendar::For(asset).SessionOn(day);
      return session ? session->is_open() : !weekend;
    }
  }
  return !weekend;
}

std::string FileSymbol(const Ticker& ticker) {
  const std::string& symbol = ticker.symbol();
  const AssetClass asset = ticker.asset_class();
  if (asset != AssetClass::kCrypto && asset != AssetClass::kFx) return symbol;
  const std::string_view body = std::string_view(symbol).substr(2);
  if (body.find('-') != std::string_view::npos) return symbol;
  size_t split = 0;
  if (asset == AssetClass::kFx && body.size() == 2 * kForexCodeLength) {
    split = kForexCodeLength;
  } else {
    for (const std::string_view quote : kCryptoQuotes) {
      if (body.size() > quote.size() && body.substr(body.size() - quote.size()) == quote) {
        split = body.size() - quote.size();
        break;
      }
    }
  }
  if (split == 0) return symbol;
  return symbol.substr(0, 2) + std::string(body.substr(0, split)) + "-" + std::string(body.substr(split));
}

std::string RestSymbol(std::string_view file_symbol) {
  const bool pair = file_symbol.size() > 2 && file_symbol[1] == ':' &&
                    (file_symbol[0] == 'X' || file_symbol[0] == 'C');
  std::string out(file_symbol);
  if (pair) std::erase(out, '-');
  return out;
}

}  // namespace barfill::flatfiles
