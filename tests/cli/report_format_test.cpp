#include "cli/report_format.h"

#include <gtest/gtest.h>

#include "cli/console_observer.h"
#include "cli/exit_codes.h"

namespace barfill::cli {
namespace {

engine::RunReport Sample() {
  engine::RunReport r;
  r.plan_name = "p";
  r.store = "sqlite x.db";
  r.records = 1234567;
  r.duration_s = 10;
  r.api_s = 8;
  r.db_s = 3;
  r.jobs_total = 4;
  r.jobs_succeeded = 3;
  r.jobs_failed = 1;
  r.ranges_total = 10;
  r.ranges_done = 8;
  r.ranges_failed = 1;
  r.ranges_pending = 1;
  r.pages = 11;
  r.series_up_to_date = 2;
  r.requests_minimum = 9;
  r.concurrency = 2;
  r.fetcher_thread_s = 20;
  r.fetch_stats.requests = 12;
  r.fetch_stats.retries = 2;
  r.fetch_stats.rate_limited = 1;
  r.failures.push_back(engine::FailureRecord{Series{*Ticker::Parse("X:BTCUSD"), *Timeframe::Parse("5m"), true},
                                     TimeRange{0, 60000}, "X:BTCUSD 5m 1970-01-01T00:00:00Z..1970-01-01T00:01:00Z: bad \"json\"", ErrorCode::kBadResponse, 6});
  r.outcome = engine::RunOutcome::kRangesFailed;
  return r;
}

TEST(Report, TextHasTheSeedsTerms) {
  const std::string text = FormatReport(Sample());
  EXPECT_NE(text.find("Total records:   1,234,567"), std::string::npos) << text;
  EXPECT_NE(text.find("4 total, 3 succeeded (75.0%), 1 failed"), std::string::npos) << text;
  EXPECT_NE(text.find("API time:      8.00 s (80.0%)"), std::string::npos) << text;
  EXPECT_NE(text.find("DB time:       3.00 s (30.0%)"), std::string::npos) << text;
  EXPECT_NE(text.find("Requests:        made 10, minimum for the bars received 9 (efficiency 0.90)"), std::string::npos) << text;
  EXPECT_NE(text.find("Ranges:          10 to fetch: 8 done, 1 failed, 1 pending; 11 pages committed"), std::string::npos) << text;
  EXPECT_NE(text.find("123,456 records/s"), std::string::npos) << text;
  EXPECT_NE(text.find("X:BTCUSD 5m 1970-01-01T00:00:00Z..1970-01-01T00:01:00Z: bad \"json\""), std::string::npos) << text;
}

TEST(Report, JsonHasTheDesignKeys) {
  const std::string json = ReportToJson(Sample());
  for (const char* key : {"\"records\":1234567", "\"duration_s\":10.000", "\"api_s\":8.000", "\"db_s\":3.000",
                          "\"records_per_s\":123456.700", "\"jobs\":{\"total\":4,\"succeeded\":3,\"failed\":1",
                          "\"ranges\":{\"total\":10,\"done\":8,\"failed\":1,\"pending\":1}",
                          "\"series_up_to_date\":2", "\"pages\":11",
                          "\"requests\":{\"total\":12,\"made\":10,\"minimum\":9,\"efficiency\":0.900,\"pages\":0,\"retried\":2,\"rate_limited\":1",
                          "\"failures\":[{\"ticker\":\"X:BTCUSD\",\"timeframe\":\"5m\"",
                          "\"outcome\":\"ranges_failed\"", "\"exit_code\":1", "\"error\":\"X:BTCUSD 5m 1970-01-01T00:00:00Z..1970-01-01T00:01:00Z: bad \\\"json\\\"\""}) {
    EXPECT_NE(json.find(key), std::string::npos) << key << "\n" << json;
  }
}

TEST(ExitCodes, EveryOutcomeHasItsOwnCode) {
  EXPECT_EQ(ExitCodeFor(engine::RunOutcome::kDone), 0);
  EXPECT_EQ(ExitCodeFor(engine::RunOutcome::kRangesFailed), 1);
  EXPECT_EQ(ExitCodeFor(engine::RunOutcome::kRefused), 3);
  EXPECT_EQ(ExitCodeFor(engine::RunOutcome::kDatabase), 4);
  EXPECT_EQ(ExitCodeFor(engine::RunOutcome::kNetwork), 5);
  EXPECT_EQ(ExitCodeFor(engine::RunOutcome::kInterrupted), 130);
  EXPECT_EQ(ExitCodeFor(Error(ErrorCode::kUsage, "x")), 2);
  EXPECT_EQ(ExitCodeFor(Error(ErrorCode::kDatabase, "x")), 4);
}

TEST(Progress, LineShowsCountsRateAndEta) {
  engine::ProgressSnapshot s;
  s.elapsed_s = 10;
  s.series_total = 250;
  s.series_finished = 25;
  s.ranges_total = 1000;
  s.ranges_settled = 100;
  s.pages = 400;
  s.rows = 5'000'000;
  s.requests = 105;
  s.retries = 5;
  s.rate_limited = 2;
  const std::string line = FormatProgress(s);
  EXPECT_EQ(line, "series 25/250  ranges 100/1000 (10.0%)  pages 400  rows 5.00M  500k rows/s  requests 105  retries 5  429s 2  ETA 90s");
  s.elapsed_s = 100;
  EXPECT_NE(FormatProgress(s).find("ETA 15m00s"), std::string::npos) << FormatProgress(s);
}

}  // namespace
}  // namespace barfill::cli
