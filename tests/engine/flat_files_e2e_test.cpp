// Flat files end to end, as a user runs them: `barfill backfill --source files|auto` against the
// simulator's S3 bucket (SigV4, faults, republished objects) and its REST API on loopback, into
// a real SQLite file; then the database is compared with the ground truth and with what REST
// stores for the same plan, and the report with the simulator's counters.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "engine/plan.h"
#include "flatfiles/key_layout.h"
#include "flatfiles/s3_sim_env.h"
#include "store/bar_store.h"
#include "testing/ground_truth_check.h"
#include "testing/report_json.h"
#include "testing/sim_requests.h"
#include "testing/subprocess.h"

namespace barfill::engine {
namespace {

using testing::CommandResult;
using testing::kTestAccessKey;
using testing::kTestSecret;
using testing::S3SimEnv;
using testing::TempDir;

// February 2025: 19 sessions (Presidents' Day is closed), four weekends.
constexpr const char* kFrom = "2025-02-03";
constexpr const char* kTo = "2025-02-28";
// The publication clock: every file of the month is out.
const int64_t kNow = ZoneFor(AssetClass::kStock).DayStartMs(CalendarDay{2025, 3, 10});

std::string MinuteKey(AssetClass asset, CalendarDay day) {
  return flatfiles::KeyFor(flatfiles::Dataset{asset, flatfiles::FileTimeframe::kMinute}, day);
}

class FlatFilesEndToEnd : public ::testing::Test {
 protected:
  void StartSim(sim::S3SimOptions s3 = {}) {
    if (s3.universe.empty()) {
      for (const char* t : {"AAPL", "MSFT", "BRK.B", "X:BTCUSD", "X:ETHUSD"}) s3.universe.push_back(*Ticker::Parse(t));
    }
    env_ = std::make_unique<S3SimEnv>(std::move(s3), kNow);
  }

  Plan TestPlan(const std::string& timeframes = "1m,1d") const {
    PlanText text{"", SplitList(tickers_), SplitList(timeframes), kFrom, kTo};
    text.adjusted = false;
    return *ParsePlan(text, TodayUtc());
  }

  std::vector<std::string> Args(const std::string& source, const std::string& db, const std::string& timeframes = "1m,1d") const {
    return {testing::BarfillExe(), "backfill", "--tickers", tickers_, "--timeframes", timeframes, "--from", kFrom,
            "--to", kTo, "--adjusted", "false", "--db", db, "--base-url", env_->server().BaseUrl(), "--files-url",
            env_->server().BaseUrl(), "--source", source, "--rate", "1000/s", "--no-progress", "--report-json", report_};
  }

