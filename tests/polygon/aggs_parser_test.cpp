#include "polygon/aggs_parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "polygon/test_bodies.h"

namespace barfill::polygon {
namespace {

// Parses as the fetcher does: through ReadAggsResponse with the HTTP status.
Result<AggsPage> Read(const std::string& body, BarBatch& out, int status = 200, ParseOptions options = {}) {
  AggsParser parser;
  std::string padded = body;
  padded.append(kParsePadding, '\0');
  return ReadAggsResponse(parser, status, padded.data(), body.size(), padded.size(), out, options);
}

TEST(AggsParserTest, ParsesTheDstFixture) {
  BarBatch out;
  const auto page = Read(ReadFixture("aggs_AAPL_1_day_2005-04-01_2005-04-04.json"), out);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(page->status, PageStatus::kOk);
  EXPECT_EQ(page->results_count, 2);
  EXPECT_EQ(page->count, 2);
  EXPECT_EQ(page->request_id, "12afda77aab3b1936c5fb6ef4241ae42");
  EXPECT_TRUE(page->next_url.empty());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], (Bar{1112331600000, 1.5032, 1.5064, 1.4489, 1.4604, 642646396.0, 1.469, 82132}));
  EXPECT_EQ(out[1], (Bar{1112587200000, 1.4639, 1.4754, 1.4343, 1.4675, 578172308.0, 1.4589, 65543}));
}

TEST(AggsParserTest, ParsesTheLiveBodyWithIntegerVolumes) {
  BarBatch out;
  const auto page = Read(ReadFixture("aggs_AAPL_1_day_2022-04-01_2022-04-04.json"), out);
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], (Bar{1648785600000, 174.03, 174.88, 171.94, 174.31, 78251328, 173.4143, 661160}));
  EXPECT_EQ(out.trades[1], 630374);
}

TEST(AggsParserTest, ReadsNextUrl) {
  BarBatch out;
  const auto page = Read(ReadFixture("aggs_spec_example_with_next_url.json"), out);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(page->count, -1);
  EXPECT_EQ(page->next_url,
            "https://api.massive.com/v2/aggs/ticker/AAPL/range/1/day/1578114000000/2020-01-10"
            "?cursor=bGltaXQ9MiZzb3J0PWFzYw");
  EXPECT_EQ(out.size(), 2u);
}

TEST(AggsParserTest, MissingResultsIsAnEmptyPage) {
  BarBatch out;
  const auto page = Read(ReadFixture("aggs_empty_X_ETHUSD.json"), out);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(page->bars, 0u);
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(Read(R"({"status":"OK","resultsCount":0,"results":[]})", out));
  ASSERT_TRUE(Read(R"({"status":"OK","results":null})", out));
  EXPECT_TRUE(out.empty());
}

TEST(AggsParserTest, AcceptsDelayedExponentAndIntegerLiterals) {
  BarBatch out;
  const auto page = Read(
      R"({"status":"DELAYED","resultsCount":2,"results":[)"
      R"({"v":1.029145e+06,"vw":9.5e1,"o":95,"c":96,"h":97,"l":94,"t":60000,"n":3},)"
      R"({"t":120000,"o":1E2,"h":1.01e+2,"l":99,"c":100.5,"v":303067.6562332156}]})",
      out);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(page->status, PageStatus::kDelayed);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], (Bar{60000, 95, 97, 94, 96, 1029145, 95, 3}));
  EXPECT_EQ(out.open[1], 100);
  EXPECT_EQ(out.volume[1], 303067.6562332156);
  EXPECT_FALSE(out[1].HasVwap());
  EXPECT_FALSE(out[1].HasTrades());
}

