// Grouped daily on the wire: the request URL, and answers read into a ticker column and one batch
// whose bars carry the range endpoint's stamps.
#include "polygon/grouped_daily.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "polygon/aggs_request.h"
#include "polygon/test_bodies.h"

namespace barfill::polygon {
namespace {

constexpr int64_t kHourMs = 3'600'000;

GroupedDailyRequest Stocks(const char* day, bool adjusted = true) {
  return {.market = GroupedMarket::kStocks, .date = *CalendarDay::Parse(day), .adjusted = adjusted};
}

// Reads as the fetcher does: a padded body with its HTTP status.
Result<GroupedDay> Read(const GroupedDailyRequest& request, const std::string& body, int status = 200) {
  AggsParser parser;
  std::string padded = body;
  padded.append(kParsePadding, '\0');
  return ReadGroupedDailyResponse(parser, request, status, padded.data(), body.size(), padded.size());
}

// A grouped body as the API writes it (polygon-io/issues#250): T first, then the range fields.
std::string Body(const std::vector<std::string>& results, const char* status = "OK") {
  std::string body = "{\"queryCount\":" + std::to_string(results.size()) +
                     ",\"resultsCount\":" + std::to_string(results.size()) + ",\"adjusted\":true";
  if (!results.empty()) {
    body += ",\"results\":[";
    for (size_t i = 0; i < results.size(); ++i) body += (i == 0 ? "" : ",") + results[i];
    body += "]";
  }
  body += std::string(",\"status\":\"") + status + "\",\"request_id\":\"6a7e466379af0a71039d60cc78e72282\"";
  if (!results.empty()) body += ",\"count\":" + std::to_string(results.size());
  return body + "}";
}

std::string Row(const std::string& t_json, int64_t t, double close = 10) {
  return "{\"T\":" + t_json + ",\"v\":1000,\"vw\":10,\"o\":10,\"c\":" + std::to_string(close) +
         ",\"h\":11,\"l\":9,\"t\":" + std::to_string(t) + ",\"n\":7}";
}

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

TEST(GroupedDailyUrlTest, NamesMarketDateAdjustedAndLeavesOtcOut) {
  EXPECT_EQ(*BuildGroupedDailyUrl("https://api.polygon.io", Stocks("2025-03-10")),
            "https://api.polygon.io/v2/aggs/grouped/locale/us/market/stocks/2025-03-10?adjusted=true&include_otc=false");
  const GroupedDailyRequest crypto{.market = GroupedMarket::kCrypto, .date = {2024, 3, 9}, .adjusted = false};
  EXPECT_EQ(*BuildGroupedDailyUrl("http://127.0.0.1:8080", crypto),
            "http://127.0.0.1:8080/v2/aggs/grouped/locale/global/market/crypto/2024-03-09?adjusted=false&include_otc=false");
  const GroupedDailyRequest fx{.market = GroupedMarket::kFx, .date = {2024, 1, 2}};
  EXPECT_EQ(*BuildGroupedDailyUrl("https://api.massive.com", fx),
            "https://api.massive.com/v2/aggs/grouped/locale/global/market/fx/2024-01-02?adjusted=true&include_otc=false");
  // The key travels as for ranges.
  EXPECT_EQ(WithApiKey(*BuildGroupedDailyUrl("http://h", fx), "k"),
            "http://h/v2/aggs/grouped/locale/global/market/fx/2024-01-02?adjusted=true&include_otc=false&apiKey=k");
}

TEST(GroupedDailyUrlTest, RefusesDaysThatAreNotDays) {
  for (const CalendarDay day : {CalendarDay{2025, 13, 1}, CalendarDay{2025, 2, 29}, CalendarDay{10000, 1, 1},
                                CalendarDay{1969, 12, 31}, CalendarDay{2025, 1, 0}}) {
    GroupedDailyRequest request = Stocks("2025-01-02");
    request.date = day;
    const auto url = BuildGroupedDailyUrl("http://h", request);
    ASSERT_FALSE(url) << day.ToString();
    EXPECT_EQ(url.error().code, ErrorCode::kUsage);
    EXPECT_NE(url.error().message.find(day.ToString()), std::string::npos) << url.error().message;
  }
}

TEST(GroupedDailyUrlTest, MarketsAndAssetClasses) {
  for (const GroupedMarket m : {GroupedMarket::kStocks, GroupedMarket::kCrypto, GroupedMarket::kFx}) {
    EXPECT_EQ(GroupedMarketOf(AssetClassOf(m)), m) << GroupedMarketName(m);
  }
  EXPECT_FALSE(GroupedMarketOf(AssetClass::kIndex));
  EXPECT_FALSE(GroupedMarketOf(AssetClass::kOption));
  EXPECT_EQ(Stocks("2025-03-10", false).Describe(), "grouped daily stocks 2025-03-10 unadjusted");
}

TEST(GroupedDailyUrlTest, TheDayIsAMarketDayAcrossDst) {
  // New York: 05:00Z in winter, 04:00Z after the 2024-03-10 change; crypto and forex: UTC.
  EXPECT_EQ(Stocks("2024-03-08").Day(), (TimeRange{1709874000000, 1709960400000}));
  EXPECT_EQ(Stocks("2024-03-10").Day(), (TimeRange{1710046800000, 1710129600000}));  // 23 hours
  EXPECT_EQ(Stocks("2024-03-11").Day(), (TimeRange{1710129600000, 1710216000000}));
  const GroupedDailyRequest crypto{.market = GroupedMarket::kCrypto, .date = {2024, 3, 10}};
  EXPECT_EQ(crypto.Day(), (TimeRange{1710028800000, 1710115200000}));
}

// The TTMI row of polygon-io/issues#250, stamped 16:00 New York; the range endpoint stamped the
// same bar 1673240400000 (00:00 New York) with the same values.
TEST(GroupedDailyTest, TheIssue250StampBecomesTheRangeStamp) {
  const std::string body =
      Body({R"({"T":"TTMI","v":394280,"vw":16.1078,"o":15.96,"c":16.08,"h":16.335,"l":15.96,"t":1673298000000,"n":5416})"});
  const auto day = Read(Stocks("2023-01-09"), body);
  ASSERT_TRUE(day) << day.error().message;
  ASSERT_EQ(day->tickers.size(), 1u);
  EXPECT_EQ(day->tickers[0].symbol(), "TTMI");
  EXPECT_EQ(day->bars[0], (Bar{1673240400000, 15.96, 16.335, 15.96, 16.08, 394280, 16.1078, 5416}));
  EXPECT_EQ(day->restamped, 1);
  EXPECT_EQ(day->skipped, 0);
  EXPECT_EQ(day->status, PageStatus::kOk);
  EXPECT_EQ(day->query_count, 1);
  EXPECT_EQ(day->request_id, "6a7e466379af0a71039d60cc78e72282");
}

// The recorded 2005 range body holds a winter day (05:00Z) and a summer day (04:00Z). The same
// bars sent grouped at 16:00 New York come out equal to them, field for field.
TEST(GroupedDailyTest, SixteenHundredNewYorkIsRestampedAcrossDst) {
  BarBatch range;
  AggsParser parser;
  ASSERT_TRUE(parser.Parse(ReadFixture("aggs_AAPL_1_day_2005-04-01_2005-04-04.json"), range));
  ASSERT_EQ(range.size(), 2u);
  const char* days[] = {"2005-04-01", "2005-04-04"};
  for (size_t i = 0; i < 2; ++i) {
    const Bar want = range[i];
    const int64_t four_pm = want.t + 16 * kHourMs;  // no DST change inside either day
    char row[256];
    std::snprintf(row, sizeof row, R"({"T":"AAPL","v":%.17g,"vw":%.17g,"o":%.17g,"c":%.17g,"h":%.17g,"l":%.17g,"t":%lld,"n":%lld})",
                  want.volume, want.vwap, want.open, want.close, want.high, want.low,
                  static_cast<long long>(four_pm), static_cast<long long>(want.trades));
    const auto day = Read(Stocks(days[i]), Body({row}));
    ASSERT_TRUE(day) << day.error().message;
    ASSERT_EQ(day->bars.size(), 1u);
    EXPECT_EQ(day->bars[0], want) << days[i];
  }
}

TEST(GroupedDailyTest, CryptoAndForexDaysStartAtMidnightUtc) {
  const GroupedDailyRequest crypto{.market = GroupedMarket::kCrypto, .date = {2024, 3, 10}};
  const int64_t midnight = 1710028800000;
  const auto day = Read(crypto, Body({Row(Quoted("X:BTCUSD"), midnight), Row(Quoted("X:ETHUSD"), midnight + 86'399'999),
                                      Row(Quoted("X:SOLUSD"), midnight + 4 * kHourMs)}));
  ASSERT_TRUE(day) << day.error().message;
  ASSERT_EQ(day->bars.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(day->bars.t[i], midnight) << i;
  EXPECT_EQ(day->restamped, 2);
  const GroupedDailyRequest fx{.market = GroupedMarket::kFx, .date = {2024, 3, 10}};
  const auto fx_day = Read(fx, Body({Row(Quoted("C:EURUSD"), midnight + 12 * kHourMs)}));
  ASSERT_TRUE(fx_day) << fx_day.error().message;
  EXPECT_EQ(fx_day->bars.t[0], midnight);
  EXPECT_EQ(fx_day->tickers[0].asset_class(), AssetClass::kFx);
}

// A t outside the requested day is not guessed at: it stays as sent, for validation to reject.
TEST(GroupedDailyTest, AStampOutsideTheDayIsKeptAsSent) {
  const GroupedDailyRequest request = Stocks("2025-03-10");
  const TimeRange bounds = request.Day();
  const auto day = Read(request, Body({Row(Quoted("AAPL"), bounds.to_ms), Row(Quoted("MSFT"), bounds.from_ms - 1)}));
  ASSERT_TRUE(day) << day.error().message;
  ASSERT_EQ(day->bars.size(), 2u);
  EXPECT_EQ(day->bars.t[0], bounds.to_ms);
  EXPECT_EQ(day->bars.t[1], bounds.from_ms - 1);
  EXPECT_EQ(day->restamped, 0);
}

TEST(GroupedDailyTest, AnEmptyDayHasNoResults) {
  for (const std::string& body : {std::string(R"({"queryCount":0,"resultsCount":0,"adjusted":true,"status":"OK","request_id":"x"})"),
                                  std::string(R"({"status":"OK","queryCount":0,"resultsCount":0,"adjusted":true,"results":null})"),
                                  std::string(R"({"status":"DELAYED","resultsCount":0,"results":[]})")}) {
    const auto day = Read(Stocks("2025-03-08"), body);
    ASSERT_TRUE(day) << body << ": " << day.error().message;
    EXPECT_TRUE(day->bars.empty());
    EXPECT_TRUE(day->tickers.empty());
    EXPECT_EQ(day->skipped, 0);
  }
}

// Tickers the plan cannot hold are skipped and counted, never fatal: lower-case preferreds and
// when-issued symbols, another market's tickers, and the garbage of polygon-io/issues#3.
TEST(GroupedDailyTest, TickersBarfillCannotHoldAreSkippedAndCounted) {
  const int64_t t = Stocks("2025-03-10").Day().from_ms + 16 * kHourMs;
  const std::vector<std::string> rows = {
      Row(Quoted("AAPL"), t, 1),
      Row(Quoted("ABRpD"), t),
      Row(Quoted("ADSw"), t),
      Row(Quoted("BRK.B"), t, 2),
      Row(Quoted("X:BTCUSD"), t),
      Row(Quoted("C:EURUSD"), t),
      Row(Quoted("I:SPX"), t),
      Row(Quoted("BTCUSD"), t),
      Row(Quoted(""), t),
      Row(R"("\u0000HTLP^\u00ef\u00bf\u00bd-$b")", t),
      R"({"v":1000,"vw":10,"o":10,"c":10,"h":11,"l":9,"t":)" + std::to_string(t) + "}",
      Row(Quoted(std::string(70, 'A')), t),
      Row(Quoted("MSFT"), t, 3),
  };
  const auto day = Read(Stocks("2025-03-10"), Body(rows));
  ASSERT_TRUE(day) << day.error().message;
  ASSERT_EQ(day->tickers.size(), 3u);
  EXPECT_EQ(day->tickers[0].symbol(), "AAPL");
  EXPECT_EQ(day->tickers[1].symbol(), "BRK.B");
  EXPECT_EQ(day->tickers[2].symbol(), "MSFT");
  ASSERT_EQ(day->bars.size(), 3u);
  EXPECT_EQ(day->bars.close[0], 1);
  EXPECT_EQ(day->bars.close[1], 2);
  EXPECT_EQ(day->bars.close[2], 3);
  EXPECT_EQ(day->skipped, 10);
  EXPECT_EQ(day->skipped_examples, (std::vector<std::string>{"ABRpD", "ADSw", "X:BTCUSD", "C:EURUSD", "I:SPX"}));
  // A crypto day keeps only X: pairs.
  const GroupedDailyRequest crypto{.market = GroupedMarket::kCrypto, .date = {2025, 3, 10}};
  const auto crypto_day = Read(crypto, Body({Row(Quoted("X:BTCUSD"), t), Row(Quoted("AAPL"), t), Row(Quoted("X:btcusd"), t)}));
  ASSERT_TRUE(crypto_day) << crypto_day.error().message;
  ASSERT_EQ(crypto_day->tickers.size(), 1u);
  EXPECT_EQ(crypto_day->tickers[0].symbol(), "X:BTCUSD");
  EXPECT_EQ(crypto_day->skipped, 2);
}

TEST(GroupedDailyTest, SkippedExamplesArePrintable) {
  const int64_t t = Stocks("2025-03-10").Day().from_ms;
  const auto day = Read(Stocks("2025-03-10"), Body({Row(R"("\u0000HTLP\u001b[31m")", t),
                                                    R"({"v":1,"vw":1,"o":1,"c":1,"h":1,"l":1,"t":)" + std::to_string(t) + "}"}));
  ASSERT_TRUE(day) << day.error().message;
  ASSERT_EQ(day->skipped_examples.size(), 2u);
  EXPECT_EQ(day->skipped_examples[0], "\\x00HTLP\\x1b[31m");
  EXPECT_EQ(day->skipped_examples[1], "(no T)");
}

// The same answer means the same thing on both endpoints: one classification.
TEST(GroupedDailyTest, ErrorsAreClassifiedAsForRanges) {
  const struct {
    int http;
    std::string body;
  } cases[] = {
      {401, R"({"status":"ERROR","request_id":"x","error":"Unknown API Key"})"},
      {403, ReadFixture("error_403_not_authorized.json")},
      {200, ReadFixture("error_403_not_authorized.json")},
      {429, ReadFixture("error_429_rate_limited.json")},
      {400, R"({"status":"ERROR","request_id":"x","error":"Could not parse the date"})"},
      {404, R"({"status":"NOT_FOUND","request_id":"x","message":"The specified resource was not found"})"},
      {502, "<html><body>Bad Gateway</body></html>"},
      {503, ""},
      {200, "<html>"},
      {200, R"({"results":[]})"},
      {200, R"({"status":"ERROR","error":"boom"})"},
      {302, ""},
  };
  for (const auto& c : cases) {
    BarBatch range_out;
    AggsParser parser;
    std::string padded = c.body;
    padded.append(kParsePadding, '\0');
    const auto as_range = ReadAggsResponse(parser, c.http, padded.data(), c.body.size(), padded.size(), range_out);
    const auto as_grouped = Read(Stocks("2025-03-10"), c.body, c.http);
    ASSERT_FALSE(as_range);
    ASSERT_FALSE(as_grouped) << c.http << " " << c.body;
    EXPECT_EQ(as_grouped.error().code, as_range.error().code) << c.http << " " << c.body;
    EXPECT_EQ(as_grouped.error().message, as_range.error().message);
    EXPECT_EQ(as_grouped.error().http_status, c.http);
  }
}

TEST(GroupedDailyTest, DelayedIsSuccess) {
  const int64_t t = Stocks("2025-03-10").Day().from_ms;
  const auto day = Read(Stocks("2025-03-10"), Body({Row(Quoted("AAPL"), t)}, "DELAYED"));
  ASSERT_TRUE(day) << day.error().message;
  EXPECT_EQ(day->status, PageStatus::kDelayed);
  EXPECT_EQ(day->bars.size(), 1u);
}

TEST(GroupedDailyTest, HostileBodiesFailClearly) {
  const std::string cases[] = {
      R"({"status":"OK","results":[{"T":5,"v":1,"o":1,"c":1,"h":1,"l":1,"t":5}]})",
      R"({"status":"OK","results":[{"T":null,"v":1,"o":1,"c":1,"h":1,"l":1,"t":5}]})",
      R"({"status":"OK","results":[{"T":["AAPL"],"v":1,"o":1,"c":1,"h":1,"l":1,"t":5}]})",
      R"({"status":"OK","results":[{"T":{"a":1},"v":1,"o":1,"c":1,"h":1,"l":1,"t":5}]})",
      R"({"status":"OK","results":[{"T":"AAPL,"v":1,"o":1,"c":1,"h":1,"l":1,"t":5}]})",
      R"({"status":"OK","results":[{"T":"\uZZZZ","v":1,"o":1,"c":1,"h":1,"l":1,"t":5}]})",
      "{\"status\":\"OK\",\"results\":[{\"T\":\"\xC3\x28\",\"v\":1,\"o\":1,\"c\":1,\"h\":1,\"l\":1,\"t\":5}]}",
      R"({"status":"OK","results":[{"T":"AAPL","o":1,"c":1,"h":1,"l":1,"t":5}]})",
      R"({"status":"OK","results":[{"T":"AAPL","v":1,"o":1,"c":1,"h":1,"l":1}]})",
      R"({"status":"OK","resultsCount":2,"results":[{"T":"AAPL","v":1,"o":1,"c":1,"h":1,"l":1,"t":5}]})",
      R"({"status":"OK","results":[{"T":"AAPL","v":1,"o":1,"c":1,"h":1,"l":1,"t":5}]}])",
      R"({"status":"OK","results":[{"T":"AAPL","v":1,"o":1,"c":1,"h":1,"l":1,"t":5.5}]})",
      "",
      "[]",
  };
  for (const std::string& body : cases) {
    const auto day = Read(Stocks("2025-03-10"), body);
    EXPECT_FALSE(day) << "accepted: " << body;
    if (!day) {
      EXPECT_EQ(day.error().code, ErrorCode::kBadResponse) << body;
      EXPECT_FALSE(day.error().message.empty());
    }
  }
}

