#include "polygon/grouped_daily.h"

#include <utility>

namespace barfill::polygon {
namespace {

std::string_view LocaleOf(GroupedMarket market) { return market == GroupedMarket::kStocks ? "us" : "global"; }

}  // namespace

std::string_view GroupedMarketName(GroupedMarket market) {
  switch (market) {
    case GroupedMarket::kStocks: return "stocks";
    case GroupedMarket::kCrypto: return "crypto";
    case GroupedMarket::kFx: return "fx";
  }
  return "stocks";
}

AssetClass AssetClassOf(GroupedMarket market) {
  switch (market) {
    case GroupedMarket::kStocks: return AssetClass::kStock;
    case GroupedMarket::kCrypto: return AssetClass::kCrypto;
    case GroupedMarket::kFx: return AssetClass::kFx;
  }
  return AssetClass::kStock;
}

std::optional<GroupedMarket> GroupedMarketOf(AssetClass asset) {
  switch (asset) {
    case AssetClass::kStock: return GroupedMarket::kStocks;
    case AssetClass::kCrypto: return GroupedMarket::kCrypto;
    case AssetClass::kFx: return GroupedMarket::kFx;
    case AssetClass::kIndex:
    case AssetClass::kOption: return std::nullopt;
  }
  return std::nullopt;
}

TimeRange GroupedDailyRequest::Day() const { return ZoneFor(AssetClassOf(market)).DaysToRange(date, date); }

std::string GroupedDailyRequest::Describe() const {
  return "grouped daily " + std::string(GroupedMarketName(market)) + " " + date.ToString() +
         (adjusted ? "" : " unadjusted");
}

Result<std::string> BuildGroupedDailyUrl(std::string_view base_url, const GroupedDailyRequest& request) {
  // A day that does not read back as itself (month 13, year 10000: YYYY has four digits) would
  // send a path the API reads as some other day, or not at all.
  const std::string date = request.date.ToString();
  const auto parsed = CalendarDay::Parse(date);
  if (!parsed || !(*parsed == request.date)) {
    return Fail(ErrorCode::kUsage, "grouped daily request for '" + date + "': not a day from 1970-01-01 to 9999-12-31");
  }
  std::string url;
  url.reserve(base_url.size() + 96);
  url.append(base_url);
  url.append("/v2/aggs/grouped/locale/");
  url.append(LocaleOf(request.market));
  url.append("/market/");
  url.append(GroupedMarketName(request.market));
  url.push_back('/');
  url.append(date);
  url.append(request.adjusted ? "?adjusted=true" : "?adjusted=false");
  url.append("&include_otc=false");
  return url;
}

Result<GroupedDay> ReadGroupedDailyResponse(AggsParser& parser, const GroupedDailyRequest& request,
                                            int http_status, const char* data, size_t size,
                                            size_t capacity) {
  GroupedDay day;
  std::vector<std::string> symbols;
  ParseOptions options;
  options.tickers = &symbols;
  auto page = ReadAggsResponse(parser, http_status, data, size, capacity, day.bars, options);
  if (!page) return Fail(std::move(page).error());
  day.status = page->status;
  day.query_count = page->query_count;
  day.request_id = std::move(page->request_id);

  const AssetClass asset = AssetClassOf(request.market);
  const TimeRange bounds = request.Day();
  BarBatch& bars = day.bars;
  day.tickers.reserve(bars.size());
  size_t kept = 0;
  for (size_t i = 0; i < bars.size(); ++i) {
    auto ticker = Ticker::Parse(symbols[i]);
    if (!ticker || ticker->asset_class() != asset) {
      ++day.skipped;
      if (day.skipped_examples.size() < kMaxSkippedExamples) {
        day.skipped_examples.push_back(symbols[i].empty() ? "(no T)" : BodyExcerpt(symbols[i], 40));
      }
      continue;
    }
    Bar bar = bars[i];
    if (bounds.Contains(bar.t) && bar.t != bounds.from_ms) {
      bar.t = bounds.from_ms;
      ++day.restamped;
    }
    bars.Set(kept++, bar);
    day.tickers.push_back(std::move(*ticker));
  }
  bars.resize(kept);
  return day;
}

}  // namespace barfill::polygon
