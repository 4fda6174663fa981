// The corporate-actions wire format: the vendor's own example bodies parse, odd numbers are kept
// and marked, answers that are not pages are classified, and next_url may not wander.
#include "polygon/actions_api.h"

#include <gtest/gtest.h>

namespace barfill::polygon {
namespace {

// A capture published in third-party tests (the vendor's AAPL splits), with next_url.
constexpr std::string_view kSplitsCapture =
    R"({"status":"OK","request_id":"36538f14c2ee4f98b68bb4d968a85be4","results":[
 {"id":"E36416cce743c3964c5da63e1ef1626c0aece30fb47302eea5a49c0055c04e8d0","execution_date":"2020-08-31","split_from":1.0,"split_to":4.0,"ticker":"AAPL","adjustment_type":"forward_split","historical_adjustment_factor":0.25},
 {"id":"E91a6b74ca1a9dcbce26a1f34e24ae26ba2c6359822ccf901ecd827f419137654","execution_date":"2014-06-09","split_from":1.0,"split_to":7.0,"ticker":"AAPL","adjustment_type":"forward_split","historical_adjustment_factor":0.035714}],
 "next_url":"https://api.massive.com/stocks/v1/splits?cursor=AQcPBEFBUEwCAQAABAAAAQIAAgEJ-8x-AQ8EQUFQTA=="})";

// The OpenAPI example: request_id is the integer 1.
constexpr std::string_view kDividendsSpecExample =
    R"({"request_id":1,"status":"OK","results":[{"cash_amount":0.26,"currency":"USD","declaration_date":"2025-07-31","distribution_type":"recurring","ex_dividend_date":"2025-08-11","frequency":4,"historical_adjustment_factor":0.997899,"id":"Ed2c9da60abda1e3f0e99a43f6465863c137b671e1f5cd3f833d1fcb4f4eb27fe","pay_date":"2025-08-14","record_date":"2025-08-11","split_adjusted_cash_amount":0.26,"ticker":"AAPL"}]})";

TEST(ReadActionsResponse, ParsesTheVendorsSplitsCapture) {
  auto page = ReadActionsResponse(ActionsKind::kSplits, 200, kSplitsCapture);
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(page->splits.size(), 2u);
  const SplitRecord& s = page->splits[1];
  EXPECT_EQ(s.id, "E91a6b74ca1a9dcbce26a1f34e24ae26ba2c6359822ccf901ecd827f419137654");
  EXPECT_EQ(s.ticker, "AAPL");
  EXPECT_EQ(s.execution_date, (CalendarDay{2014, 6, 9}));
  EXPECT_EQ(s.split_from, 1);
  EXPECT_EQ(s.split_to, 7);
  EXPECT_EQ(s.adjustment_type, "forward_split");
  EXPECT_EQ(s.vendor_factor, 0.035714);
  EXPECT_FALSE(s.exponent_form);
  EXPECT_EQ(page->next_url, "https://api.massive.com/stocks/v1/splits?cursor=AQcPBEFBUEwCAQAABAAAAQIAAgEJ-8x-AQ8EQUFQTA==");
}

TEST(ReadActionsResponse, ParsesTheDividendsExampleWithAnIntegerRequestId) {
  auto page = ReadActionsResponse(ActionsKind::kDividends, 200, kDividendsSpecExample);
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(page->dividends.size(), 1u);
  const DividendRecord& d = page->dividends[0];
  EXPECT_EQ(d.cash_amount, 0.26);
  EXPECT_EQ(d.ex_dividend_date, (CalendarDay{2025, 8, 11}));
  EXPECT_EQ(d.declaration_date, (CalendarDay{2025, 7, 31}));
  EXPECT_EQ(d.frequency, 4);
  EXPECT_EQ(d.vendor_factor, 0.997899);
  EXPECT_EQ(d.split_adjusted_cash_amount, 0.26);
  EXPECT_TRUE(page->next_url.empty());
}