// Every cut of a whole market day is an error: a short body is never a smaller day.
TEST(GroupedDailyTest, EveryTruncationIsAnError) {
  const int64_t t = Stocks("2025-03-10").Day().from_ms + 16 * kHourMs;
  const std::string body = Body({Row(Quoted("AAPL"), t), Row(Quoted("ABRpD"), t), Row(Quoted("MSFT"), t)});
  for (size_t cut = 0; cut < body.size(); ++cut) {
    const auto day = Read(Stocks("2025-03-10"), body.substr(0, cut));
    ASSERT_FALSE(day) << "accepted when cut at " << cut;
    EXPECT_EQ(day.error().code, ErrorCode::kBadResponse);
  }
  EXPECT_TRUE(Read(Stocks("2025-03-10"), body));
}

// Flipping bytes never crashes, and whatever parses keeps its ticker column in step.
TEST(GroupedDailyTest, CorruptedBodiesNeverCrash) {
  const int64_t t = Stocks("2025-03-10").Day().from_ms + 16 * kHourMs;
  const std::string body = Body({Row(Quoted("AAPL"), t), Row(Quoted("ABRpD"), t), Row(Quoted("BRK.B"), t),
                                 Row(Quoted("X:BTCUSD"), t)});
  ByteFlipper flipper;
  AggsParser parser;
  int parsed = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string mutated = flipper.Flip(body);
    mutated.append(kParsePadding, '\0');
    const auto day = ReadGroupedDailyResponse(parser, Stocks("2025-03-10"), 200, mutated.data(),
                                              mutated.size() - kParsePadding, mutated.size());
    if (!day) continue;
    ++parsed;
    EXPECT_EQ(day->tickers.size(), day->bars.size());
    EXPECT_EQ(static_cast<int64_t>(day->bars.size()) + day->skipped, 4);
  }
  EXPECT_GT(parsed, 0);
}

