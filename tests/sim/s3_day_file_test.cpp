// The simulator's flat files, read back with a plain CSV split (not barfill's reader): the exact
// header, the vendor's spellings, GroundTruth's bars, the faults, and repeatable bytes.
#include "sim/s3_day_file.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "flatfiles/gzip_text.h"
#include "sim/market_data.h"
#include "sim/s3_bucket.h"

namespace barfill::sim {
namespace {

using flatfiles::Dataset;
using flatfiles::FileTimeframe;
using testing::Gunzip;

Ticker T(std::string_view symbol) { return *Ticker::Parse(symbol); }

std::vector<std::string> Split(std::string_view text, char sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    const size_t end = text.find(sep, pos);
    out.emplace_back(text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return out;
}

/// Rows of a CSV text (header first), fields split.
std::vector<std::vector<std::string>> Rows(const std::string& csv) {
  std::vector<std::vector<std::string>> rows;
  for (const std::string& line : Split(csv, '\n')) {
    if (!line.empty()) rows.push_back(Split(line, ','));
  }
  return rows;
}

DayFileContent Content(Dataset dataset, CalendarDay day, std::vector<Ticker> tickers) {
  DayFileContent c;
  c.market = Market(42);
  c.dataset = dataset;
  c.day = day;
  c.tickers = std::move(tickers);
  return c;
}

TEST(S3DayFileTest, StockMinuteFileHoldsGroundTruthInTheVendorsShape) {
  const CalendarDay day{2025, 3, 4};
  DayFileContent content = Content({AssetClass::kStock, FileTimeframe::kMinute}, day,
                                   {T("MSFT"), T("AAPL"), T("BRK.B"), T("ZTS"), T("A"), T("KO")});
  content.test_symbols = true;
  const std::string object = MakeDayFileObject(content);
  const auto rows = Rows(Gunzip(object));
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0], (std::vector<std::string>{"ticker", "volume", "open", "close", "high", "low", "window_start",
                                               "transactions"}));
  std::vector<std::string> block_order;
  std::map<std::string, std::vector<std::vector<std::string>>> by_symbol;
  bool padded_seen = false;
  bool short_seen = false;
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 8u);
    const std::string& symbol = rows[i][0];
    if (block_order.empty() || block_order.back() != symbol) block_order.push_back(symbol);
    by_symbol[symbol].push_back(rows[i]);
    const size_t dot = rows[i][2].find('.');
    if (dot != std::string::npos && rows[i][2].size() - dot - 1 == 14) padded_seen = true;
    if (dot == std::string::npos || rows[i][2].size() - dot - 1 <= 2) short_seen = true;
  }
  // One block per symbol, in an order that is not alphabetical.
  EXPECT_EQ(block_order.size(), by_symbol.size());
  EXPECT_FALSE(std::is_sorted(block_order.begin(), block_order.end()));
  EXPECT_TRUE(padded_seen && short_seen) << "mixed decimal precision";
  EXPECT_TRUE(by_symbol.count("ADSw")) << "a when-issued symbol with a lower-case letter";
  for (const char* symbol : {"MSFT", "AAPL", "BRK.B"}) {
    const BarBatch truth = GroundTruth(42, T(symbol), Timeframe(1, Timespan::kMinute), false,
                                       MarketZone::NewYork().DaysToRange(day, day));
    const auto& got = by_symbol.at(symbol);
    ASSERT_EQ(got.size(), truth.size()) << symbol;
    ASSERT_GT(truth.size(), 500u);
    for (size_t i = 0; i < truth.size(); ++i) {
      EXPECT_EQ(std::stod(got[i][1]), truth.volume[i]);
      EXPECT_EQ(std::stod(got[i][2]), truth.open[i]);
      EXPECT_EQ(std::stod(got[i][3]), truth.close[i]);
      EXPECT_EQ(std::stod(got[i][4]), truth.high[i]);
      EXPECT_EQ(std::stod(got[i][5]), truth.low[i]);
      EXPECT_EQ(std::stoll(got[i][6]), truth.t[i] * 1'000'000);
      EXPECT_EQ(std::stoll(got[i][7]), truth.trades[i]);
    }
  }
  // Repeatable bytes (stable ETags); a republication changes the bytes, never the bars.
  EXPECT_EQ(MakeDayFileObject(content), object);
  content.revision = 1;
  const std::string again = MakeDayFileObject(content);
  EXPECT_NE(again, object);
  auto rows_again = Rows(Gunzip(again));
  std::map<std::string, std::vector<double>> closes_before;
  std::map<std::string, std::vector<double>> closes_after;
  for (size_t i = 1; i < rows.size(); ++i) closes_before[rows[i][0]].push_back(std::stod(rows[i][3]));
  for (size_t i = 1; i < rows_again.size(); ++i) closes_after[rows_again[i][0]].push_back(std::stod(rows_again[i][3]));
  EXPECT_EQ(closes_before, closes_after);
}

