// Grouped daily end to end into SQLite files (grouped_e2e.h); grouped_pg_test.cpp runs the main
// comparison against PostgreSQL.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "calendar/exchange_calendar.h"

#include "engine/grouped_e2e.h"

namespace barfill::engine {
namespace {

TEST_F(GroupedEndToEnd, ManyStocksTakeOneRequestPerMarketDayAndStoreWhatRangesStore) {
  const std::vector<std::string> stocks = Stocks(200);
  StartSim(stocks);
  tickers_ = Join(stocks);
  ExpectGroupedStoresWhatRangesStore("sqlite:" + dir_.File("grouped.db"), "sqlite:" + dir_.File("ranges.db"), 60);

  // Nothing left to do: the re-run asks for nothing.
  ResetLog();
  const testing::CommandResult again = Run("sqlite:" + dir_.File("grouped.db"));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(sim_->Stats().data_requests, 0);
  EXPECT_EQ(Report().records, 0);
  EXPECT_EQ(Report().grouped_days, 0);
}

TEST_F(GroupedEndToEnd, ManyCryptoPairsTakeOneRequestPerDay) {
  const std::vector<std::string> pairs = CryptoPairs(40);
  StartSim(pairs);
  tickers_ = Join(pairs);
  from_ = "2025-02-01";
  to_ = "2025-02-28";  // 28 days: crypto trades every day
  ExpectGroupedStoresWhatRangesStore("sqlite:" + dir_.File("grouped.db"), "sqlite:" + dir_.File("ranges.db"), 28);
}

TEST_F(GroupedEndToEnd, AFewTickersOverAYearKeepPerTickerRequests) {
  StartSim({"TAA", "TAB", "X:CAAUSD"});
  tickers_ = "TAA,TAB,X:CAAUSD";
  from_ = "2025-01-01";
  to_ = "2025-12-31";
  const std::string db = "sqlite:" + dir_.File("bars.db");
  std::vector<std::string> dry = Args(db);
  dry.push_back("--dry-run");
  const testing::CommandResult plan = testing::RunCommand(dry, Env());
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_NE(plan.out.find("grouped daily stocks: not used: 2 per-ticker requests"), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("grouped daily crypto: not used: 1 per-ticker requests"), std::string::npos) << plan.out;
  const testing::CommandResult run = Run(db);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const Requests asked = Logged();
  EXPECT_TRUE(asked.grouped_dates.empty());
  EXPECT_EQ(asked.ranges.size(), 3u);
  EXPECT_EQ(Report().grouped_days, 0);
  EXPECT_EQ(run.out.find("Grouped daily:"), std::string::npos) << "no grouped section without grouped days";
  ExpectEqualsGroundTruth(db);
}

TEST_F(GroupedEndToEnd, DryRunSaysHowManyGroupedRequests) {
  const std::vector<std::string> stocks = Stocks(200);
  StartSim(stocks);
  tickers_ = Join(stocks);
  std::vector<std::string> args = Args("sqlite:" + dir_.File("bars.db"));
  args.push_back("--dry-run");
  const testing::CommandResult run = testing::RunCommand(args, Env());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("grouped daily stocks: 60 requests (one per market day) for 200 1d series, instead of 200 "
                         "per-ticker requests"),
            std::string::npos)
      << run.out;
  EXPECT_EQ(sim_->Stats().requests, 0);
}

TEST_F(GroupedEndToEnd, FaultsCostRetriesNotData) {
  const std::vector<std::string> stocks = Stocks(100);
  StartSim(stocks, "reset=0.05,truncate=0.05,http429=0.05,http5xx=0.05,badjson=0.04");
  tickers_ = Join(stocks);
  const std::string db = "sqlite:" + dir_.File("bars.db");
  const testing::CommandResult run = Run(db);
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  const testing::ReportJson report = Report();
  const sim::SimStats stats = sim_->Stats();
  EXPECT_GT(stats.reset + stats.truncate + stats.http429 + stats.http5xx + stats.badjson, 0) << "faults were injected";
  EXPECT_GT(report.grouped_retried, 0);
  EXPECT_EQ(report.grouped_stored, 60);
  EXPECT_EQ(report.grouped_failed, 0);
  EXPECT_EQ(report.requests, stats.requests) << "every request the simulator saw is counted";
  EXPECT_EQ(report.requests_made, 60) << "faults cost retries, never extra days";
  ExpectEqualsGroundTruth(db);
}

TEST_F(GroupedEndToEnd, Kill9InsideAWriteLosesOnlyItsDaysAndTheRerunAsksNoCommittedDay) {
  const std::vector<std::string> stocks = Stocks(100);
  StartSim(stocks);
  tickers_ = Join(stocks);
  const std::string db = "sqlite:" + dir_.File("bars.db");
  testing::ChildEnv env = Env();
  env.set["BARFILL_CRASH_AT"] = "bars_half_written:3";  // the third transaction, half way
  const testing::CommandResult crashed = testing::RunCommand(Args(db), env);
  ASSERT_EQ(crashed.exit_code, 128 + SIGKILL) << crashed.err;
  // The days of the first two transactions are committed for every series, nothing of the third.
  const Series first{*Ticker::Parse("TAA"), Timeframe(1, Timespan::kDay), true};
  const std::vector<LedgerEntry> done = Final(db, first);
  size_t days_done = 0;
  for (const LedgerEntry& e : done) days_done += static_cast<size_t>(e.rows);
  EXPECT_GE(days_done, 2u);
  EXPECT_LT(days_done, 60u);
  const auto table = WholeTable(db);
  EXPECT_EQ(table.size(), 100u);
  for (const auto& [series, bars] : table) EXPECT_EQ(bars.size(), days_done) << series;

  ResetLog();
  const testing::CommandResult resumed = Run(db);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const Requests asked = Logged();
  EXPECT_EQ(asked.grouped_dates.size(), 60u - days_done) << "the 60 sessions less the committed ones";
  EXPECT_TRUE(asked.ranges.empty());
  const MarketZone ny = ZoneFor(AssetClass::kStock);
  for (const std::string& date : asked.grouped_dates) {
    const int64_t start = ny.DayStartMs(*CalendarDay::Parse(date));
    for (const LedgerEntry& e : done) EXPECT_FALSE(e.range.Contains(start)) << "committed day asked again: " << date;
  }
  ExpectEqualsGroundTruth(db);
  for (const auto& [series, bars] : WholeTable(db)) EXPECT_EQ(bars.size(), 60u) << series << ": every bar once";
}

TEST_F(GroupedEndToEnd, SigtermDuringTheGroupedPassExits130AndTheRunResumes) {
  const std::vector<std::string> stocks = Stocks(100);
  StartSim(stocks);
  tickers_ = Join(stocks);
  const std::string db = "sqlite:" + dir_.File("bars.db");
  std::vector<std::string> args = Args(db);
  *(std::find(args.begin(), args.end(), "--rate") + 1) = "15/s";  // 60 days: about 4 s
  testing::BackgroundCommand run(args, Env());
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  run.Kill(SIGTERM);
  const testing::CommandResult stopped = run.Wait();
  ASSERT_EQ(stopped.exit_code, 130) << stopped.err << stopped.out;
  EXPECT_NE(stopped.err.find("interrupted"), std::string::npos) << stopped.err;
  const int64_t stored = Report().grouped_stored;
  EXPECT_GE(stored, 0) << "the report is written on the way out";
  EXPECT_LT(stored, 60);
  ResetLog();
  const testing::CommandResult resumed = Run(db);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(static_cast<int64_t>(Logged().grouped_dates.size()), 60 - stored) << "the days stored are not asked again";
  ExpectEqualsGroundTruth(db);
}

// A plan ending two days ago reaches into the sessions a run verifies again (refresh): the days
// the grouped pass has just fetched are not fetched again per ticker to verify them.
TEST_F(GroupedEndToEnd, RecentDaysFetchedGroupedAreNotVerifiedAgainPerTicker) {
  const std::vector<std::string> stocks = Stocks(100);
  StartSim(stocks);
  tickers_ = Join(stocks);
  const CalendarDay today = TodayUtc();
  from_ = today.AddDays(-30).ToString();
  to_ = today.AddDays(-2).ToString();
  int64_t sessions = 0;
  auto days = calendar::ExchangeCalendar::For(AssetClass::kStock).Sessions(today.AddDays(-30), today.AddDays(-2));
  ASSERT_TRUE(days);
  for (const calendar::Session& s : *days) sessions += s.is_open() ? 1 : 0;
  const std::string db = "sqlite:" + dir_.File("bars.db");
  const testing::CommandResult run = Run(db);
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  const Requests asked = Logged();
  EXPECT_EQ(static_cast<int64_t>(asked.grouped_dates.size()), sessions);
  EXPECT_TRUE(asked.ranges.empty()) << asked.ranges.size() << " per-ticker requests, the first " << asked.ranges.front();
  ExpectEqualsGroundTruth(db);
}

TEST_F(GroupedEndToEnd, ABadGroupedValueIsOneErrorLineAndExit2) {
  StartSim({"TAA"});
  tickers_ = "TAA";
  const std::string path = dir_.File("bars.db");
  const testing::CommandResult run = Run("sqlite:" + path, "sometimes");
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_EQ(run.err, "error: --grouped must be auto or off (got 'sometimes')\n");
  EXPECT_FALSE(std::filesystem::exists(path)) << "nothing touched";
  EXPECT_EQ(sim_->Stats().requests, 0);
}

}  // namespace
}  // namespace barfill::engine
