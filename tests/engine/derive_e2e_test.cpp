// `barfill backfill --derive` into a real SQLite file (derive_e2e.h), and the flags it refuses.
#include "engine/derive_e2e.h"

namespace barfill::engine {
namespace {

TEST_F(DeriveEndToEnd, SqliteDerivedBarsEqualRestAndCostNoRequest) {
  DeriveStory("sqlite:" + dir_.File("derive.db"), "sqlite:" + dir_.File("rest.db"));
}

TEST_F(DeriveEndToEnd, SqliteKill9InsideAFileLeavesEachBarAndMarkOnce) { Kill9Story("sqlite:" + dir_.File("kill.db")); }

// 5m alone: the minute files are read for it, their 1m bars not stored; 4h does not fold from one
// day's minutes cleanly, so REST serves it.
TEST_F(DeriveEndToEnd, FiveMinutesAloneReadTheMinuteFilesAndFourHoursGoToRest) {
  StartSim();
  const std::string db = "sqlite:" + dir_.File("five.db");
  const testing::CommandResult run = Run(db, "auto", "5m,4h", true);
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  EXPECT_EQ(AggRequests("/range/5/minute"), 0);
  EXPECT_GT(AggRequests("/range/4/hour"), 0);
  EXPECT_EQ(testing::ReadReportJson(report_).files_fetched, 10 + 12);
  ExpectEqualsGroundTruth(db, "5m,4h");
  auto store = OpenStore(db);
  ASSERT_TRUE(store);
  EXPECT_EQ(ReadAll(**store, Series{*Ticker::Parse("AAPL"), Timeframe(1, Timespan::kMinute), false}).size(), 0u)
      << "the plan did not ask for 1m";
  const testing::CommandResult again = Run(db, "auto", "5m,4h", true);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(testing::ReadReportJson(report_).files_fetched, 0);
}

// Every ticker of the files: a minute file loaded for 1m is loaded again when --derive wants 5m of
// it too (barfill_files.timeframes says what it stored), then never again.
TEST_F(DeriveEndToEnd, AllTickersLoadAFileAgainOnlyForATimeframeItDidNotStore) {
  StartSim();
  const std::string db = "sqlite:" + dir_.File("all.db");
  const auto all_crypto = [&](const std::string& timeframes, bool derive) {
    std::vector<std::string> args = Args(db, "files", timeframes, derive);
    *(std::find(args.begin(), args.end(), "--tickers") + 1) = "all:crypto";
    return testing::RunCommand(args, Env());
  };
  testing::CommandResult run = all_crypto("1m", false);
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  EXPECT_EQ(testing::ReadReportJson(report_).files_fetched, 12);
  run = all_crypto("1m,5m", true);
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  EXPECT_EQ(testing::ReadReportJson(report_).files_fetched, 12) << "5m was not stored from them yet";
  run = all_crypto("1m,5m", true);
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  EXPECT_EQ(testing::ReadReportJson(report_).files_fetched, 0);
  run = all_crypto("1m", false);
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  EXPECT_EQ(testing::ReadReportJson(report_).files_fetched, 0);
  auto store = OpenStore(db);
  ASSERT_TRUE(store);
  const auto files = (*store)->ReadFiles("global_crypto/minute_aggs_v1/");
  ASSERT_TRUE(files);
  ASSERT_EQ(files->size(), 12u);
  EXPECT_EQ(files->front().timeframes, "1m,5m");
  EXPECT_EQ(AggRequests(), 0);
}

TEST_F(DeriveEndToEnd, DeriveWithRestOrAnAdjustedPlanIsAOneLineUsageError) {
  StartSim();
  const std::string db = "sqlite:" + dir_.File("bad.db");
  testing::CommandResult rest = Run(db, "rest", "1m,5m", true);
  EXPECT_EQ(rest.exit_code, 2) << rest.err;
  EXPECT_NE(rest.err.find("derive builds bars from the minute flat files: use source auto or files"), std::string::npos)
      << rest.err;
  EXPECT_EQ(std::count(rest.err.begin(), rest.err.end(), '\n'), 1) << rest.err;
  std::vector<std::string> args = Args(db, "auto", "1m,5m", true);
  *(std::find(args.begin(), args.end(), "--adjusted") + 1) = "true";
  const testing::CommandResult adjusted = testing::RunCommand(args, Env());
  EXPECT_EQ(adjusted.exit_code, 2) << adjusted.err;
  EXPECT_NE(adjusted.err.find("use adjusted false"), std::string::npos) << adjusted.err;
  EXPECT_EQ(std::count(adjusted.err.begin(), adjusted.err.end(), '\n'), 1) << adjusted.err;
  EXPECT_EQ(AggRequests(), 0);
}

}  // namespace
}  // namespace barfill::engine