TEST(S3DayFileTest, PairsIndicesAndDayFiles) {
  const CalendarDay day{2025, 3, 8};  // a Saturday: crypto trades
  auto rows = Rows(Gunzip(MakeDayFileObject(Content({AssetClass::kCrypto, FileTimeframe::kDay}, day,
                                                    {T("X:BTCUSD"), T("X:ETHUSD")}))));
  ASSERT_EQ(rows.size(), 3u);
  std::set<std::string> symbols = {rows[1][0], rows[2][0]};
  EXPECT_EQ(symbols, (std::set<std::string>{"X:BTC-USD", "X:ETH-USD"}));
  EXPECT_EQ(std::stoll(rows[1][6]), MarketZone::Utc().DayStartMs(day) * 1'000'000);
  EXPECT_NE(rows[1][1].find('.'), std::string::npos) << "fractional crypto volume";

  rows = Rows(Gunzip(MakeDayFileObject(Content({AssetClass::kIndex, FileTimeframe::kMinute}, {2025, 3, 4}, {T("I:SPX")}))));
  EXPECT_EQ(rows[0], (std::vector<std::string>{"ticker", "open", "close", "high", "low", "window_start"}));
  ASSERT_GT(rows.size(), 100u);
  EXPECT_EQ(rows[1].size(), 6u);
  EXPECT_EQ(rows[1][0], "I:SPX");

  // Stock day rows at 00:00 New York of the session (2025-03-04 00:00 EST = 05:00Z).
  rows = Rows(Gunzip(MakeDayFileObject(Content({AssetClass::kStock, FileTimeframe::kDay}, {2025, 3, 4}, {T("AAPL")}))));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1][6], "1741064400000000000");
}

TEST(S3DayFileTest, ContentFaults) {
  const Dataset stock_day{AssetClass::kStock, FileTimeframe::kDay};
  const CalendarDay day{2025, 3, 4};
  DayFileContent content = Content(stock_day, day, {T("AAPL"), T("MSFT")});
  const auto good = Rows(Gunzip(MakeDayFileObject(content)));

  content.fault = S3Fault::kWrongDate;
  auto rows = Rows(Gunzip(MakeDayFileObject(content)));
  ASSERT_EQ(rows.size(), good.size());
  EXPECT_EQ(std::stoll(rows[1][6]) - std::stoll(good[1][6]), 86'400'000'000'000);

  content.fault = S3Fault::kNegativeWindowStart;
  rows = Rows(Gunzip(MakeDayFileObject(content)));
  EXPECT_EQ(rows[1][6], "-68400000000000");
  EXPECT_EQ(rows[2][6], "-68400000000000");

  content.fault = S3Fault::kBadRows;
  rows = Rows(Gunzip(MakeDayFileObject(content)));
  EXPECT_EQ(rows.size(), good.size() + 3);
  EXPECT_EQ(rows[2][2], "n/a");
  EXPECT_EQ(rows[4].size(), 7u);

  content.fault = S3Fault::kTruncatedGzip;
  const std::string cut = MakeDayFileObject(content);
  content.fault.reset();
  const std::string whole = MakeDayFileObject(content);
  EXPECT_LT(cut.size(), whole.size());
  EXPECT_EQ(whole.substr(0, cut.size()), cut);
}