TEST(AggsParserTickerColumnTest, FollowsTheBatchAndIsRestoredOnError) {
  AggsParser parser;
  BarBatch out;
  std::vector<std::string> tickers;
  ParseOptions options;
  options.tickers = &tickers;
  ASSERT_TRUE(parser.Parse(R"({"status":"OK","results":[{"T":"A","v":1,"o":1,"c":1,"h":1,"l":1,"t":5},)"
                           R"({"v":1,"o":1,"c":1,"h":1,"l":1,"t":6,"T":"B\"C"}]})",
                           out, options));
  EXPECT_EQ(tickers, (std::vector<std::string>{"A", "B\"C"}));
  // Appending: a failing body leaves both as they were.
  EXPECT_FALSE(parser.Parse(R"({"status":"OK","results":[{"T":"D","v":1,"o":1,"c":1,"h":1,"l":1,"t":7},{"T":1}]})",
                            out, options));
  EXPECT_EQ(out.size(), 2u);
  EXPECT_EQ(tickers.size(), 2u);
  ASSERT_TRUE(parser.Parse(R"({"status":"OK","results":[{"v":1,"o":1,"c":1,"h":1,"l":1,"t":7}]})", out, options));
  EXPECT_EQ(tickers, (std::vector<std::string>{"A", "B\"C", ""}));
  // A column out of step with the batch is a bug of the caller.
  tickers.pop_back();
  const auto mismatched = parser.Parse(R"({"status":"OK"})", out, options);
  ASSERT_FALSE(mismatched);
  EXPECT_EQ(mismatched.error().code, ErrorCode::kInternal);
}

}  // namespace
}  // namespace barfill::polygon
