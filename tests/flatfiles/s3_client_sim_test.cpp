// The flat-file client against the S3 simulator over loopback, both sides real: listings,
// downloads read bar for bar against the simulator's ground truth, resumes, replacements,
// throttling, entitlement and the files' known defects.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <thread>

#include "flatfiles/s3_sim_env.h"

namespace barfill::flatfiles {
namespace {

using testing::DownloadDayFile;
using testing::ExpectedFileBars;
using testing::FirstDifference;
using testing::S3SimEnv;

Ticker T(std::string_view symbol) { return *Ticker::Parse(symbol); }

int64_t NewYorkTime(CalendarDay day, int hour, int minute = 0) {
  return MarketZone::NewYork().DayStartMs(day) + hour * kMsPerHour + minute * kMsPerMinute;
}

const Dataset kStockMinute{AssetClass::kStock, FileTimeframe::kMinute};
const Dataset kStockDay{AssetClass::kStock, FileTimeframe::kDay};

sim::S3SimOptions Universe(std::vector<Ticker> tickers, CalendarDay first, CalendarDay last) {
  sim::S3SimOptions s3;
  s3.universe = std::move(tickers);
  s3.first_day = first;
  s3.last_day = last;
  return s3;
}

TEST(S3ClientSimTest, ListsMoreThanAThousandKeysThroughContinuationTokens) {
  // Three years of crypto day files: 1096 keys, so the listing takes two pages.
  S3SimEnv env(Universe({T("AAPL"), T("X:BTCUSD")}, {2023, 1, 1}, {2025, 12, 31}), NewYorkTime({2026, 1, 10}, 12));
  auto client = env.Client();
  ASSERT_TRUE(client);
  const Dataset crypto_day{AssetClass::kCrypto, FileTimeframe::kDay};
  auto listing = client->ListAll(DatasetPrefix(crypto_day));
  ASSERT_TRUE(listing) << listing.error().message;
  EXPECT_EQ(listing->objects.size(), 365u + 366u + 365u);
  EXPECT_EQ(listing->pages, 2);
  std::set<std::string> keys;
  const std::regex etag("[0-9a-f]{32}");
  for (const ObjectInfo& o : listing->objects) {
    EXPECT_TRUE(keys.insert(o.key).second) << "listed twice: " << o.key;
    const auto parsed = ParseKey(o.key);
    ASSERT_TRUE(parsed) << o.key;
    EXPECT_GT(o.size, 20);
    EXPECT_TRUE(std::regex_match(o.etag, etag)) << o.etag;
    // Published at 01:00 UTC the day after the session.
    EXPECT_EQ(o.last_modified_ms, MarketZone::Utc().DayStartMs(parsed->day.AddDays(1)) + kMsPerHour);
  }
  EXPECT_TRUE(std::is_sorted(listing->objects.begin(), listing->objects.end(),
                             [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; }));
  EXPECT_EQ(listing->objects.front().key, "global_crypto/day_aggs_v1/2023/01/2023-01-01.csv.gz");
  EXPECT_EQ(listing->objects.back().key, "global_crypto/day_aggs_v1/2025/12/2025-12-31.csv.gz");

  // One month: the 21 NYSE sessions of January 2024: its 23 weekdays less New Year's Day and
  // Martin Luther King Jr. Day.
  listing = client->ListAll(MonthPrefix(kStockMinute, {2024, 1, 1}));
  ASSERT_TRUE(listing) << listing.error().message;
  EXPECT_EQ(listing->objects.size(), 21u);
  EXPECT_EQ(listing->objects.front().key, "us_stocks_sip/minute_aggs_v1/2024/01/2024-01-02.csv.gz");
  for (const ObjectInfo& o : listing->objects) {
    EXPECT_EQ(o.key.find("2024-01-15"), std::string::npos) << "no file on Martin Luther King Jr. Day";
  }
  EXPECT_EQ(listing->objects.back().key, "us_stocks_sip/minute_aggs_v1/2024/01/2024-01-31.csv.gz");
  // The listing's size and ETag are the object's.
  auto head = client->Head(listing->objects.front().key);
  ASSERT_TRUE(head) << head.error().message;
  EXPECT_EQ(head->size, listing->objects.front().size);
  EXPECT_EQ(head->etag, listing->objects.front().etag);
  EXPECT_EQ(head->last_modified_ms / 1000, listing->objects.front().last_modified_ms / 1000);
}

TEST(S3ClientSimTest, DelimiterRollsKeysUpIntoFolders) {
  S3SimEnv env(Universe({T("AAPL"), T("X:BTCUSD")}, {2024, 12, 30}, {2025, 1, 3}), NewYorkTime({2025, 2, 1}, 12));
  auto client = env.Client();
  ASSERT_TRUE(client);
  auto root = client->ListAll("", "/");
  ASSERT_TRUE(root) << root.error().message;
  EXPECT_TRUE(root->objects.empty());
  EXPECT_EQ(root->common_prefixes, (std::vector<std::string>{"global_crypto/", "us_stocks_sip/"}));
  auto years = client->ListAll("us_stocks_sip/minute_aggs_v1/", "/");
  ASSERT_TRUE(years) << years.error().message;
  EXPECT_EQ(years->common_prefixes,
            (std::vector<std::string>{"us_stocks_sip/minute_aggs_v1/2024/", "us_stocks_sip/minute_aggs_v1/2025/"}));
  // One entry per page: the continuation token carries on after a rolled-up folder.
  ListRequest request;
  request.delimiter = "/";
  request.prefix = "us_stocks_sip/";
  request.max_keys = 1;
  std::vector<std::string> seen;
  for (int page = 0; page < 5; ++page) {
    auto got = client->List(request);
    ASSERT_TRUE(got) << got.error().message;
    for (const std::string& p : got->common_prefixes) seen.push_back(p);
    if (!got->truncated) break;
    request.continuation_token = got->next_continuation_token;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"us_stocks_sip/day_aggs_v1/", "us_stocks_sip/minute_aggs_v1/"}));
  // start-after skips what came before.
  ListRequest after;
  after.prefix = "us_stocks_sip/day_aggs_v1/";
  after.start_after = "us_stocks_sip/day_aggs_v1/2025/01/2025-01-01.csv.gz";
  auto rest = client->List(after);
  ASSERT_TRUE(rest) << rest.error().message;
  ASSERT_EQ(rest->objects.size(), 2u);
  EXPECT_EQ(rest->objects[0].key, "us_stocks_sip/day_aggs_v1/2025/01/2025-01-02.csv.gz");
}

