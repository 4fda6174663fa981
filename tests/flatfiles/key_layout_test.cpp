#include "flatfiles/key_layout.h"

#include <gtest/gtest.h>

#include "flatfiles/s3_client.h"
#include "flatfiles/s3_wire.h"

namespace barfill::flatfiles {
namespace {

Ticker T(std::string_view symbol) { return *Ticker::Parse(symbol); }

TEST(KeyLayoutTest, KeysAsTheVendorWritesThem) {
  // Keys seen in the wild.
  EXPECT_EQ(KeyFor({AssetClass::kStock, FileTimeframe::kMinute}, {2024, 1, 2}),
            "us_stocks_sip/minute_aggs_v1/2024/01/2024-01-02.csv.gz");
  EXPECT_EQ(KeyFor({AssetClass::kStock, FileTimeframe::kDay}, {2019, 8, 12}),
            "us_stocks_sip/day_aggs_v1/2019/08/2019-08-12.csv.gz");
  EXPECT_EQ(KeyFor({AssetClass::kCrypto, FileTimeframe::kMinute}, {2024, 1, 1}),
            "global_crypto/minute_aggs_v1/2024/01/2024-01-01.csv.gz");
  EXPECT_EQ(KeyFor({AssetClass::kFx, FileTimeframe::kMinute}, {2024, 6, 3}),
            "global_forex/minute_aggs_v1/2024/06/2024-06-03.csv.gz");
  EXPECT_EQ(KeyFor({AssetClass::kIndex, FileTimeframe::kMinute}, {2024, 9, 30}),
            "us_indices/minute_aggs_v1/2024/09/2024-09-30.csv.gz");
  EXPECT_EQ(KeyFor({AssetClass::kOption, FileTimeframe::kDay}, {2025, 2, 10}),
            "us_options_opra/day_aggs_v1/2025/02/2025-02-10.csv.gz");
  EXPECT_EQ(DatasetPrefix({AssetClass::kIndex, FileTimeframe::kDay}), "us_indices/day_aggs_v1/");
  EXPECT_EQ(MonthPrefix({AssetClass::kStock, FileTimeframe::kMinute}, {2024, 11, 5}),
            "us_stocks_sip/minute_aggs_v1/2024/11/");
}

TEST(KeyLayoutTest, KeysReadBack) {
  for (const AssetClass asset : {AssetClass::kStock, AssetClass::kCrypto, AssetClass::kFx, AssetClass::kIndex,
                                 AssetClass::kOption}) {
    for (const FileTimeframe timeframe : {FileTimeframe::kMinute, FileTimeframe::kDay}) {
      const Dataset dataset{asset, timeframe};
      const CalendarDay day{2023, 12, 31};
      const auto parsed = ParseKey(KeyFor(dataset, day));
      ASSERT_TRUE(parsed) << parsed.error().message;
      EXPECT_EQ(parsed->dataset, dataset);
      EXPECT_EQ(parsed->day, day);
    }
  }
  for (const char* bad : {"", "us_stocks_sip", "us_stocks_sip/trades_v1/2024/01/2024-01-02.csv.gz",
                          "us_stocks_sip/minute_aggs_v1/2024/02/2024-01-02.csv.gz",
                          "us_stocks_sip/minute_aggs_v1/2023/02/2023-02-29.csv.gz",
                          "us_stocks_sip/minute_aggs_v1/2024/01/2024-01-02.csv",
                          "flatfiles/us_stocks_sip/minute_aggs_v1/2024/01/2024-01-02.csv.gz",
                          "us_futures_cme/minute_aggs_v1/2024/01/2024-01-02.csv.gz"}) {
    const auto parsed = ParseKey(bad);
    EXPECT_FALSE(parsed) << bad;
    if (!parsed) {
      EXPECT_NE(parsed.error().message.find("is not a flat-file day key"), std::string::npos);
    }
  }
}

TEST(KeyLayoutTest, WhichDaysHaveFiles) {
  const CalendarDay saturday{2024, 10, 26};
  const CalendarDay sunday{2024, 10, 27};
  const CalendarDay monday{2024, 10, 28};
  const CalendarDay labor_day{2024, 9, 2};
  EXPECT_FALSE(PublishesFileOn(AssetClass::kStock, saturday));
  EXPECT_FALSE(PublishesFileOn(AssetClass::kStock, sunday));
  EXPECT_TRUE(PublishesFileOn(AssetClass::kStock, monday));
  EXPECT_TRUE(PublishesFileOn(AssetClass::kCrypto, saturday));
  EXPECT_TRUE(PublishesFileOn(AssetClass::kCrypto, sunday));
  EXPECT_FALSE(PublishesFileOn(AssetClass::kFx, saturday));  // forex: Sunday to Friday
  EXPECT_TRUE(PublishesFileOn(AssetClass::kFx, sunday));
  EXPECT_TRUE(PublishesFileOn(AssetClass::kIndex, labor_day));  // indices: holidays too
  EXPECT_FALSE(PublishesFileOn(AssetClass::kIndex, saturday));
  EXPECT_FALSE(PublishesFileOn(AssetClass::kOption, sunday));

  // Stocks and options follow the NYSE calendar: no file on a holiday or a special closing,
  // one on an early close.
  const CalendarDay carter_mourning{2025, 1, 9};
  const CalendarDay christmas_eve{2024, 12, 24};
  for (const AssetClass asset : {AssetClass::kStock, AssetClass::kOption}) {
    EXPECT_FALSE(PublishesFileOn(asset, labor_day));
    EXPECT_FALSE(PublishesFileOn(asset, CalendarDay{2025, 1, 1}));
    EXPECT_FALSE(PublishesFileOn(asset, carter_mourning));
    EXPECT_TRUE(PublishesFileOn(asset, christmas_eve));
    EXPECT_TRUE(PublishesFileOn(asset, monday));
  }
  EXPECT_TRUE(PublishesFileOn(AssetClass::kIndex, carter_mourning));
  EXPECT_TRUE(PublishesFileOn(AssetClass::kCrypto, labor_day));
}

TEST(KeyLayoutTest, PairSpellings) {
  EXPECT_EQ(FileSymbol(T("X:BTCUSD")), "X:BTC-USD");
  EXPECT_EQ(FileSymbol(T("X:BTCUSDT")), "X:BTC-USDT");
  EXPECT_EQ(FileSymbol(T("X:SHIBUSD")), "X:SHIB-USD");
  EXPECT_EQ(FileSymbol(T("X:ETHBTC")), "X:ETH-BTC");
  EXPECT_EQ(FileSymbol(T("C:EURUSD")), "C:EUR-USD");
  EXPECT_EQ(FileSymbol(T("C:USDJPY")), "C:USD-JPY");
  EXPECT_EQ(FileSymbol(T("BRK.B")), "BRK.B");
  EXPECT_EQ(FileSymbol(T("I:SPX")), "I:SPX");
  EXPECT_EQ(RestSymbol("X:BTC-USD"), "X:BTCUSD");
  EXPECT_EQ(RestSymbol("C:EUR-USD"), "C:EURUSD");
  EXPECT_EQ(RestSymbol("BF-B"), "BF-B");  // only pairs lose their hyphen
  for (const char* symbol : {"X:BTCUSD", "X:ETHUSDC", "C:GBPJPY", "AAPL"}) {
    EXPECT_EQ(RestSymbol(FileSymbol(T(symbol))), symbol);
  }
}

TEST(S3WireTest, ReadsTheListingShapeOfARealCapture) {
  // The shape of a captured answer (one entry, the quoted ETag escaped as &quot;).
  const std::string xml =
      R"(<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>flatfiles</Name><Prefix></Prefix><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated><NextContinuationToken>MS8yKz0=</NextContinuationToken><Contents><Key>us_options_opra/trades_v1/2014/07/2014-07-16.csv.gz</Key><LastModified>2023-09-02T17:44:38.050Z</LastModified><ETag>&quot;59c5073ef10e07e1817b313b83f0fc27&quot;</ETag><Size>7212421</Size><StorageClass>STANDARD</StorageClass><Type>Normal</Type></Contents><CommonPrefixes><Prefix>us_stocks_sip/</Prefix></CommonPrefixes></ListBucketResult>)";
  const auto page = ParseListing(xml);
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "us_options_opra/trades_v1/2014/07/2014-07-16.csv.gz");
  EXPECT_EQ(page->objects[0].etag, "59c5073ef10e07e1817b313b83f0fc27");
  EXPECT_EQ(page->objects[0].size, 7212421);
  EXPECT_EQ(page->objects[0].last_modified_ms, 1693676678050);
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_continuation_token, "MS8yKz0=");
  EXPECT_EQ(page->common_prefixes, std::vector<std::string>{"us_stocks_sip/"});