TEST(ReadActionsResponse, KeepsAndMarksExponentFormAndMissingOptionalFields) {
  auto page = ReadActionsResponse(
      ActionsKind::kSplits, 200,
      R"({"status":"OK","request_id":"x","results":[{"id":"E1","execution_date":"2021-03-01","split_from":2e+06,"split_to":1,"ticker":"NPWZ","adjustment_type":"reverse_split"},{"id":"E2","execution_date":"2021-04-01","split_from":null,"split_to":3,"ticker":"NPWZ","adjustment_type":"forward_split"}]})");
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(page->splits.size(), 2u);
  EXPECT_TRUE(page->splits[0].exponent_form);
  EXPECT_EQ(page->splits[0].split_from, 2e6);
  EXPECT_TRUE(std::isnan(page->splits[0].vendor_factor));
  EXPECT_TRUE(std::isnan(page->splits[1].split_from));
  auto dividends = ReadActionsResponse(
      ActionsKind::kDividends, 200,
      R"({"status":"OK","results":[{"id":"D1","ticker":"AAPL","cash_amount":2.65,"ex_dividend_date":"2012-08-09","split_adjusted_cash_amount":0.094643,"historical_adjustment_factor":0.838964,"distribution_type":"recurring"}]})");
  ASSERT_TRUE(dividends) << dividends.error().message;
  EXPECT_FALSE(dividends->dividends[0].declaration_date.has_value());
}

TEST(ReadActionsResponse, ClassifiesWhatIsNotAPage) {
  EXPECT_EQ(ReadActionsResponse(ActionsKind::kSplits, 429, R"({"status":"ERROR","error":"slow down"})").error().code,
            ErrorCode::kRateLimited);
  EXPECT_EQ(ReadActionsResponse(ActionsKind::kSplits, 403, R"({"status":"NOT_AUTHORIZED","message":"no"})").error().code,
            ErrorCode::kAuth);
  EXPECT_EQ(ReadActionsResponse(ActionsKind::kSplits, 502, "<html>bad gateway</html>").error().code,
            ErrorCode::kServerError);
  EXPECT_EQ(ReadActionsResponse(ActionsKind::kSplits, 200, R"({"status":"OK","results":[{"id":"E1")").error().code,
            ErrorCode::kBadResponse);
  const auto unkeyed = ReadActionsResponse(ActionsKind::kSplits, 200,
                                           R"({"status":"OK","results":[{"ticker":"A","execution_date":"2020-01-02"}]})");
  ASSERT_FALSE(unkeyed);
  EXPECT_EQ(unkeyed.error().code, ErrorCode::kInvalidData);
  EXPECT_NE(unkeyed.error().message.find("no id"), std::string::npos) << unkeyed.error().message;
}

TEST(ActionsUrls, AskForManyTickersAtOnceWithTheLargestPage) {
  auto url = BuildActionsUrl("https://api.massive.com", ActionsKind::kSplits, {"AAPL", "BRK.B"});
  ASSERT_TRUE(url);
  EXPECT_EQ(*url, "https://api.massive.com/stocks/v1/splits?ticker.any_of=AAPL,BRK.B&limit=5000&sort=ticker.asc,execution_date.asc");
  EXPECT_FALSE(BuildActionsUrl("https://x", ActionsKind::kSplits, {}));
  EXPECT_EQ(*BuildV3SplitsUrl("http://h:1", "AAPL"), "http://h:1/v3/reference/splits?ticker=AAPL&limit=1000&order=asc&sort=execution_date");
}

TEST(CheckActionsNextUrl, StaysOnTheHostAndTheEndpoint) {
  const Origin origin = *ParseOrigin("https://api.massive.com");
  const std::string first = "https://api.massive.com/stocks/v1/splits?ticker.any_of=AAPL&limit=5000";
  EXPECT_TRUE(CheckActionsNextUrl("https://api.massive.com/stocks/v1/splits?cursor=abc==", origin, first));
  EXPECT_FALSE(CheckActionsNextUrl("https://evil.example/stocks/v1/splits?cursor=abc", origin, first));
  EXPECT_FALSE(CheckActionsNextUrl("https://api.massive.com/stocks/v1/dividends?cursor=abc", origin, first));
  EXPECT_FALSE(CheckActionsNextUrl(first, origin, first));
}

}  // namespace
}  // namespace barfill::polygon