TEST(S3ClientSimTest, DownloadedFilesEqualTheGroundTruthBarForBar) {
  const std::vector<Ticker> universe = {T("AAPL"), T("MSFT"), T("BRK.B"), T("X:BTCUSD"), T("X:ETHUSD"),
                                        T("C:EURUSD"), T("I:SPX"), T("I:NDX")};
  S3SimEnv env(Universe(universe, {2025, 3, 1}, {2025, 3, 31}), NewYorkTime({2025, 4, 15}, 12));
  auto client = env.Client();
  ASSERT_TRUE(client);
  struct Case {
    Dataset dataset;
    CalendarDay day;
  };
  const std::vector<Case> cases = {
      {kStockMinute, {2025, 3, 4}},
      {kStockMinute, {2025, 3, 10}},  // the first weekday after the DST change
      {kStockDay, {2025, 3, 4}},
      {{AssetClass::kCrypto, FileTimeframe::kMinute}, {2025, 3, 8}},  // a Saturday
      {{AssetClass::kCrypto, FileTimeframe::kDay}, {2025, 3, 9}},
      {{AssetClass::kFx, FileTimeframe::kMinute}, {2025, 3, 9}},  // a Sunday
      {{AssetClass::kIndex, FileTimeframe::kMinute}, {2025, 3, 5}},
      {{AssetClass::kIndex, FileTimeframe::kDay}, {2025, 3, 5}},
  };
  for (const Case& c : cases) {
    const std::string key = KeyFor(c.dataset, c.day);
    auto read = DownloadDayFile(*client, key);
    ASSERT_TRUE(read) << key << ": " << read.error().message;
    EXPECT_EQ(read->summary.bad_rows, 0) << key << ": " << read->summary.Describe();
    EXPECT_EQ(read->attempts, 1);
    int64_t expected_bars = 0;
    for (const Ticker& ticker : universe) {
      if (ticker.asset_class() != c.dataset.asset) continue;
      const BarBatch want = ExpectedFileBars(ticker, c.dataset, c.day);
      ASSERT_FALSE(want.empty()) << key << " " << ticker.symbol();
      expected_bars += static_cast<int64_t>(want.size());
      ASSERT_TRUE(read->bars.count(ticker.symbol())) << key << " lacks " << ticker.symbol();
      EXPECT_EQ(FirstDifference(read->bars.at(ticker.symbol()), want), "") << key << " " << ticker.symbol();
    }
    EXPECT_EQ(read->summary.bars, expected_bars) << key;
    if (c.dataset.asset == AssetClass::kStock) {
      // The when-issued symbols the simulator adds are skipped, and named.
      EXPECT_GT(read->summary.unsupported_rows, 0) << key;
      EXPECT_EQ(read->summary.unsupported_symbols.size(), 2u);
    }
  }
}