  for (const char* bad : {"", "not xml", "<Error><Code>AccessDenied</Code></Error>",
                          "<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>",
                          "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>"}) {
    const auto parsed = ParseListing(bad);
    EXPECT_FALSE(parsed) << bad;
    if (!parsed) {
      EXPECT_EQ(parsed.error().code, ErrorCode::kBadResponse);
    }
  }
}

TEST(S3WireTest, DatesAndEncodings) {
  EXPECT_EQ(ParseIsoTimeMs("2023-09-02T17:44:38.050Z"), 1693676678050);
  EXPECT_EQ(ParseIsoTimeMs("2023-09-02T17:44:38Z"), 1693676678000);
  EXPECT_FALSE(ParseIsoTimeMs("2023-02-30T00:00:00Z"));
  EXPECT_EQ(ParseHttpDateMs("Sat, 02 Sep 2023 17:44:38 GMT"), 1693676678000);
  EXPECT_FALSE(ParseHttpDateMs("Saturday, 02-Sep-23 17:44:38 GMT"));
  EXPECT_EQ(UriEncode("a+b/c=d e~", false), "a%2Bb%2Fc%3Dd%20e~");
  EXPECT_EQ(UriEncode("us_stocks_sip/minute_aggs_v1/", true), "us_stocks_sip/minute_aggs_v1/");
  // Sorted by name and encoded: what libcurl 7.88 must be given to sign the query right.
  EXPECT_EQ(CanonicalQuery({{"prefix", "us_stocks_sip/minute_aggs_v1/2024/01/"},
                            {"list-type", "2"},
                            {"delimiter", "/"},
                            {"continuation-token", "ab+/c=="}}),
            "continuation-token=ab%2B%2Fc%3D%3D&delimiter=%2F&list-type=2&prefix=us_stocks_sip%2Fminute_aggs_v1%2F2024%2F01%2F");
}

}  // namespace
}  // namespace barfill::flatfiles
