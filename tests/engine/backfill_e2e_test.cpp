// End to end, as a user runs it: `barfill backfill` against the simulator on loopback (with
// faults), into a real SQLite file; then the database is compared with the ground truth bar for
// bar, the report with the database and the simulator's counters, and resumes after kill -9.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <signal.h>

#include <chrono>
#include <set>
#include <thread>

#include "engine/plan.h"
#include "sim/sim_server.h"
#include "store/bar_store.h"
#include "testing/ground_truth_check.h"
#include "testing/http_get.h"
#include "testing/report_json.h"
#include "testing/sim_requests.h"
#include "testing/subprocess.h"

namespace barfill::engine {
namespace {

using testing::BackgroundCommand;
using testing::CommandResult;
using testing::TempDir;

constexpr uint64_t kSeed = 7;
constexpr const char* kKey = "e2e-key";

class BackfillEndToEnd : public ::testing::Test {
 protected:
  /// `max_page_limit` below 50,000 makes every range span several pages.
  void StartSim(const std::string& faults, int rate_limit_per_min = 0, int64_t max_page_limit = 50000,
                std::map<std::string, double, std::less<>> activity = {}) {
    sim::SimOptions options;
    options.seed = kSeed;
    options.activity = std::move(activity);
    options.api_key = kKey;
    options.rate_limit_per_min = rate_limit_per_min;
    options.max_page_limit = max_page_limit;
    options.fault_seed = 11;
    if (!faults.empty()) options.faults = *sim::FaultRates::Parse(faults);
    auto server = sim::SimServer::Start(options);
    ASSERT_TRUE(server) << server.error().message;
    sim_ = std::move(*server);
  }

  Plan TestPlan() const {
    return *ParsePlan(PlanText{"", SplitList(tickers_), SplitList(timeframes_), from_, to_}, TodayUtc());
  }

  std::vector<std::string> BackfillArgs(const std::string& rate) const {
    return {testing::BarfillExe(), "backfill", "--tickers", tickers_, "--timeframes", timeframes_, "--from", from_,
            "--to", to_, "--db", db_, "--base-url", sim_->BaseUrl(), "--rate", rate, "--concurrency", "4",
            "--no-progress", "--report-json", report_};
  }

  testing::ChildEnv Env() const { return {{{"POLYGON_API_KEY", kKey}}, {"BARFILL_DB", "MASSIVE_API_KEY"}}; }

  CommandResult Backfill(const std::string& rate = "1000/s") { return testing::RunCommand(BackfillArgs(rate), Env()); }

  void ExpectDatabaseEqualsGroundTruth() { ExpectDatabaseEqualsGroundTruthOf(sim::Market{kSeed}); }
  void ExpectDatabaseEqualsGroundTruthOf(const sim::Market& market) {
    auto store = OpenStore(db_);
    ASSERT_TRUE(store) << store.error().message;
    const auto diffs = testing::DiffStoreWithGroundTruth(**store, market, TestPlan());
    EXPECT_TRUE(diffs.empty()) << testing::Describe(diffs);
  }

  std::vector<LedgerEntry> DoneChunks() {
    std::vector<LedgerEntry> done;
    auto store = OpenStore(db_);
    if (!store) {
      // "No chunk done" must never pass because the database did not open.
      ADD_FAILURE() << "cannot open " << db_ << ": " << store.error().message;
      return done;
    }
    const Plan plan = TestPlan();
    for (const Ticker& t : plan.tickers) {
      for (const Timeframe& tf : plan.timeframes) {
        auto ledger = (*store)->ReadLedger(Series{t, tf, true});
        if (!ledger) {
          ADD_FAILURE() << "cannot read the ledger: " << ledger.error().message;
          continue;
        }
        for (const LedgerEntry& e : *ledger) {
          if (e.state == ChunkState::kDone || e.state == ChunkState::kEmpty) done.push_back(e);
        }
      }
    }
    return done;
  }