TEST(S3ClientSimTest, AResetMidObjectResumesWithARangeAndTheDataIsWhole) {
  std::vector<Ticker> universe;
  for (const char* s : {"AAPL", "MSFT", "KO", "PEP", "XOM", "CVX", "JPM", "GS"}) universe.push_back(T(s));
  sim::S3SimOptions s3 = Universe(universe, {2025, 3, 3}, {2025, 3, 7});
  const std::string key = KeyFor(kStockMinute, {2025, 3, 5});
  s3.faults = {{key, sim::S3Fault::kReset, 2}};
  S3SimEnv env(std::move(s3), NewYorkTime({2025, 3, 20}, 12));
  auto client = env.Client();
  ASSERT_TRUE(client);

  // Step by step first: the failure is retryable and says how far it got.
  ObjectDownload download(client.get(), key);
  int64_t fed = 0;
  const ByteSink count = [&](std::string_view bytes) {
    fed += static_cast<int64_t>(bytes.size());
    return Ok();
  };
  const Status first = download.Continue(count);
  ASSERT_FALSE(first);
  EXPECT_TRUE(IsRetryable(first.error())) << first.error().message;
  EXPECT_GT(download.received(), 0);
  EXPECT_LT(download.received(), download.size());
  EXPECT_EQ(download.received(), fed);
  EXPECT_EQ(download.etag().size(), 32u);

  // The second reset happens on the resumed request (half of the rest), the third try ends it.
  auto read = DownloadDayFile(*client, key);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->attempts, 2);
  EXPECT_EQ(read->resumes, 1);
  for (const Ticker& ticker : universe) {
    EXPECT_EQ(FirstDifference(read->bars.at(ticker.symbol()), ExpectedFileBars(ticker, kStockMinute, {2025, 3, 5})), "")
        << ticker.symbol();
  }
  const sim::S3Stats stats = env.server().FlatFileStats();
  EXPECT_EQ(stats.resets, 2);
  EXPECT_EQ(stats.range_requests, 1);
}

TEST(S3ClientSimTest, ATruncatedGzipIsNoticedAndNothingCountsAsRead) {
  sim::S3SimOptions s3 = Universe({T("AAPL"), T("MSFT")}, {2025, 3, 3}, {2025, 3, 7});
  const std::string key = KeyFor(kStockMinute, {2025, 3, 4});
  s3.faults = {{key, sim::S3Fault::kTruncatedGzip}};
  S3SimEnv env(std::move(s3), NewYorkTime({2025, 3, 20}, 12));
  auto client = env.Client();
  ASSERT_TRUE(client);
  auto read = DownloadDayFile(*client, key);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code, ErrorCode::kBadResponse);
  EXPECT_NE(read.error().message.find("cut short"), std::string::npos) << read.error().message;
  EXPECT_NE(read.error().message.find(key), std::string::npos);
  // The neighbour is fine.
  EXPECT_TRUE(DownloadDayFile(*client, KeyFor(kStockMinute, {2025, 3, 5})));
}

TEST(S3ClientSimTest, AReplacedFileHasANewEtagAndLastModified) {
  sim::S3SimOptions s3 = Universe({T("AAPL"), T("MSFT")}, {2025, 3, 3}, {2025, 3, 7});
  const std::string key = KeyFor(kStockDay, {2025, 3, 4});
  const int64_t republished = NewYorkTime({2025, 3, 6}, 9);
  s3.republications = {{key, republished}};
  S3SimEnv env(std::move(s3), NewYorkTime({2025, 3, 5}, 12));
  auto client = env.Client();
  ASSERT_TRUE(client);
  auto before = client->ListAll(key);
  ASSERT_TRUE(before) << before.error().message;
  ASSERT_EQ(before->objects.size(), 1u);
  EXPECT_EQ(before->objects[0].last_modified_ms, NewYorkTime({2025, 3, 4}, 22));

  env.SetNow(republished + kMsPerHour);
  auto after = client->ListAll(key);
  ASSERT_TRUE(after) << after.error().message;
  ASSERT_EQ(after->objects.size(), 1u);
  EXPECT_NE(after->objects[0].etag, before->objects[0].etag);
  EXPECT_EQ(after->objects[0].last_modified_ms, republished);
  auto head = client->Head(key);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->etag, after->objects[0].etag);
  // New bytes, the same bars.
  auto read = DownloadDayFile(*client, key);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->etag, after->objects[0].etag);
  EXPECT_EQ(FirstDifference(read->bars.at("AAPL"), ExpectedFileBars(T("AAPL"), kStockDay, {2025, 3, 4})), "");
}

