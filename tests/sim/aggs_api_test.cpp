#include "sim/aggs_api.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>

namespace barfill::sim {
namespace {

AggsCall Resolve(const std::string& path, const std::string& query = "") {
  const auto matched = MatchAggsPath(path);
  EXPECT_TRUE(matched.has_value()) << path;
  auto call = ResolveAggsCall(*matched, ParseQuery(query));
  EXPECT_TRUE(call.has_value()) << path << " " << (call ? "" : call.error().message);
  return call ? *call : AggsCall{};
}

std::string ResolveError(const std::string& path, const std::string& query = "") {
  const auto matched = MatchAggsPath(path);
  EXPECT_TRUE(matched.has_value()) << path;
  const auto call = ResolveAggsCall(*matched, ParseQuery(query));
  if (call) return "(no error)";
  EXPECT_EQ(call.error().http_status, 400);
  return call.error().message;
}

TEST(AggsApi, MatchesOnlyTheRangePath) {
  const auto p = MatchAggsPath("/v2/aggs/ticker/X:BTCUSD/range/5/minute/2025-01-01/1735776000000");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->ticker, "X:BTCUSD");
  EXPECT_EQ(p->multiplier, "5");
  EXPECT_EQ(p->timespan, "minute");
  EXPECT_EQ(p->from, "2025-01-01");
  EXPECT_EQ(p->to, "1735776000000");
  for (const char* bad : {"/v2/aggs/ticker/AAPL/range/1/day/2025-01-01", "/v2/aggs/ticker/AAPL/range/1/day/a/b/c",
                          "/v2/aggs/ticker/AAPL/prev", "/v2/aggs/ticker/AAPL/rang/1/day/a/b",
                          "/v2/aggs/ticker//range/1/day/a/b", "/v2/aggs/ticker/AAPL/range/1/day/a/b/", "/v3/x", "/"}) {
    EXPECT_FALSE(MatchAggsPath(bad).has_value()) << bad;
  }
}

TEST(AggsApi, DatesAreMarketDaysAndTheRangeSnapsToWholeBars) {
  // The fixture's request: both New York days, day bars at 00:00 New York across the DST change.
  const AggsCall days = Resolve("/v2/aggs/ticker/AAPL/range/1/day/2005-04-01/2005-04-04");
  EXPECT_EQ(days.range.from_ms, 1112331600000);
  EXPECT_EQ(days.range.to_ms, MarketZone::NewYork().DayStartMs(*CalendarDay::Parse("2005-04-05")));

  // Crypto days are UTC days.
  const AggsCall crypto = Resolve("/v2/aggs/ticker/X:BTCUSD/range/1/day/2025-03-01/2025-03-01");
  EXPECT_EQ(crypto.range, (TimeRange{1740787200000, 1740787200000 + kMsPerDay}));

  // Milliseconds: from snaps back to its bucket start, to (inclusive) forward to its bucket end.
  const int64_t hour = 1740787200000;
  const AggsCall hours = Resolve("/v2/aggs/ticker/X:BTCUSD/range/1/hour/" + std::to_string(hour + 90 * kMsPerMinute) +
                                 "/" + std::to_string(hour + 3 * kMsPerHour));
  EXPECT_EQ(hours.range, (TimeRange{hour + kMsPerHour, hour + 4 * kMsPerHour}));
  const AggsCall same = Resolve("/v2/aggs/ticker/X:BTCUSD/range/1/minute/" + std::to_string(hour) + "/" + std::to_string(hour));
  EXPECT_EQ(same.range, (TimeRange{hour, hour + kMsPerMinute}));

  const AggsCall upper = Resolve("/v2/aggs/ticker/AAPL/range/5/MINUTE/2025-01-02/2025-01-02");
  EXPECT_EQ(upper.timeframe, Timeframe(5, Timespan::kMinute));
}

TEST(AggsApi, OptionsDefaultsCapsAndCursor) {
  const std::string path = "/v2/aggs/ticker/AAPL/range/1/minute/2025-01-02/2025-01-03";
  const AggsCall plain = Resolve(path);
  EXPECT_EQ(plain.limit, 5000);
  EXPECT_TRUE(plain.adjusted);
  EXPECT_FALSE(plain.descending);
  EXPECT_EQ(Resolve(path, "limit=60000").limit, 50000);
  EXPECT_EQ(Resolve(path, "limit=50000").limit, 50000);
  EXPECT_FALSE(Resolve(path, "adjusted=false").adjusted);
  EXPECT_FALSE(Resolve(path, "unadjusted=true").adjusted);
  EXPECT_TRUE(Resolve(path, "sort=desc").descending);

  // The cursor carries limit/sort/adjusted and wins over the query.
  const AggsCall with_cursor = Resolve(path, "limit=10&cursor=" + Base64UrlEncode("limit=2&sort=desc&adjusted=false"));
  EXPECT_EQ(with_cursor.limit, 2);
  EXPECT_TRUE(with_cursor.descending);
  EXPECT_FALSE(with_cursor.adjusted);
  EXPECT_EQ(ResolveError(path, "cursor=***"), "Invalid cursor");
  EXPECT_NE(ResolveError(path, "limit=abc"), "(no error)");
  EXPECT_NE(ResolveError(path, "limit=0"), "(no error)");
  EXPECT_NE(ResolveError(path, "sort=up"), "(no error)");
  EXPECT_NE(ResolveError(path, "adjusted=maybe"), "(no error)");
}

TEST(AggsApi, ErrorsUsePolygonsTexts) {
  EXPECT_EQ(ResolveError("/v2/aggs/ticker/AAPL/range/1/day/2025-13-01/2025-01-02"),
            "Could not parse the time parameter: 'from'. Use YYYY-MM-DD or Unix MS Timestamps");
  EXPECT_EQ(ResolveError("/v2/aggs/ticker/AAPL/range/1/day/2025-01-01/yesterday"),
            "Could not parse the time parameter: 'to'. Use YYYY-MM-DD or Unix MS Timestamps");
  EXPECT_EQ(ResolveError("/v2/aggs/ticker/AAPL/range/1/day/2025-01-02/2025-01-01"),
            "The parameter 'to' cannot be a time that occurs before 'from'");
  EXPECT_EQ(ResolveError("/v2/aggs/ticker/AAPL/range/1/minute/1735776000001/1735776000000"),
            "The parameter 'to' cannot be a time that occurs before 'from'");
  EXPECT_NE(ResolveError("/v2/aggs/ticker/AAPL/range/x/day/2025-01-01/2025-01-02"), "(no error)");
  EXPECT_NE(ResolveError("/v2/aggs/ticker/AAPL/range/1/fortnight/2025-01-01/2025-01-02"), "(no error)");
  EXPECT_NE(ResolveError("/v2/aggs/ticker/AAPL/range/1/second/2025-01-01/2025-01-02"), "(no error)");
  // A name no market lists is not an error: Polygon answers it with an empty page.
  const AggsCall lower = Resolve("/v2/aggs/ticker/aapl/range/1/day/2025-01-01/2025-01-02");
  EXPECT_FALSE(lower.ticker.has_value());
  EXPECT_EQ(lower.ticker_text, "aapl");
}

TEST(AggsApi, NextUrlMatchesTheSpecExample) {
  // docs/api-contract.md §3: .../AAPL/range/1/day/1578114000000/2020-01-10?cursor=bGltaXQ9MiZzb3J0PWFzYw
  const AggsCall call = Resolve("/v2/aggs/ticker/AAPL/range/1/day/2020-01-02/2020-01-10", "limit=2&apiKey=secret");
  EXPECT_EQ(EncodeCursor(call), "bGltaXQ9MiZzb3J0PWFzYw");
  EXPECT_EQ(NextBarStart(call, 1578027600000), 1578114000000);
  EXPECT_EQ(NextUrl("https://api.massive.com", call, 1578114000000),
            "https://api.massive.com/v2/aggs/ticker/AAPL/range/1/day/1578114000000/2020-01-10?cursor=bGltaXQ9MiZzb3J0PWFzYw");
  EXPECT_EQ(*Base64UrlDecode("bGltaXQ9NTAwMCZzb3J0PWFzYw"), "limit=5000&sort=asc");
  const AggsCall raw = Resolve("/v2/aggs/ticker/AAPL/range/1/day/2020-01-02/2020-01-10", "adjusted=false");
  EXPECT_EQ(*Base64UrlDecode(EncodeCursor(raw)), "limit=5000&sort=asc&adjusted=false");
  const AggsCall month = Resolve("/v2/aggs/ticker/X:BTCUSD/range/1/month/2025-01-01/2025-12-31");
  EXPECT_EQ(NextBarStart(month, 1738368000000), 1740787200000);  // Feb 1 -> Mar 1 UTC
}

TEST(AggsApi, Base64UrlRoundTripsEveryLength) {
  std::string bytes;
  for (int n = 0; n < 40; ++n) {
    const std::string encoded = Base64UrlEncode(bytes);
    EXPECT_EQ(encoded.find('='), std::string::npos);
    EXPECT_EQ(encoded.find_first_of("+/"), std::string::npos);
    ASSERT_EQ(Base64UrlDecode(encoded), bytes);
    bytes.push_back(static_cast<char>(n * 37 + 250));
  }
  EXPECT_FALSE(Base64UrlDecode("a+b/").has_value());
}

TEST(AggsApi, WriteJsonNumberPrintsWhatToCharsPrints) {
  const auto expect_same = [](double v) {
    char fast[40];
    char slow[40];
    const std::string a(fast, WriteJsonNumber(fast, v));
    const std::string b(slow, std::to_chars(slow, slow + sizeof slow, v).ptr);
    ASSERT_EQ(a, b) << "value " << b;
  };
  for (const double v : {0.0, 1.0, 9.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0, 1e6, 1200000.0, 123456789.0,
                         1e14, 999999999999999.0, 1e15, 1e16, 0.001, 0.0001, 0.00012, 0.5, 0.1, 0.3, 19.99,
                         14.3952, 1029145.0, 303067.6562332156, 9999999.99999999, 1e7 + 0.5, -1.5, 5e-324}) {
    expect_same(v);
  }
  // Decimals of every scale and magnitude, as prices, vwaps and volumes are made, and arbitrary
  // doubles such as sums of fractional volumes.
  uint64_t state = 42;
  const auto next = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 11;
  };
  const double scales[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
  for (int i = 0; i < 300000; ++i) {
    const double scale = scales[next() % 9];
    const double magnitude = std::pow(10.0, static_cast<double>(next() % 12));
    const double decimal = std::nearbyint(static_cast<double>(next() % 1000000007) / 1e9 * magnitude * scale) / scale;
    expect_same(decimal);
    expect_same(static_cast<double>(next()) * 0x1.0p-40 * magnitude);
  }
}

TEST(AggsApi, BodiesHaveTheRealKeyOrder) {
  const AggsCall call = Resolve("/v2/aggs/ticker/X:ETHUSD/range/1/day/2025-01-01/2025-01-02");
  Page page;
  ByteBuffer out;
  WriteAggsBody(call, page, "229c3d7e3cf9d42a28f5c945d9da7901", "", {}, &out);
  EXPECT_EQ(out.view(),
            R"({"ticker":"X:ETHUSD","queryCount":0,"resultsCount":0,"adjusted":true,"status":"OK","request_id":"229c3d7e3cf9d42a28f5c945d9da7901"})");

  page.bars.push_back(Bar{1577941200000, 74.06, 75.15, 73.7975, 75.0875, 135647456, 74.6099, 1});
  page.bars.push_back(Bar{1578027600000, 9490, 9500, 9490, 9495.5, 1029145, 9493, 42});
  page.query_count = 2;
  out.Clear();
  WriteAggsBody(call, page, "id", "http://h/next", {.delayed = true, .exponent_volumes = true}, &out);
  EXPECT_EQ(out.view(),
            R"({"ticker":"X:ETHUSD","queryCount":2,"resultsCount":2,"adjusted":true,"results":[)"
            R"({"v":1.35647456e+08,"vw":74.6099,"o":74.06,"c":75.0875,"h":75.15,"l":73.7975,"t":1577941200000,"n":1},)"
            R"({"v":1.029145e+06,"vw":9493,"o":9490,"c":9495.5,"h":9500,"l":9490,"t":1578027600000,"n":42}],)"
            R"("status":"DELAYED","request_id":"id","count":2,"next_url":"http://h/next"})");

  out.Clear();
  WriteErrorBody("NOT_FOUND", "abc", "message", "say \"hi\"", &out);
  EXPECT_EQ(out.view(), R"({"status":"NOT_FOUND","request_id":"abc","message":"say \"hi\""})");
}

TEST(HttpWire, ParsesRequestHeadsAndQueries) {
  HttpRequest request;
  size_t consumed = 0;
  const std::string two =
      "GET /v2/x?apiKey=k&a=1%3A2 HTTP/1.1\r\nHost: 127.0.0.1:9\r\nAccept-Encoding: deflate, GZIP;q=1\r\n"
      "authorization: Bearer abc\r\n\r\nGET / HTTP/1.0\r\n\r\n";
  ASSERT_EQ(ParseRequestHead(two, &request, &consumed), HeadStatus::kComplete);
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.path(), "/v2/x");
  EXPECT_EQ(request.query(), "apiKey=k&a=1%3A2");
  EXPECT_EQ(request.host, "127.0.0.1:9");
  EXPECT_EQ(request.authorization, "Bearer abc");
  EXPECT_TRUE(request.accepts_gzip);
  EXPECT_TRUE(request.keep_alive);
  ASSERT_EQ(ParseRequestHead(std::string_view(two).substr(consumed), &request, &consumed), HeadStatus::kComplete);
  EXPECT_FALSE(request.keep_alive);  // HTTP/1.0 without keep-alive