TEST(AggsParserTest, NullOptionalFieldsAreMissingAndUnknownFieldsSkipped) {
  BarBatch out;
  const auto page = Read(
      R"({"status":"OK","results":[{"v":1,"vw":null,"n":null,"o":1,"c":1,"h":1,"l":1,"t":0,)"
      R"("otc":true,"T":"AAPL","x":{"deep":[1,2,{"a":"b"}]},"vv":5}],"queryCount":1,"adjusted":true})",
      out);
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].HasVwap());
  EXPECT_FALSE(out[0].HasTrades());
  EXPECT_EQ(out.volume[0], 1);
}

TEST(AggsParserTest, IndicesMayOmitVolume) {
  const std::string body = R"({"status":"OK","results":[{"o":1,"c":1,"h":1,"l":1,"t":0}]})";
  BarBatch out;
  auto page = Read(body, out);
  ASSERT_FALSE(page);
  EXPECT_NE(page.error().message.find("has no 'v'"), std::string::npos);
  page = Read(body, out, 200, ParseOptions{.volume_optional = true});
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(out.volume[0], 0);
}

TEST(AggsParserTest, AppendsToWhatTheBatchHeldAndRestoresItOnError) {
  BarBatch out;
  out.push_back(Bar{1, 1, 1, 1, 1, 1});
  ASSERT_TRUE(Read(R"({"status":"OK","results":[{"v":1,"o":1,"c":1,"h":1,"l":1,"t":5}]})", out));
  EXPECT_EQ(out.size(), 2u);
  ASSERT_FALSE(Read(R"({"status":"OK","resultsCount":3,"results":[{"v":1,"o":1,"c":1,"h":1,"l":1,"t":9}]})", out));
  EXPECT_EQ(out.size(), 2u);
}

TEST(AggsParserTest, CountMismatchIsARetryableBadResponse) {
  BarBatch out;
  for (const char* body :
       {R"({"status":"OK","resultsCount":2,"results":[{"v":1,"o":1,"c":1,"h":1,"l":1,"t":5}]})",
        R"({"status":"OK","count":0,"results":[{"v":1,"o":1,"c":1,"h":1,"l":1,"t":5}]})",
        R"({"status":"OK","resultsCount":1})"}) {
    const auto page = Read(body, out);
    ASSERT_FALSE(page) << body;
    EXPECT_EQ(page.error().code, ErrorCode::kBadResponse);
    EXPECT_TRUE(IsRetryable(page.error()));
  }
}

struct StatusCase {
  int http;
  const char* body;
  ErrorCode code;
  const char* text;  // must appear in the message
};

TEST(AggsResponseTest, ClassifiesEveryAnswer) {
  const std::string not_authorized = ReadFixture("error_403_not_authorized.json");
  const std::string rate_limited = ReadFixture("error_429_rate_limited.json");
  const std::string bad_time = ReadFixture("error_400_bad_time.json");
  const StatusCase cases[] = {
      {403, not_authorized.c_str(), ErrorCode::kAuth, "Your plan doesn't include this data timeframe"},
      {200, not_authorized.c_str(), ErrorCode::kAuth, "Your plan doesn't include"},
      {401, R"({"status":"ERROR","request_id":"x","error":"Unknown API Key"})", ErrorCode::kAuth, "Unknown API Key"},
      {401, "", ErrorCode::kAuth, "empty body"},
      {429, rate_limited.c_str(), ErrorCode::kRateLimited, "exceeded the maximum requests per minute"},
      {400, bad_time.c_str(), ErrorCode::kBadRequest, "Could not parse the time parameter"},
      {404, R"({"status":"NOT_FOUND","request_id":"x","message":"The specified resource was not found"})",
       ErrorCode::kBadRequest, "not found"},
      {200, R"({"status":"NOT_FOUND","message":"gone"})", ErrorCode::kBadRequest, "gone"},
      {502, "<html><body>Bad Gateway</body></html>", ErrorCode::kServerError, "Bad Gateway"},
      {503, "", ErrorCode::kServerError, "empty body"},
      {504, "\x01\x02", ErrorCode::kServerError, "\\x01"},
      {408, "", ErrorCode::kServerError, ""},
      {200, "<html>", ErrorCode::kBadResponse, "invalid aggregates body"},
      {200, R"({"results":[]})", ErrorCode::kBadResponse, "no 'status'"},
      {200, R"({"status":"ERROR","error":"The parameter 'to' cannot be a time that occurs before 'from'"})",
       ErrorCode::kBadResponse, "cannot be a time"},
      {302, "", ErrorCode::kBadResponse, "unexpected HTTP status"},
      {418, "teapot", ErrorCode::kBadRequest, "teapot"},
  };
  for (const StatusCase& c : cases) {
    BarBatch out;
    const auto page = Read(c.body, out, c.http);
    ASSERT_FALSE(page) << c.http << " " << c.body;
    EXPECT_EQ(page.error().code, c.code) << c.http << " " << c.body << ": " << page.error().message;
    EXPECT_EQ(page.error().http_status, c.http);
    EXPECT_NE(page.error().message.find(c.text), std::string::npos) << page.error().message;
    EXPECT_TRUE(out.empty());
  }
}