TEST(S3ClientSimTest, AFileReplacedMidDownloadIsRefusedOnResumeAndReadAgain) {
  std::vector<Ticker> universe;
  for (const char* s : {"AAPL", "MSFT", "KO", "PEP", "XOM", "CVX"}) universe.push_back(T(s));
  sim::S3SimOptions s3 = Universe(universe, {2025, 3, 3}, {2025, 3, 7});
  const std::string key = KeyFor(kStockMinute, {2025, 3, 4});
  const int64_t republished = NewYorkTime({2025, 3, 6}, 9);
  s3.faults = {{key, sim::S3Fault::kReset, 1}};
  s3.republications = {{key, republished}};
  S3SimEnv env(std::move(s3), NewYorkTime({2025, 3, 5}, 12));
  auto client = env.Client();
  ASSERT_TRUE(client);

  ObjectDownload download(client.get(), key);
  const ByteSink ignore = [](std::string_view) { return Ok(); };
  ASSERT_FALSE(download.Continue(ignore));  // reset half-way
  const std::string first_etag = download.etag();
  ASSERT_GT(download.received(), 0);
  env.SetNow(republished + 1);  // the vendor replaces the file meanwhile
  const Status resumed = download.Continue(ignore);
  ASSERT_FALSE(resumed);
  EXPECT_TRUE(download.replaced());
  EXPECT_EQ(resumed.error().http_status, 412);
  EXPECT_EQ(resumed.error().code, ErrorCode::kBadResponse);
  EXPECT_NE(resumed.error().message.find("replaced during the download"), std::string::npos) << resumed.error().message;
  EXPECT_EQ(download.received(), 0);
  ASSERT_TRUE(download.Continue(ignore));  // from byte 0, the new version
  EXPECT_NE(download.etag(), first_etag);
  EXPECT_EQ(env.server().FlatFileStats().precondition_failed, 1);

  // The same story through a reader: the stale bytes are dropped, the bars are whole.
  sim::S3SimOptions s3b = Universe(universe, {2025, 3, 3}, {2025, 3, 7});
  s3b.faults = {{key, sim::S3Fault::kReset, 1}};
  s3b.republications = {{key, republished}};
  S3SimEnv env2(std::move(s3b), NewYorkTime({2025, 3, 5}, 12));
  auto client2 = env2.Client();
  auto read = DownloadDayFile(*client2, key, 5, [&] { env2.SetNow(republished + 1); });
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->restarts, 1);
  for (const Ticker& ticker : universe) {
    EXPECT_EQ(FirstDifference(read->bars.at(ticker.symbol()), ExpectedFileBars(ticker, kStockMinute, {2025, 3, 4})), "");
  }
}

TEST(S3ClientSimTest, SlowDownIsRetryable) {
  sim::S3SimOptions s3 = Universe({T("AAPL")}, {2025, 3, 3}, {2025, 3, 7});
  const std::string key = KeyFor(kStockDay, {2025, 3, 4});
  s3.faults = {{key, sim::S3Fault::kSlowDown, 1}};
  S3SimEnv env(std::move(s3), NewYorkTime({2025, 3, 20}, 12));
  auto client = env.Client();
  ASSERT_TRUE(client);
  const ByteSink ignore = [](std::string_view) { return Ok(); };
  auto got = client->Get(key, {}, ignore);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().http_status, 503);
  EXPECT_EQ(got.error().code, ErrorCode::kServerError);
  EXPECT_TRUE(IsRetryable(got.error()));
  EXPECT_NE(got.error().message.find("SlowDown"), std::string::npos) << got.error().message;
  EXPECT_NE(got.error().message.find("fewer parallel downloads"), std::string::npos);
  got = client->Get(key, {}, ignore);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_GT(got->bytes, 0);
  EXPECT_EQ(got->bytes, got->info.size);
}