  testing::ChildEnv Env(const std::string& secret = kTestSecret) const {
    return {{{"POLYGON_API_KEY", "rest-key"}, {"MASSIVE_S3_ACCESS_KEY_ID", kTestAccessKey}, {"MASSIVE_S3_SECRET_ACCESS_KEY", secret}},
            {"BARFILL_DB", "MASSIVE_API_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}};
  }

  CommandResult Run(const std::string& source, const std::string& timeframes = "1m,1d") {
    return testing::RunCommand(Args(source, db_, timeframes), Env());
  }

  void ExpectEqualsGroundTruth(const std::string& db, const std::string& timeframes = "1m,1d") {
    auto store = OpenStore(db);
    ASSERT_TRUE(store) << store.error().message;
    const auto diffs = testing::DiffStoreWithGroundTruth(**store, sim::Market{testing::kTestSeed}, TestPlan(timeframes),
                                                         verify::VwapCheck::kEqualOrAbsent);
    EXPECT_TRUE(diffs.empty()) << testing::Describe(diffs);
  }

  int64_t StoredBars(const std::string& db) {
    auto store = OpenStore(db);
    EXPECT_TRUE(store) << store.error().message;
    if (!store) return -1;
    int64_t n = 0;
    const Plan plan = TestPlan();
    for (const Ticker& t : plan.tickers) {
      for (const Timeframe& tf : plan.timeframes) {
        const Status read = (*store)->ReadBars(Series{t, tf, false}, TimeRange{0, int64_t{1} << 52},
                                               [&](const BarBatch& b) { n += static_cast<int64_t>(b.size()); return Ok(); });
        EXPECT_TRUE(read) << read.error().message;
      }
    }
    return n;
  }

  /// REST data requests since the simulator's last reset.
  size_t RestRequests() { return testing::SimRequests(env_->server().BaseUrl()).size(); }

  TempDir dir_;
  std::string db_ = "sqlite:" + dir_.File("files.db");
  std::string report_ = dir_.File("report.json");
  std::string tickers_ = "AAPL,BRK.B,X:BTCUSD";
  std::unique_ptr<S3SimEnv> env_;
};

TEST_F(FlatFilesEndToEnd, FilesStoreTheBarsRestStoresAndARerunDownloadsNothing) {
  StartSim();
  const CommandResult files = Run("files");
  ASSERT_EQ(files.exit_code, 0) << files.err << files.out;
  EXPECT_EQ(RestRequests(), 0u) << "files only: no REST request";
  testing::ReportJson report = testing::ReadReportJson(report_);
  // 19 stock sessions (+ the holiday's file, if the vendor publishes one) and 26 crypto days, minute and day files.
  EXPECT_GE(report.files_fetched, 2 * (19 + 26));
  EXPECT_EQ(report.files_fetched, report.files_listed);
  EXPECT_EQ(report.files_failed, 0);
  EXPECT_EQ(report.jobs_succeeded, 6) << "every series complete: the files' days and the closed days between them";
  ExpectEqualsGroundTruth(db_);

  // The same plan from REST: the same bars (t, o, h, l, c, v, n; files carry no vwap).
  const std::string rest_db = "sqlite:" + dir_.File("rest.db");
  const CommandResult rest = testing::RunCommand(Args("rest", rest_db), Env());
  ASSERT_EQ(rest.exit_code, 0) << rest.err;
  EXPECT_GT(RestRequests(), 0u);
  auto from_files = OpenStore(db_);
  auto from_rest = OpenStore(rest_db);
  ASSERT_TRUE(from_files && from_rest);
  const Plan plan = TestPlan();
  int64_t compared = 0;
  for (const Ticker& t : plan.tickers) {
    for (const Timeframe& tf : plan.timeframes) {
      const Series series{t, tf, false};
      BarBatch a, b;
      const TimeRange all{0, int64_t{1} << 52};
      ASSERT_TRUE((*from_files)->ReadBars(series, all, [&](const BarBatch& x) { a.Append(x); return Ok(); }));
      ASSERT_TRUE((*from_rest)->ReadBars(series, all, [&](const BarBatch& x) { b.Append(x); return Ok(); }));
      for (size_t i = 0; i < b.size(); ++i) b.vwap[i] = kNoVwap;
      EXPECT_EQ(a.size(), b.size()) << series.Describe();
      EXPECT_TRUE(a == b) << series.Describe() << " differs between files and REST";
      compared += static_cast<int64_t>(a.size());
    }
  }
  EXPECT_EQ(compared, report.files_rows);

  // Nothing changed in the bucket: the re-run lists, skips every file, downloads nothing.
  const int64_t gets_before = env_->server().FlatFileStats().gets;
  const CommandResult again = Run("files");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  report = testing::ReadReportJson(report_);
  EXPECT_EQ(report.files_fetched, 0);
  EXPECT_EQ(report.files_unchanged, report.files_listed);
  EXPECT_EQ(report.records, 0);
  EXPECT_EQ(env_->server().FlatFileStats().gets, gets_before);
}

TEST_F(FlatFilesEndToEnd, AutoTakesFromRestWhatTheFilesCannotGive) {
  // One minute file never published; 5m bars have no files at all.
  const CalendarDay hole{2025, 2, 12};
  sim::S3SimOptions s3;
  s3.faults.push_back(sim::S3FaultRule{MinuteKey(AssetClass::kStock, hole), sim::S3Fault::kMissing});
  StartSim(std::move(s3));
  const CommandResult run = Run("auto", "1m,5m,1d");
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  const testing::ReportJson report = testing::ReadReportJson(report_);
  ASSERT_EQ(report.files_missing.size(), 1u);
  EXPECT_NE(report.files_missing[0].find("2025-02-12"), std::string::npos) << report.files_missing[0];
  EXPECT_NE(run.out.find("Missing file:"), std::string::npos) << run.out;
  // REST asked for the 5m series and the missing day of the stocks' minutes, nothing else.
  const auto requests = testing::SimRequests(env_->server().BaseUrl());
  const TimeRange hole_range = ZoneFor(AssetClass::kStock).DaysToRange(hole, hole);
  int five_minute = 0;
  for (const auto& [path, query] : testing::SimRequests(env_->server().BaseUrl())) {
    if (!path.starts_with("/v2/aggs/")) continue;  // the stocks' corporate actions
    // /v2/aggs/ticker/{ticker}/range/{multiplier}/{timespan}/{from}/{to}
    const size_t to_slash = path.rfind('/');
    const size_t from_slash = path.rfind('/', to_slash - 1);
    const int64_t from = std::stoll(path.substr(from_slash + 1, to_slash - from_slash - 1));
    const std::string series_path = path.substr(0, from_slash);
    if (series_path.ends_with("/range/5/minute")) {
      ++five_minute;
      continue;
    }
    EXPECT_TRUE(series_path.ends_with("/range/1/minute") && !series_path.starts_with("/v2/aggs/ticker/X:") &&
                hole_range.Contains(from))
        << "REST asked for what a file gave: " << path;
  }
  EXPECT_GE(five_minute, 3);
  ExpectEqualsGroundTruth(db_, "1m,5m,1d");
  EXPECT_EQ(report.jobs_succeeded, 9);
}

// Many tickers and a day file missing: that day comes from one grouped-daily request, not one
// range request per ticker.
TEST_F(FlatFilesEndToEnd, AMissingDayOfManyTickersComesFromOneGroupedRequest) {
  const CalendarDay hole{2025, 2, 12};
  sim::S3SimOptions s3;
  tickers_.clear();
  for (int i = 0; i < 30; ++i) {
    const std::string t = std::string("G") + static_cast<char>('A' + i / 26) + static_cast<char>('A' + i % 26);
    s3.universe.push_back(*Ticker::Parse(t));
    tickers_ += (tickers_.empty() ? "" : ",") + t;
  }
  s3.faults.push_back(sim::S3FaultRule{flatfiles::KeyFor(flatfiles::Dataset{AssetClass::kStock, flatfiles::FileTimeframe::kDay}, hole),
                                       sim::S3Fault::kMissing});
  StartSim(std::move(s3));
  const CommandResult run = Run("auto", "1d");
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  std::vector<std::pair<std::string, std::string>> requests;  // bars, not corporate actions
  for (auto& r : testing::SimRequests(env_->server().BaseUrl())) {
    if (r.first.starts_with("/v2/aggs/")) requests.push_back(std::move(r));
  }
  ASSERT_EQ(requests.size(), 1u) << "the missing day once, for every ticker";
  EXPECT_EQ(requests[0].first, "/v2/aggs/grouped/locale/us/market/stocks/2025-02-12");
  const testing::ReportJson report = testing::ReadReportJson(report_);
  EXPECT_EQ(report.grouped_stored, 1);
  EXPECT_EQ(report.grouped_per_ticker_requests, 30);
  EXPECT_EQ(report.jobs_succeeded, 30);
  ExpectEqualsGroundTruth(db_, "1d");
}

// --tickers all in auto mode: the days without a file (the newest, as if not published yet, and
// a missing one) come from REST for every ticker that traded, 1d by one grouped request; REST
// is asked for nothing the files hold, and a re-run asks for nothing at all.
TEST_F(FlatFilesEndToEnd, AllTickersTakeTheDaysWithoutAFileFromRest) {
  const CalendarDay hole{2025, 2, 12};
  const CalendarDay newest{2025, 2, 28};
  const flatfiles::Dataset stock_days{AssetClass::kStock, flatfiles::FileTimeframe::kDay};
  sim::S3SimOptions s3;
  for (const char* t : {"AAPL", "MSFT", "BRK.B", "X:BTCUSD"}) s3.universe.push_back(*Ticker::Parse(t));
  s3.faults.push_back(sim::S3FaultRule{MinuteKey(AssetClass::kStock, hole), sim::S3Fault::kMissing});
  s3.faults.push_back(sim::S3FaultRule{MinuteKey(AssetClass::kStock, newest), sim::S3Fault::kMissing});
  s3.faults.push_back(sim::S3FaultRule{flatfiles::KeyFor(stock_days, newest), sim::S3Fault::kMissing});
  StartSim(std::move(s3));
  std::vector<std::string> args = Args("auto", db_);
  *(std::find(args.begin(), args.end(), "--tickers") + 1) = "all";
  const CommandResult run = testing::RunCommand(args, Env());
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;

  const MarketZone zone = ZoneFor(AssetClass::kStock);
  std::vector<std::string> minute_days;  // "TICKER DAY" of every minute range asked
  std::vector<std::string> other;
  for (const auto& [path, query] : testing::SimRequests(env_->server().BaseUrl())) {
    if (!path.starts_with("/v2/aggs/")) continue;
    // /v2/aggs/ticker/{ticker}/range/1/minute/{from}/{to}
    const std::string prefix = "/v2/aggs/ticker/";
    const size_t range_at = path.find("/range/1/minute/");
    if (!path.starts_with(prefix) || range_at == std::string::npos) {
      other.push_back(path);
      continue;
    }
    const std::string ticker = path.substr(prefix.size(), range_at - prefix.size());
    const std::string bounds = path.substr(range_at + std::string("/range/1/minute/").size());
    const int64_t from = std::stoll(bounds.substr(0, bounds.find('/')));
    minute_days.push_back(ticker + " " + zone.DayOf(from).ToString());
  }
  // (A day may be asked in pieces when there are more fetchers than ranges.)
  EXPECT_EQ(std::set<std::string>(minute_days.begin(), minute_days.end()),
            (std::set<std::string>{"AAPL 2025-02-12", "AAPL 2025-02-28", "BRK.B 2025-02-12", "BRK.B 2025-02-28",
                                   "MSFT 2025-02-12", "MSFT 2025-02-28"}));
  EXPECT_EQ(other, (std::vector<std::string>{"/v2/aggs/grouped/locale/us/market/stocks/2025-02-28"}))
      << "the newest day's 1d bars in one request; crypto is not asked";
  tickers_ = "AAPL,MSFT,BRK.B";
  ExpectEqualsGroundTruth(db_);

  const size_t asked = testing::SimRequests(env_->server().BaseUrl()).size();
  const CommandResult again = testing::RunCommand(args, Env());
  ASSERT_EQ(again.exit_code, 0) << again.err << again.out;
  EXPECT_EQ(testing::SimRequests(env_->server().BaseUrl()).size(), asked) << "the re-run asks REST nothing";
  EXPECT_EQ(testing::ReadReportJson(report_).records, 0);
}

TEST_F(FlatFilesEndToEnd, ResetDownloadsResumeAndADamagedFileIsDownloadedAgain) {
  const CalendarDay day{2025, 2, 6};
  sim::S3SimOptions s3;
  s3.reset_rate = 0.3;  // a third of the GETs are cut half way
  s3.faults.push_back(sim::S3FaultRule{MinuteKey(AssetClass::kCrypto, day), sim::S3Fault::kTruncatedGzip});
  StartSim(std::move(s3));
  // Files only: the truncated file fails after its downloads and is named; the rest is stored.
  const CommandResult files = Run("files");
  EXPECT_EQ(files.exit_code, 1) << files.err << files.out;
  testing::ReportJson report = testing::ReadReportJson(report_);
  EXPECT_GT(report.files_resumes, 0) << "cut downloads continue with Range";
  EXPECT_EQ(report.files_failed, 1);
  ASSERT_EQ(report.failure_errors.size(), 1u);
  EXPECT_NE(report.failure_errors[0].find(MinuteKey(AssetClass::kCrypto, day)), std::string::npos)
      << report.failure_errors[0];
  // Auto: the failed file's day comes from REST; everything is there.
  const CommandResult autorun = Run("auto");
  ASSERT_EQ(autorun.exit_code, 0) << autorun.err << autorun.out;
  report = testing::ReadReportJson(report_);
  EXPECT_EQ(report.files_fetched, 0) << "the damaged file is the only one left, and it fails again";
  EXPECT_GT(report.requests_made, 0);
  ExpectEqualsGroundTruth(db_);
}

TEST_F(FlatFilesEndToEnd, AReplacedFileIsLoadedAgainOnceWithoutDuplicates) {
  const CalendarDay day{2025, 2, 20};
  sim::S3SimOptions s3;
  s3.republications.push_back(sim::S3Republication{MinuteKey(AssetClass::kStock, day), kNow + kMsPerHour});
  StartSim(std::move(s3));
  ASSERT_EQ(Run("files").exit_code, 0);
  const int64_t bars = StoredBars(db_);
  env_->SetNow(kNow + 2 * kMsPerHour);  // the vendor replaced the file meanwhile
  const CommandResult again = Run("files");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  testing::ReportJson report = testing::ReadReportJson(report_);
  EXPECT_EQ(report.files_replaced, 1);
  EXPECT_EQ(report.files_fetched, 1);
  EXPECT_EQ(StoredBars(db_), bars) << "the replaced file's bars replace the old ones";
  ExpectEqualsGroundTruth(db_);
  ASSERT_EQ(Run("files").exit_code, 0);
  report = testing::ReadReportJson(report_);
  EXPECT_EQ(report.files_fetched, 0) << "loaded once";
}

TEST_F(FlatFilesEndToEnd, RefusedCredentialsStopBeforeAnyBar) {
  StartSim();
  const CommandResult wrong = testing::RunCommand(Args("files", db_), Env("not-the-secret"));
  EXPECT_EQ(wrong.exit_code, 3) << wrong.err;
  EXPECT_NE(wrong.err.find("error:"), std::string::npos) << wrong.err;
  EXPECT_EQ(wrong.err.find("not-the-secret"), std::string::npos) << "the secret is never printed";
  EXPECT_EQ(wrong.err.find(kTestSecret), std::string::npos);
  EXPECT_EQ(StoredBars(db_), 0);
  // A clock 20 minutes off: S3 refuses the signature; the message says to fix the clock.
  env_->SetRequestSkew(20 * 60 * 1000);
  const CommandResult skewed = Run("files");
  EXPECT_EQ(skewed.exit_code, 3) << skewed.err;
  EXPECT_NE(skewed.err.find("clock"), std::string::npos) << skewed.err;
  EXPECT_EQ(StoredBars(db_), 0);
}

TEST_F(FlatFilesEndToEnd, Kill9InsideAFileLosesNothingAndStoresNothingTwice) {
  StartSim();
  testing::ChildEnv env = Env();
  env.set["BARFILL_CRASH_AT"] = "bars_half_written:3";  // the third transaction (a batch of files), half way
  const CommandResult crashed = testing::RunCommand(Args("files", db_), env);
  ASSERT_EQ(crashed.exit_code, 128 + SIGKILL) << crashed.err;
  const int64_t partial = StoredBars(db_);
  EXPECT_GT(partial, 0) << "the batches before are committed";
  int64_t committed = 0;
  {
    auto store = OpenStore(db_);
    ASSERT_TRUE(store) << store.error().message;
    auto files = (*store)->ReadFiles("");
    ASSERT_TRUE(files) << files.error().message;
    committed = static_cast<int64_t>(files->size());
  }
  EXPECT_GT(committed, 0);
  const CommandResult resumed = Run("files");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const testing::ReportJson report = testing::ReadReportJson(report_);
  EXPECT_EQ(report.files_unchanged, committed) << "the committed files are not downloaded again";
  EXPECT_GT(report.files_fetched, 0) << "the batch in flight is loaded again";
  ExpectEqualsGroundTruth(db_);
}

TEST_F(FlatFilesEndToEnd, AllTickersOfAnAssetClassNarrowedByExclude) {
  StartSim();
  std::vector<std::string> args = Args("files", db_);
  const auto tickers = std::find(args.begin(), args.end(), "--tickers");
  *(tickers + 1) = "all:crypto";
  args.insert(args.end(), {"--exclude", "X:ETHUSD"});
  const CommandResult run = testing::RunCommand(args, Env());
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  auto store = OpenStore(db_);
  ASSERT_TRUE(store);
  const Timeframe minute(1, Timespan::kMinute);
  const TimeRange all{0, int64_t{1} << 52};
  int64_t btc = 0, eth = 0;
  ASSERT_TRUE((*store)->ReadBars(Series{*Ticker::Parse("X:BTCUSD"), minute, false}, all,
                                 [&](const BarBatch& b) { btc += static_cast<int64_t>(b.size()); return Ok(); }));
  ASSERT_TRUE((*store)->ReadBars(Series{*Ticker::Parse("X:ETHUSD"), minute, false}, all,
                                 [&](const BarBatch& b) { eth += static_cast<int64_t>(b.size()); return Ok(); }));
  EXPECT_GT(btc, 0);
  EXPECT_EQ(eth, 0) << "excluded";
  EXPECT_EQ(RestRequests(), 0u);
}

}  // namespace
}  // namespace barfill::engine