// Hostile bodies: each must give a clear error, never a crash or an empty success.
TEST(AggsParserTest, HostileBodiesFailClearly) {
  const std::string deep_open(5000, '[');
  const std::string with_nul = std::string(R"({"status":"OK","results":[{"v":1,"o":1,)") + '\0' +
                               R"("c":1,"h":1,"l":1,"t":5}]})";
  const std::string nul_in_string = std::string(R"({"status":"O)") + '\0' + R"(K"})";
  const std::string cases[] = {
      "",
      " ",
      "null",
      "[]",
      "42",
      R"("OK")",
      deep_open,
      R"({"status":"OK","results":)" + deep_open,
      with_nul,
      nul_in_string,
      R"({"status":"OK"} trailing)",
      R"({"status":"OK"}{"status":"OK"})",
      R"({"status":"OK","results":{}})",
      R"({"status":"OK","results":[1,2]})",
      R"({"status":"OK","results":[[]]})",
      R"({"status":"OK","results":[{"v":1,"o":"1","c":1,"h":1,"l":1,"t":5}]})",
      R"({"status":"OK","results":[{"v":1,"o":null,"c":1,"h":1,"l":1,"t":5}]})",
      R"({"status":"OK","results":[{"v":1,"o":true,"c":1,"h":1,"l":1,"t":5}]})",
      R"({"status":"OK","results":[{"v":1,"o":1,"c":1,"h":1,"l":1,"t":5.5}]})",
      R"({"status":"OK","results":[{"v":1,"o":1,"c":1,"h":1,"l":1,"t":99999999999999999999999}]})",
      R"({"status":"OK","results":[{"v":1e999,"o":1,"c":1,"h":1,"l":1,"t":5}]})",
      R"({"status":"OK","results":[{"v":1,"o":1,"c":1,"h":1,"l":1,"t":-}]})",
      R"({"status":"OK","results":[{"v":1,"o":1,"c":1,"h":1,"l":1,"t":5,"n":1.5}]})",
      R"({"status":"OK","results":[{"v":1,"o":1,"c":1,"h":1,"l":1}]})",
      R"({"status":"OK","results":[{"v":1,"o":1,"c":1,"h":1,"l":1,"t":5})",
      R"({"status":"OK","results":[{"v":1,"o":1,"c":1,"h":1,"l":1,"t":5},]})",
      R"({"status":"OK","resultsCount":"2"})",
      R"({"status":"OK","resultsCount":99999999999999,"results":[]})",
      R"({"status":17})",
      R"({"status":"OK","next_url":5})",
      R"({"status":"OK","results":[{"v":NaN,"o":1,"c":1,"h":1,"l":1,"t":5}]})",
      R"({"status":"OK","results":[{"v":Infinity,"o":1,"c":1,"h":1,"l":1,"t":5}]})",
      "\xEF\xBB\xBF{\"status\":\"OK\"}",
      "{\"status\":\"\xC3\x28\"}",
      R"({"status":"OK",,})",
      R"({status:"OK"})",
  };
  for (const std::string& body : cases) {
    BarBatch out;
    const auto page = Read(body, out);
    EXPECT_FALSE(page) << "accepted: " << body.substr(0, 80);
    if (!page) {
      EXPECT_EQ(page.error().code, ErrorCode::kBadResponse) << body.substr(0, 80);
      EXPECT_FALSE(page.error().message.empty());
    }
    EXPECT_TRUE(out.empty());
  }
}

// Deep nesting inside a field we do not read is valid JSON, skipped without recursion.
TEST(AggsParserTest, DeepNestingInUnknownFieldsIsSkipped) {
  std::string body = R"({"status":"OK","x":)";
  for (int i = 0; i < 3000; ++i) body += R"({"a":[)";
  body += "1";
  for (int i = 0; i < 3000; ++i) body += "]}";
  body += R"(,"results":[{"v":1,"o":1,"c":1,"h":1,"l":1,"t":5}]})";
  BarBatch out;
  const auto page = Read(body, out);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(out.size(), 1u);
}

TEST(AggsParserTest, HugeButValidNumbersParse) {
  BarBatch out;
  const auto page = Read(
      R"({"status":"OK","results":[{"v":1.7976931348623157e308,"o":1e-300,"c":1,"h":1e300,"l":0,)"
      R"("t":9223372036854775807,"n":9223372036854775807}]})",
      out);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(out.t[0], INT64_MAX);
}

// Every prefix of a real body is an error: a cut-off body is never an empty success.
TEST(AggsParserTest, EveryTruncationIsAnError) {
  for (const char* fixture : {"aggs_AAPL_1_day_2022-04-01_2022-04-04.json",
                              "aggs_spec_example_with_next_url.json", "aggs_empty_X_ETHUSD.json",
                              "aggs_AAPL_1_day_2005-04-01_2005-04-04.json"}) {
    const std::string body = ReadFixture(fixture);
    size_t last_brace = body.rfind('}');
    ASSERT_NE(last_brace, std::string::npos);
    for (size_t cut = 0; cut <= last_brace; ++cut) {
      BarBatch out;
      const auto page = Read(body.substr(0, cut), out);
      ASSERT_FALSE(page) << fixture << " accepted when cut at " << cut;
      EXPECT_EQ(page.error().code, ErrorCode::kBadResponse);
      EXPECT_TRUE(IsRetryable(page.error()));
      EXPECT_TRUE(out.empty());
    }
  }
}

// Flipping bytes of a real body must never crash (ASan/UBSan builds make this a memory check).
TEST(AggsParserTest, CorruptedBodiesNeverCrash) {
  const std::string body = ReadFixture("aggs_spec_example_with_next_url.json");
  ByteFlipper flipper;
  AggsParser parser;
  for (int round = 0; round < 20000; ++round) {
    const std::string mutated = flipper.Flip(body);
    BarBatch out;
    const auto page = parser.Parse(mutated, out);
    if (!page) {
      EXPECT_TRUE(out.empty());
    } else {
      EXPECT_EQ(static_cast<int64_t>(out.size()), page->results_count == -1 ? int64_t(out.size()) : page->results_count);
    }
  }
}

TEST(AggsParserTest, ParsesUnpaddedInputByCopying) {
  AggsParser parser;
  BarBatch out;
  const std::string body = R"({"status":"OK","results":[{"v":1,"o":1,"c":1,"h":1,"l":1,"t":5}]})";
  const auto page = parser.Parse(body.data(), body.size(), body.size(), out);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(out.size(), 1u);
}

TEST(BodyExcerptTest, EscapesControlBytesAndCuts) {
  EXPECT_EQ(BodyExcerpt(std::string("a\nb\0c", 5)), "a b\\x00c");
  EXPECT_EQ(BodyExcerpt(std::string(300, 'x'), 10), "xxxxxxxxxx...");
}

}  // namespace
}  // namespace barfill::polygon