TEST(S3ClientSimTest, OutsideTheEntitlementGetIs403WhileTheListingStillShowsTheKey) {
  sim::S3SimOptions s3 = Universe({T("AAPL"), T("X:BTCUSD")}, {2025, 1, 1}, {2025, 3, 31});
  s3.entitled_assets = {"us_stocks_sip"};
  s3.history_days = 30;
  S3SimEnv env(std::move(s3), NewYorkTime({2025, 3, 20}, 12));
  auto client = env.Client();
  ASSERT_TRUE(client);
  const std::string crypto_key = KeyFor({AssetClass::kCrypto, FileTimeframe::kDay}, {2025, 3, 10});
  auto listed = client->ListAll(crypto_key);
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->objects.size(), 1u);
  const ByteSink ignore = [](std::string_view) { return Ok(); };
  for (const std::string& key : {crypto_key, KeyFor(kStockDay, {2025, 1, 6})}) {  // not entitled; too old
    auto got = client->Get(key, {}, ignore);
    ASSERT_FALSE(got) << key;
    EXPECT_EQ(got.error().http_status, 403);
    EXPECT_EQ(got.error().code, ErrorCode::kNotFound);
    EXPECT_NE(got.error().message.find("AccessDenied"), std::string::npos) << got.error().message;
    EXPECT_NE(got.error().message.find("not entitled"), std::string::npos);
    EXPECT_NE(got.error().message.find("history"), std::string::npos);
  }
  // HEAD answers carry no body, so no reason either; the message says so.
  auto head = client->Head(crypto_key);
  ASSERT_FALSE(head);
  EXPECT_EQ(head.error().http_status, 403);
  EXPECT_NE(head.error().message.find("HEAD answers carry no reason"), std::string::npos) << head.error().message;
  EXPECT_TRUE(client->Get(KeyFor(kStockDay, {2025, 3, 17}), {}, ignore));
  EXPECT_EQ(env.server().FlatFileStats().denied, 3);
}

TEST(S3ClientSimTest, UnpublishedAndMissingFiles) {
  sim::S3SimOptions s3 = Universe({T("AAPL")}, {2025, 3, 3}, {2025, 3, 14});
  const std::string missing = KeyFor(kStockDay, {2025, 3, 5});
  const std::string late = KeyFor(kStockDay, {2025, 3, 6});
  s3.faults = {{missing, sim::S3Fault::kMissing}, {late, sim::S3Fault::kMissing, 1, 3 * kMsPerDay}};
  // Thursday 2025-03-13, 22:30 New York: that day's day file is out, its minute file is not.
  S3SimEnv env(std::move(s3), NewYorkTime({2025, 3, 13}, 22, 30));
  auto client = env.Client();
  ASSERT_TRUE(client);
  auto day_files = client->ListAll(DatasetPrefix(kStockDay));
  auto minute_files = client->ListAll(DatasetPrefix(kStockMinute));
  ASSERT_TRUE(day_files && minute_files);
  std::set<std::string> days;
  for (const ObjectInfo& o : day_files->objects) days.insert(o.key);
  EXPECT_TRUE(days.count(KeyFor(kStockDay, {2025, 3, 13})));
  EXPECT_FALSE(days.count(missing));
  EXPECT_TRUE(days.count(late)) << "published three days late, which is before now";
  EXPECT_EQ(minute_files->objects.back().key, KeyFor(kStockMinute, {2025, 3, 12}));

  const ByteSink ignore = [](std::string_view) { return Ok(); };
  for (const std::string& key : {missing, KeyFor(kStockMinute, {2025, 3, 13}), KeyFor(kStockDay, {2025, 3, 8})}) {
    auto got = client->Get(key, {}, ignore);
    ASSERT_FALSE(got) << key;
    EXPECT_EQ(got.error().http_status, 404);
    EXPECT_EQ(got.error().code, ErrorCode::kNotFound);
    EXPECT_NE(got.error().message.find("NoSuchKey"), std::string::npos) << got.error().message;
  }
  // The next morning the minute file is there.
  env.SetNow(NewYorkTime({2025, 3, 14}, 11, 1));
  EXPECT_TRUE(client->Get(KeyFor(kStockMinute, {2025, 3, 13}), {}, ignore));
}