  TempDir dir_;
  std::string db_ = "sqlite:" + dir_.File("bars.db");
  std::string report_ = dir_.File("report.json");
  std::string tickers_ = "AAPL,BRK.B,X:BTCUSD,X:ETHUSD";
  std::string timeframes_ = "1m,5m,1h,1d";
  std::string from_ = "2025-02-20";
  std::string to_ = "2025-04-10";  // across the 2025-03-09 DST change
  std::unique_ptr<sim::SimServer> sim_;
};

TEST_F(BackfillEndToEnd, WithFaultsEveryBarArrivesExactlyOnce) {
  StartSim("reset=0.03,truncate=0.03,http429=0.03,http5xx=0.03,badjson=0.02,slow=0.01");
  const CommandResult run = Backfill();
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  ExpectDatabaseEqualsGroundTruth();

  const testing::ReportJson report = testing::ReadReportJson(report_);
  const int64_t truth = testing::GroundTruthBars(kSeed, TestPlan());
  EXPECT_EQ(report.exit_code, 0);
  EXPECT_EQ(report.records, truth) << "the report counts exactly the bars stored";
  EXPECT_EQ(report.ranges_failed, 0);
  EXPECT_EQ(report.ranges_done, report.ranges_total);
  EXPECT_EQ(report.ranges_total, 16) << "one wide range per series";
  EXPECT_EQ(report.requests_made, report.requests_minimum) << "faults cost retries, never extra pages";
  EXPECT_EQ(report.jobs_succeeded, 16);
  const sim::SimStats stats = sim_->Stats();
  EXPECT_GT(stats.reset + stats.truncate + stats.http429 + stats.http5xx + stats.badjson, 0) << "faults were injected";
  EXPECT_EQ(report.rate_limited, stats.http429 + stats.rate_limited) << "every 429 the simulator sent is reported";
  EXPECT_EQ(report.requests, stats.requests) << "every request the simulator saw is counted";
  EXPECT_GT(report.retried, 0);
  EXPECT_NE(run.out.find("Total records:"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find(kKey), std::string::npos) << "the API key never appears in output";
  EXPECT_EQ(run.err.find(kKey), std::string::npos);
}

TEST_F(BackfillEndToEnd, RerunOfAFinishedPlanMakesNoDataRequest) {
  StartSim("");
  ASSERT_EQ(Backfill().exit_code, 0);
  testing::HttpGetText(sim_->BaseUrl() + "/__reset");
  const CommandResult again = Backfill();
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(sim_->Stats().data_requests, 0);
  const testing::ReportJson report = testing::ReadReportJson(report_);
  EXPECT_EQ(report.records, 0);
  EXPECT_EQ(report.series_up_to_date, 16);
  EXPECT_EQ(report.ranges_total, 0);
  ExpectDatabaseEqualsGroundTruth();
}

TEST_F(BackfillEndToEnd, Kill9AtRandomPagesLosesOnlyThePagesInFlight) {
  // Pages of 5,000 minutes, so every intraday range spans several and the kills land between
  // pages of one range; slow enough (10 requests/s) that each round is killed mid-run.
  StartSim("reset=0.02,http5xx=0.02", 0, 5000);
  int kills = 0;
  std::vector<LedgerEntry> committed;  // by the rounds before; nothing before the first
  for (const int delay_ms : {500, 800, 1100, 900}) {
    testing::HttpGetText(sim_->BaseUrl() + "/__reset");
    BackgroundCommand run(BackfillArgs("10/s"), Env());
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    run.Kill(SIGKILL);
    const CommandResult killed = run.Wait();
    // No page committed by an earlier round is asked for again.
    const auto refetched = testing::RequestIntoDoneChunk(testing::SimRequests(sim_->BaseUrl()), committed);
    EXPECT_FALSE(refetched.has_value()) << "round " << kills << " re-requested a committed page: " << *refetched;
    if (killed.exit_code == 0) break;  // finished before the kill: nothing left to resume
    EXPECT_EQ(killed.exit_code, 128 + SIGKILL) << killed.err;
    ++kills;
    committed = DoneChunks();
  }
  EXPECT_GE(kills, 3);
  const std::vector<LedgerEntry> done_before = DoneChunks();
  testing::HttpGetText(sim_->BaseUrl() + "/__reset");
  const CommandResult resumed = Backfill();
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  ExpectDatabaseEqualsGroundTruth();
  const auto requests = testing::SimRequests(sim_->BaseUrl());
  const testing::ReportJson report = testing::ReadReportJson(report_);
  EXPECT_GT(report.ranges_total, 0) << "the kills left work for the resume";
  EXPECT_FALSE(requests.empty());
  const auto refetched = testing::RequestIntoDoneChunk(requests, done_before);
  EXPECT_FALSE(refetched.has_value()) << "committed page re-requested: " << *refetched;
}

TEST_F(BackfillEndToEnd, CrashJustAfterACommitLosesNothing) {
  StartSim("", 0, 5000);
  testing::ChildEnv env = Env();
  env.set["BARFILL_CRASH_AFTER_COMMITS"] = "2";
  const CommandResult crashed = testing::RunCommand(BackfillArgs("1000/s"), env);
  ASSERT_EQ(crashed.exit_code, 128 + SIGKILL) << crashed.err;
  const auto done_before = DoneChunks();
  EXPECT_FALSE(done_before.empty()) << "the pages of the two commits are durable";
  testing::HttpGetText(sim_->BaseUrl() + "/__reset");
  const CommandResult resumed = Backfill();
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const auto refetched = testing::RequestIntoDoneChunk(testing::SimRequests(sim_->BaseUrl()), done_before);
  EXPECT_FALSE(refetched.has_value()) << "committed page re-requested: " << *refetched;
  ExpectDatabaseEqualsGroundTruth();
}

TEST_F(BackfillEndToEnd, SigtermStopsCleanlyAndTheRunResumes) {
  StartSim("", 0, 5000);  // small pages: a run of some 100 requests lasts a few seconds
  BackgroundCommand run(BackfillArgs("30/s"), Env());
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  run.Kill(SIGTERM);
  const CommandResult stopped = run.Wait();
  ASSERT_EQ(stopped.exit_code, 130) << stopped.err;
  EXPECT_NE(stopped.err.find("interrupted"), std::string::npos) << stopped.err;
  const CommandResult resumed = Backfill();
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  ExpectDatabaseEqualsGroundTruth();
}

// The fewest requests: per series, the simulator sees ceil(base aggregates / 50,000) requests
// (at least one) for dense, thin and empty series, every timeframe, a range that starts and ends
// mid-year; and a one-series plan cut for parallelism costs at most one request per cut.
TEST_F(BackfillEndToEnd, EachSeriesCostsTheFewestRequestsTheApiAllows) {
  std::map<std::string, double, std::less<>> activity = {{"THIN", 0.02}, {"NONE", 0.0}};
  sim::Market market(kSeed);
  market.activity = activity;
  StartSim("", 0, 50000, activity);
  tickers_ = "AAPL,THIN,NONE,X:BTCUSD";
  timeframes_ = "1m,5m,15m,1h,1d";
  from_ = "2025-03-15";
  to_ = "2025-10-20";
  const CommandResult run = Backfill();
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ExpectDatabaseEqualsGroundTruthOf(market);
  auto requests = testing::SimRequests(sim_->BaseUrl());
  std::erase_if(requests, [](const auto& r) { return !r.first.starts_with("/v2/aggs/"); });  // the bars' pages
  int64_t minimum_total = 0;
  for (const Ticker& ticker : TestPlan().tickers) {
    const MarketZone zone = ticker.zone();
    for (const Timeframe& tf : TestPlan().timeframes) {
      const Timeframe base_tf = tf.IsIntraday() ? Timeframe(1, Timespan::kMinute) : Timeframe(1, Timespan::kDay);
      const TimeRange range = SnapToBuckets(tf, zone, zone.DaysToRange(*CalendarDay::Parse(from_), *CalendarDay::Parse(to_)));
      const int64_t base = static_cast<int64_t>(sim::GroundTruth(market, ticker, base_tf, true, range).size());
      const int64_t minimum = std::max<int64_t>(1, (base + 49999) / 50000);
      minimum_total += minimum;
      const std::string prefix = "/v2/aggs/ticker/" + ticker.symbol() + "/range/" + std::to_string(tf.multiplier()) + "/" +
                                 std::string(tf.PolygonTimespan()) + "/";
      const auto made = std::count_if(requests.begin(), requests.end(),
                                      [&](const auto& r) { return r.first.starts_with(prefix); });
      EXPECT_EQ(made, minimum) << ticker.symbol() << " " << tf.ToString() << ": " << base << " base aggregates";
    }
  }
  EXPECT_EQ(static_cast<int64_t>(requests.size()), minimum_total);
  const testing::ReportJson report = testing::ReadReportJson(report_);
  EXPECT_EQ(report.requests_made, minimum_total);
  EXPECT_EQ(report.requests_minimum, minimum_total) << "the report's minimum is the same arithmetic";

  // One series, four fetchers: its year is cut into ranges, each cut costing at most a request.
  testing::HttpGetText(sim_->BaseUrl() + "/__reset");
  tickers_ = "X:ETHUSD";
  timeframes_ = "1m";
  from_ = "2025-01-01";
  to_ = "2025-12-31";
  const CommandResult cut = Backfill();
  ASSERT_EQ(cut.exit_code, 0) << cut.err;
  const testing::ReportJson cut_report = testing::ReadReportJson(report_);
  EXPECT_EQ(cut_report.ranges_total, 4) << "one range per fetcher";
  EXPECT_EQ(cut_report.requests_minimum, 11) << "525,600 minutes";
  EXPECT_LE(cut_report.requests_made, cut_report.requests_minimum + 3);
  ExpectDatabaseEqualsGroundTruthOf(market);
}

TEST_F(BackfillEndToEnd, RefusedKeyStopsTheRunWithExit3) {
  StartSim("");
  testing::ChildEnv env = Env();
  env.set["POLYGON_API_KEY"] = "wrong-key";
  const CommandResult run = testing::RunCommand(BackfillArgs("1000/s"), env);
  EXPECT_EQ(run.exit_code, 3) << run.err;
  EXPECT_NE(run.err.find("Unknown API Key"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find("wrong-key"), std::string::npos) << "the key is never printed";
  EXPECT_LE(sim_->Stats().requests, 8) << "the run stops at once instead of failing every chunk";
  EXPECT_TRUE(DoneChunks().empty());
}

TEST_F(BackfillEndToEnd, DryRunPrintsThePlanWithoutRequests) {
  StartSim("");
  std::vector<std::string> args = BackfillArgs("5/min");
  args.push_back("--dry-run");
  const CommandResult run = testing::RunCommand(args, Env());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("4 tickers x 4 timeframes = 16 series"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("at 0.08333 requests/s"), std::string::npos) << run.out;
  EXPECT_EQ(sim_->Stats().requests, 0);
}

}  // namespace
}  // namespace barfill::engine