TEST(S3BucketTest, KeysPublicationAndReplacement) {
  S3SimOptions options;
  options.universe = {T("AAPL"), T("X:BTCUSD")};
  options.first_day = {2025, 3, 1};  // a Saturday
  options.last_day = {2025, 3, 10};
  options.republications = {{"us_stocks_sip/day_aggs_v1/2025/03/2025-03-04.csv.gz", 1741200000000}};
  options.history_days = 5;
  options.entitled_assets = {"us_stocks_sip"};
  FlatFileBucket bucket(options, Market(1));
  const auto& entries = bucket.entries();
  EXPECT_TRUE(std::is_sorted(entries.begin(), entries.end(),
                             [](const BucketEntry& a, const BucketEntry& b) { return a.key < b.key; }));
  // Crypto every day (10 per timeframe); stocks on weekdays (6 per timeframe).
  EXPECT_EQ(entries.size(), 2u * 10 + 2u * 6);
  EXPECT_EQ(bucket.Find("us_stocks_sip/day_aggs_v1/2025/03/2025-03-01.csv.gz"), nullptr);
  const BucketEntry* day_file = bucket.Find("us_stocks_sip/day_aggs_v1/2025/03/2025-03-04.csv.gz");
  const BucketEntry* minute_file = bucket.Find("us_stocks_sip/minute_aggs_v1/2025/03/2025-03-04.csv.gz");
  ASSERT_TRUE(day_file && minute_file);

  // The day file appears at 22:00 New York on the session date; the minute file the next morning.
  const int64_t ny_day_start = MarketZone::NewYork().DayStartMs({2025, 3, 4});
  EXPECT_EQ(day_file->published_ms, ny_day_start + 22 * kMsPerHour);
  EXPECT_GE(minute_file->published_ms, ny_day_start + 30 * kMsPerHour);
  EXPECT_LT(minute_file->published_ms, ny_day_start + 35 * kMsPerHour);
  EXPECT_FALSE(bucket.VersionAt(*day_file, day_file->published_ms - 1));
  const auto first = bucket.VersionAt(*day_file, day_file->published_ms);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->revision, 0);
  EXPECT_EQ(first->last_modified_ms, day_file->published_ms);
  const auto replaced = bucket.VersionAt(*day_file, 1741200000000 + 1);
  ASSERT_TRUE(replaced);
  EXPECT_EQ(replaced->revision, 1);
  EXPECT_EQ(replaced->last_modified_ms, 1741200000000);
  EXPECT_NE(bucket.Meta(*day_file, 0).etag, bucket.Meta(*day_file, 1).etag);

  // Entitlement: stocks only, five days back.
  const int64_t now = MarketZone::NewYork().DayStartMs({2025, 3, 8});
  EXPECT_TRUE(bucket.Entitled(*day_file, now));
  EXPECT_FALSE(bucket.Entitled(*day_file, MarketZone::NewYork().DayStartMs({2025, 3, 10})));
  const BucketEntry* crypto = bucket.Find("global_crypto/day_aggs_v1/2025/03/2025-03-07.csv.gz");
  ASSERT_TRUE(crypto);
  EXPECT_FALSE(bucket.Entitled(*crypto, now));
}

TEST(S3BucketTest, TheCacheKeepsItsBudgetAndRemembersSizes) {
  S3SimOptions options;
  options.universe = {T("AAPL"), T("MSFT")};
  options.first_day = {2025, 3, 3};
  options.last_day = {2025, 3, 7};
  options.cache_bytes = 150 * 1024;  // about two minute files
  FlatFileBucket bucket(options, Market(1));
  std::vector<const BucketEntry*> minute_files;
  for (const BucketEntry& e : bucket.entries()) {
    if (e.dataset.timeframe == FileTimeframe::kMinute) minute_files.push_back(&e);
  }
  ASSERT_EQ(minute_files.size(), 5u);
  std::vector<std::string> etags;
  for (const BucketEntry* e : minute_files) etags.push_back(bucket.Object(*e, 0)->etag);
  EXPECT_EQ(bucket.CacheStats().generated, 5);
  // Sizes and ETags are remembered without regenerating...
  for (size_t i = 0; i < minute_files.size(); ++i) EXPECT_EQ(bucket.Meta(*minute_files[i], 0).etag, etags[i]);
  EXPECT_EQ(bucket.CacheStats().generated, 5);
  // ...the newest object is still held, the oldest was evicted and comes back identical.
  EXPECT_EQ(bucket.Object(*minute_files[4], 0)->etag, etags[4]);
  EXPECT_EQ(bucket.CacheStats().hits, 1);
  EXPECT_EQ(bucket.Object(*minute_files[0], 0)->etag, etags[0]);
  EXPECT_EQ(bucket.CacheStats().generated, 6);
}

}  // namespace
}  // namespace barfill::sim