TEST(S3ClientSimTest, TheFilesKnownDefectsAreCaughtRowByRow) {
  sim::S3SimOptions s3 = Universe({T("AAPL"), T("MSFT"), T("O:SPY250321C00570000")}, {2025, 3, 3}, {2025, 3, 7});
  const std::string wrong_date = KeyFor(kStockDay, {2025, 3, 4});
  const std::string negative = KeyFor({AssetClass::kOption, FileTimeframe::kDay}, {2025, 3, 4});
  const std::string bad_rows = KeyFor(kStockMinute, {2025, 3, 4});
  s3.faults = {{wrong_date, sim::S3Fault::kWrongDate},
               {negative, sim::S3Fault::kNegativeWindowStart},
               {bad_rows, sim::S3Fault::kBadRows}};
  s3.test_symbols = false;
  S3SimEnv env(std::move(s3), NewYorkTime({2025, 3, 20}, 12));
  auto client = env.Client();
  ASSERT_TRUE(client);

  // Every row a day late: restamped to the key's session date, which is where the bars belong.
  auto read = DownloadDayFile(*client, wrong_date);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->summary.restamped_rows, 2);
  EXPECT_EQ(FirstDifference(read->bars.at("MSFT"), ExpectedFileBars(T("MSFT"), kStockDay, {2025, 3, 4})), "");

  // window_start -68400000000000 on every row: nothing stored, every row reported.
  read = DownloadDayFile(*client, negative);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->summary.bars, 0);
  EXPECT_EQ(read->summary.bad_rows, 1);
  EXPECT_NE(read->summary.first_bad_rows.at(0).reason.find("not within a day"), std::string::npos);

  // Three broken rows among good ones: counted with their lines, the rest whole.
  read = DownloadDayFile(*client, bad_rows);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->summary.bad_rows, 3);
  ASSERT_EQ(read->summary.first_bad_rows.size(), 3u);
  EXPECT_EQ(read->summary.first_bad_rows[0].line, 3);
  EXPECT_EQ(read->summary.first_bad_rows[2].line, 5);
  for (const char* symbol : {"AAPL", "MSFT"}) {
    EXPECT_EQ(FirstDifference(read->bars.at(symbol), ExpectedFileBars(T(symbol), kStockMinute, {2025, 3, 4})), "");
  }
}

TEST(S3ClientSimTest, AThousandsOfTickersUniverseAndParallelDownloadsOfOneColdFile) {
  std::vector<Ticker> universe;
  for (int i = 0; i < 3000; ++i) {
    std::string symbol;
    for (int n = i; symbol.size() < 4; n /= 26) symbol += static_cast<char>('A' + n % 26);
    universe.push_back(T(symbol));
  }
  sim::S3SimOptions s3 = Universe(universe, {2025, 3, 3}, {2025, 3, 7});
  s3.test_symbols = false;
  S3SimEnv env(std::move(s3), NewYorkTime({2025, 3, 20}, 12));
  auto client = env.Client();
  ASSERT_TRUE(client);
  auto read = DownloadDayFile(*client, KeyFor(kStockDay, {2025, 3, 5}));
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->summary.tickers, 3000);
  EXPECT_EQ(read->summary.bars, 3000);
  for (const Ticker& ticker : {universe[0], universe[1234], universe[2999]}) {
    EXPECT_EQ(FirstDifference(read->bars.at(ticker.symbol()), ExpectedFileBars(ticker, kStockDay, {2025, 3, 5})), "");
  }

  // Four clients ask for the same minute file at once: it is generated once, all get it whole.
  const std::string key = KeyFor(kStockMinute, {2025, 3, 6});
  std::vector<Result<testing::DayFileRead>> reads(4, Fail(ErrorCode::kInternal, "not run"));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < reads.size(); ++i) {
    threads.emplace_back([&, i] {
      auto own = env.Client();
      reads[i] = DownloadDayFile(*own, key);
    });
  }
  for (std::thread& t : threads) t.join();
  for (const auto& r : reads) {
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->summary.tickers, 3000);
    EXPECT_EQ(r->summary.bars, reads[0]->summary.bars);
    EXPECT_EQ(r->etag, reads[0]->etag);
  }
  EXPECT_GT(reads[0]->summary.bars, 3000 * 800);
  EXPECT_EQ(FirstDifference(reads[3]->bars.at(universe[42].symbol()),
                            ExpectedFileBars(universe[42], kStockMinute, {2025, 3, 6})),
            "");
  EXPECT_EQ(env.server().FlatFileStats().generated, 2);  // the day file and the minute file
}

}  // namespace
}  // namespace barfill::flatfiles
