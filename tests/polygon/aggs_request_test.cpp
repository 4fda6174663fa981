#include "polygon/aggs_request.h"

#include <gtest/gtest.h>

#include <type_traits>

namespace barfill::polygon {
namespace {

// The seed's first bug was a positional (start, end) pair. Here from and to are distinct types
// that nothing converts between, and the request has no positional constructor.
static_assert(!std::is_convertible_v<ToMs, FromMs>);
static_assert(!std::is_convertible_v<FromMs, ToMs>);
static_assert(!std::is_constructible_v<FromMs, ToMs>);
static_assert(!std::is_constructible_v<ToMs, FromMs>);
static_assert(!std::is_convertible_v<int64_t, FromMs>);
static_assert(!std::is_convertible_v<int64_t, ToMs>);
static_assert(!std::is_constructible_v<AggsRequest, std::string, Timeframe, int64_t, int64_t>);
static_assert(!std::is_constructible_v<AggsRequest, std::string, Timeframe, ToMs, FromMs>);

Chunk MakeChunk(const char* ticker, const char* tf, int64_t from, int64_t to, bool adjusted = true) {
  return Chunk{Series{*Ticker::Parse(ticker), *Timeframe::Parse(tf), adjusted}, TimeRange{from, to}};
}

TEST(AggsUrlTest, BuildsTheDocumentedUrlWithInclusiveTo) {
  const auto url = BuildAggsUrl("https://api.polygon.io",
                                AggsRequest::ForChunk(MakeChunk("AAPL", "5m", 1000, 61000)));
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(*url,
            "https://api.polygon.io/v2/aggs/ticker/AAPL/range/5/minute/1000/60999"
            "?adjusted=true&sort=asc&limit=50000");
}

TEST(AggsUrlTest, KeepsColonAndDotInTickers) {
  auto url = BuildAggsUrl("https://api.massive.com",
                          AggsRequest::ForChunk(MakeChunk("X:BTCUSD", "1h", 0, 3600000, false), 100));
  ASSERT_TRUE(url);
  EXPECT_EQ(*url,
            "https://api.massive.com/v2/aggs/ticker/X:BTCUSD/range/1/hour/0/3599999"
            "?adjusted=false&sort=asc&limit=100");
  url = BuildAggsUrl("http://127.0.0.1:8080", AggsRequest::ForChunk(MakeChunk("BRK.B", "1d", 0, 86400000)));
  ASSERT_TRUE(url);
  EXPECT_NE(url->find("/ticker/BRK.B/range/1/day/0/86399999"), std::string::npos);
}

TEST(AggsUrlTest, EscapesWhatIsNotAPathCharacter) {
  EXPECT_EQ(EscapePathSegment("X:BTCUSD"), "X:BTCUSD");
  EXPECT_EQ(EscapePathSegment("BRK.B"), "BRK.B");
  EXPECT_EQ(EscapePathSegment("A B/C?D#E%"), "A%20B%2FC%3FD%23E%25");
  EXPECT_EQ(EscapePathSegment("\xC3\xA9"), "%C3%A9");
}

TEST(AggsUrlTest, RejectsInvertedOrEmptyRangesClearly) {
  AggsRequest request{.ticker = "AAPL", .timeframe = Timeframe(1, Timespan::kMinute),
                      .from = FromMs{2000}, .to = ToMs{1000}};
  auto url = BuildAggsUrl("https://api.polygon.io", request);
  ASSERT_FALSE(url);
  EXPECT_NE(url.error().message.find("'to' (1000) must be after 'from' (2000)"), std::string::npos);
  request.to = ToMs{2000};
  EXPECT_FALSE(BuildAggsUrl("https://api.polygon.io", request));
  request.to = ToMs{3000};
  request.limit = 50001;
  EXPECT_FALSE(BuildAggsUrl("https://api.polygon.io", request));
  request.limit = 1;
  request.ticker.clear();
  EXPECT_FALSE(BuildAggsUrl("https://api.polygon.io", request));
}

TEST(AggsUrlTest, NormalizesBaseUrls) {
  EXPECT_EQ(*NormalizeBaseUrl("https://api.polygon.io/"), "https://api.polygon.io");
  EXPECT_EQ(*NormalizeBaseUrl("http://127.0.0.1:5555"), "http://127.0.0.1:5555");
  EXPECT_FALSE(NormalizeBaseUrl("ftp://x"));
  EXPECT_FALSE(NormalizeBaseUrl("api.polygon.io"));
  EXPECT_FALSE(NormalizeBaseUrl("https://api.polygon.io?apiKey=1"));
  EXPECT_FALSE(NormalizeBaseUrl("https://user:pw@api.polygon.io"));
  EXPECT_FALSE(NormalizeBaseUrl("http://127.0.0.1:99999"));
}

TEST(AggsUrlTest, ParsesOrigins) {
  EXPECT_EQ(*ParseOrigin("https://API.Polygon.io/v2/x"), (Origin{"https", "api.polygon.io", 443}));
  EXPECT_EQ(*ParseOrigin("http://127.0.0.1:8080"), (Origin{"http", "127.0.0.1", 8080}));
  EXPECT_EQ(*ParseOrigin("http://[::1]:81/a"), (Origin{"http", "[::1]", 81}));
  EXPECT_FALSE(ParseOrigin("https://api.polygon.io:443:443/v2"));
}

TEST(AggsUrlTest, AppendsApiKeyToAnyUrl) {
  EXPECT_EQ(WithApiKey("http://h/v2/x?cursor=abc", "K"), "http://h/v2/x?cursor=abc&apiKey=K");
  EXPECT_EQ(WithApiKey("http://h/v2/x", "K&1"), "http://h/v2/x?apiKey=K%261");
}

class NextUrlTest : public ::testing::Test {
 protected:
  const Origin origin_ = *ParseOrigin("https://api.massive.com");
};

TEST_F(NextUrlTest, AcceptsTheSpecExample) {
  const auto from = CheckNextUrl(
      "https://api.massive.com/v2/aggs/ticker/AAPL/range/1/day/1578114000000/2020-01-10"
      "?cursor=bGltaXQ9MiZzb3J0PWFzYw",
      origin_, "AAPL", 1577941200000);
  ASSERT_TRUE(from) << from.error().message;
  EXPECT_EQ(*from, 1578114000000);
}

TEST_F(NextUrlTest, AcceptsAnEscapedColon) {
  EXPECT_TRUE(CheckNextUrl("https://api.massive.com/v2/aggs/ticker/X%3ABTCUSD/range/1/minute/61000/99?cursor=x",
                           origin_, "X:BTCUSD", 60000));
}

TEST_F(NextUrlTest, RefusesAnotherHostSchemeOrPort) {
  for (const char* url : {"https://evil.example/v2/aggs/ticker/AAPL/range/1/day/2/3?cursor=x",
                          "http://api.massive.com/v2/aggs/ticker/AAPL/range/1/day/2/3?cursor=x",
                          "https://api.massive.com:8443/v2/aggs/ticker/AAPL/range/1/day/2/3",
                          "https://api.massive.com:443:443/v2/aggs/ticker/AAPL/range/1/day/2/3",
                          "//api.massive.com/v2/aggs/ticker/AAPL/range/1/day/2/3",
                          "/v2/aggs/ticker/AAPL/range/1/day/2/3"}) {
    const auto from = CheckNextUrl(url, origin_, "AAPL", 1);
    ASSERT_FALSE(from) << url;
    EXPECT_EQ(from.error().code, ErrorCode::kBadResponse);
  }
}

TEST_F(NextUrlTest, RefusesALoopOrAStepBack) {
  auto from = CheckNextUrl("https://api.massive.com/v2/aggs/ticker/AAPL/range/1/day/1000/2000", origin_,
                           "AAPL", 1000);
  ASSERT_FALSE(from);
  EXPECT_NE(from.error().message.find("does not move forward"), std::string::npos);
  EXPECT_FALSE(CheckNextUrl("https://api.massive.com/v2/aggs/ticker/AAPL/range/1/day/999/2000", origin_,
                            "AAPL", 1000));
}

TEST_F(NextUrlTest, RefusesOtherTickersAndShapes) {
  EXPECT_FALSE(CheckNextUrl("https://api.massive.com/v2/aggs/ticker/MSFT/range/1/day/5000/9", origin_, "AAPL", 1));
  EXPECT_FALSE(CheckNextUrl("https://api.massive.com/v3/trades/AAPL?cursor=x", origin_, "AAPL", 1));
  EXPECT_FALSE(CheckNextUrl("https://api.massive.com/v2/aggs/ticker/AAPL/range/1/day/2020-01-01/9", origin_,
                            "AAPL", 1));
  EXPECT_FALSE(CheckNextUrl("", origin_, "AAPL", 1));
}

TEST(AggsUrlTest, ReadsFromOfAnAggsUrl) {
  EXPECT_EQ(*FromOfAggsUrl("http://h:1/v2/aggs/ticker/A/range/1/minute/123/456?x=1"), 123);
  EXPECT_FALSE(FromOfAggsUrl("http://h:1/v2/other"));
}

}  // namespace
}  // namespace barfill::polygon