  EXPECT_EQ(ParseRequestHead("GET / HTTP/1.1\r\nHost: x\r\n", &request, &consumed), HeadStatus::kIncomplete);
  EXPECT_EQ(ParseRequestHead("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", &request, &consumed), HeadStatus::kComplete);
  EXPECT_FALSE(request.keep_alive);
  EXPECT_EQ(ParseRequestHead("GET / HTTP/1.1\r\nContent-Length: 3\r\n\r\nab", &request, &consumed), HeadStatus::kIncomplete);
  EXPECT_EQ(ParseRequestHead("garbage\r\n\r\n", &request, &consumed), HeadStatus::kInvalid);
  EXPECT_EQ(ParseRequestHead("GET / SPDY/9\r\n\r\n", &request, &consumed), HeadStatus::kInvalid);

  const auto query = ParseQuery("apiKey=k%2B1&x=a+b&flag&=v");
  ASSERT_EQ(query.size(), 4u);
  EXPECT_EQ(query[0], (std::pair<std::string, std::string>{"apiKey", "k+1"}));
  EXPECT_EQ(query[1].second, "a b");
  EXPECT_EQ(query[2].first, "flag");
  EXPECT_EQ(RemoveQueryParam("limit=5&apiKey=secret&sort=asc&apiKey=again", "apiKey"), "limit=5&sort=asc");
}

}  // namespace
}  // namespace barfill::sim
