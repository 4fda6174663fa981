// `barfill backfill --derive` end to end, as a user runs it: the simulator's S3 bucket and REST
// API on loopback, a real database (SQLite file or the throwaway PostgreSQL). The 5m and 1h bars
// built from the minute files' rows must equal what REST serves for the same series and days
// (t, o, h, l, c, v, n; vwap NULL), cost no REST aggregate request, be marked derived, survive
// kill -9, and a re-run must download nothing and change nothing.
#pragma once

#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/bar_fold.h"
#include "engine/plan.h"
#include "flatfiles/s3_sim_env.h"
#include "store/bar_store.h"
#include "store/sql_session.h"
#include "testing/ground_truth_check.h"
#include "testing/report_json.h"
#include "testing/sim_requests.h"
#include "testing/subprocess.h"

namespace barfill::engine {

class DeriveEndToEnd : public ::testing::Test {
 protected:
  // Two weeks of February 2025 (Presidents' Day, the 17th, is outside), two stocks and a crypto pair.
  static constexpr const char* kFrom = "2025-02-03";
  static constexpr const char* kTo = "2025-02-14";
  static constexpr const char* kTickers = "AAPL,BRK.B,X:BTCUSD";

  void StartSim() {
    sim::S3SimOptions s3;
    for (const char* t : {"AAPL", "MSFT", "BRK.B", "X:BTCUSD"}) s3.universe.push_back(*Ticker::Parse(t));
    env_ = std::make_unique<testing::S3SimEnv>(std::move(s3),
                                               ZoneFor(AssetClass::kStock).DayStartMs(CalendarDay{2025, 3, 10}));
  }

  static Plan TestPlan(const std::string& timeframes) {
    PlanText text{"", SplitList(kTickers), SplitList(timeframes), kFrom, kTo};
    text.adjusted = false;
    return *ParsePlan(text, TodayUtc());
  }

  std::vector<std::string> Args(const std::string& db, const std::string& source, const std::string& timeframes,
                                bool derive) const {
    std::vector<std::string> args = {testing::BarfillExe(), "backfill", "--tickers", kTickers, "--timeframes", timeframes,
                                     "--from", kFrom, "--to", kTo, "--adjusted", "false", "--db", db, "--base-url",
                                     env_->server().BaseUrl(), "--files-url", env_->server().BaseUrl(), "--source", source,
                                     "--rate", "1000/s", "--skip-actions", "--no-progress", "--report-json", report_};
    if (derive) args.push_back("--derive");
    return args;
  }

  static testing::ChildEnv Env() {
    return {{{"POLYGON_API_KEY", "rest-key"},
             {"MASSIVE_S3_ACCESS_KEY_ID", testing::kTestAccessKey},
             {"MASSIVE_S3_SECRET_ACCESS_KEY", testing::kTestSecret}},
            {"BARFILL_DB", "MASSIVE_API_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}};
  }

  testing::CommandResult Run(const std::string& db, const std::string& source, const std::string& timeframes, bool derive,
                             testing::ChildEnv env = Env()) {
    return testing::RunCommand(Args(db, source, timeframes, derive), env);
  }

  /// REST aggregate requests the simulator answered so far, and those of one timeframe path ("/range/5/minute").
  int64_t AggRequests(const std::string& timespan_path = "") const {
    int64_t n = 0;
    for (const auto& [path, query] : testing::SimRequests(env_->server().BaseUrl())) {
      if (!path.starts_with("/v2/aggs/")) continue;
      if (timespan_path.empty() || path.find(timespan_path + "/") != std::string::npos) ++n;
    }
    return n;
  }

  static BarBatch ReadAll(BarStore& store, const Series& series) {
    BarBatch out;
    const Status read = store.ReadBars(series, TimeRange{0, int64_t{1} << 52}, [&](const BarBatch& b) {
      out.Append(b);
      return Ok();
    });
    EXPECT_TRUE(read) << read.error().message;
    return out;
  }

  /// The database equals the simulator's ground truth (what its REST API serves) for `timeframes`,
  /// vwap absent from every derived bar; returns the derived bars stored.
  int64_t ExpectEqualsGroundTruth(const std::string& db, const std::string& timeframes) {
    auto store = OpenStore(db);
    EXPECT_TRUE(store) << store.error().message;
    if (!store) return -1;
    const Plan plan = TestPlan(timeframes);
    const auto diffs = testing::DiffStoreWithGroundTruth(**store, sim::Market{testing::kTestSeed}, plan,
                                                         verify::VwapCheck::kEqualOrAbsent);
    EXPECT_TRUE(diffs.empty()) << testing::Describe(diffs);
    int64_t derived = 0;
    for (const Ticker& t : plan.tickers) {
      for (const Timeframe& tf : plan.timeframes) {
        if (!DerivableFromMinutes(tf)) continue;  // 1m and 4h: vendor bars
        const BarBatch bars = ReadAll(**store, Series{t, tf, false});
        EXPECT_GT(bars.size(), 0u) << t.symbol() << " " << tf.ToString();
        EXPECT_TRUE(std::all_of(bars.vwap.begin(), bars.vwap.end(), [](double v) { return std::isnan(v); }))
            << "derived bars carry no vwap";
        derived += static_cast<int64_t>(bars.size());
      }
    }
    return derived;
  }

  /// What `barfill status` says of the derived ranges: the bars it counts, over every series.
  int64_t StatusDerivedBars(const std::string& db) {
    auto store = OpenStore(db, StoreOptions::ForReading());
    EXPECT_TRUE(store) << store.error().message;
    if (!store) return -1;
    auto status = (*store)->ReadStatus();
    EXPECT_TRUE(status) << status.error().message;
    if (!status) return -1;
    int64_t bars = 0;
    for (const SeriesStatus& s : *status) {
      EXPECT_EQ(s.derived_ranges > 0, DerivableFromMinutes(s.series.timeframe)) << s.series.Describe();
      bars += s.derived_bars;
    }
    return bars;
  }

  /// The whole story on one database: derive, compare, re-run, run without --derive.
  void DeriveStory(const std::string& db, const std::string& rest_db) {
    StartSim();
    const testing::CommandResult run = Run(db, "auto", "1m,5m,1h", true);
    ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
    EXPECT_EQ(AggRequests(), 0) << "the minute files serve 1m, 5m and 1h: no REST aggregate request";
    EXPECT_NE(run.out.find("Derived:"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("bars of 5m"), std::string::npos) << run.out;
    testing::ReportJson report = testing::ReadReportJson(report_);
    // 10 stock sessions and 12 crypto days: one minute file each, read once for three timeframes.
    EXPECT_EQ(report.files_fetched, 10 + 12);
    EXPECT_EQ(report.jobs_succeeded, 9);
    const int64_t derived = ExpectEqualsGroundTruth(db, "1m,5m,1h");
    EXPECT_EQ(StatusDerivedBars(db), derived) << "every derived bar is marked, once";
    const testing::CommandResult status =
        testing::RunCommand({testing::BarfillExe(), "status", "--db", db}, Env());
    ASSERT_EQ(status.exit_code, 0) << status.err;
    EXPECT_NE(status.out.find("derived from minute files"), std::string::npos) << status.out;
    EXPECT_NE(status.out.find("AAPL 5m unadjusted: "), std::string::npos) << status.out;

    // The same series from REST: the same bars but for vwap, which REST has and files do not.
    const testing::CommandResult rest = Run(rest_db, "rest", "5m,1h", false);
    ASSERT_EQ(rest.exit_code, 0) << rest.err << rest.out;
    EXPECT_GT(AggRequests(), 0);
    auto from_files = OpenStore(db);
    auto from_rest = OpenStore(rest_db);
    ASSERT_TRUE(from_files && from_rest);
    int64_t compared = 0;
    for (const Ticker& t : TestPlan("5m").tickers) {
      for (const char* tf : {"5m", "1h"}) {
        const Series series{t, *Timeframe::Parse(tf), false};
        const BarBatch a = ReadAll(**from_files, series);
        BarBatch b = ReadAll(**from_rest, series);
        for (size_t i = 0; i < b.size(); ++i) b.vwap[i] = kNoVwap;
        EXPECT_EQ(a.size(), b.size()) << series.Describe();
        EXPECT_TRUE(a == b) << series.Describe() << " differs between --derive and REST";
        compared += static_cast<int64_t>(a.size());
      }
    }
    EXPECT_EQ(compared, derived);

    // Nothing changed in the bucket: the re-run lists, downloads nothing, stores nothing, asks REST nothing.
    const int64_t gets = env_->server().FlatFileStats().gets;
    const int64_t requests = AggRequests();
    const testing::CommandResult again = Run(db, "auto", "1m,5m,1h", true);
    ASSERT_EQ(again.exit_code, 0) << again.err;
    report = testing::ReadReportJson(report_);
    EXPECT_EQ(report.files_fetched, 0);
    EXPECT_EQ(report.records, 0);
    EXPECT_EQ(env_->server().FlatFileStats().gets, gets);
    EXPECT_EQ(AggRequests(), requests);

    // Without --derive the derived ranges count as done (docs/flatfiles.md): REST is not asked for them.
    const testing::CommandResult plain = Run(db, "auto", "1m,5m,1h", false);
    ASSERT_EQ(plain.exit_code, 0) << plain.err;
    EXPECT_EQ(AggRequests(), requests);
    EXPECT_EQ(testing::ReadReportJson(report_).records, 0);
    EXPECT_EQ(ExpectEqualsGroundTruth(db, "1m,5m,1h"), derived);
  }

  /// The killed process's other writer may have sent its COMMIT just before: the server finishes
  /// it after the kill. Waits for the process's sessions to end, so the ledger read is final.
  static void WaitForTheKilledSessions(BarStore& store) {
    int64_t others = 1;
    for (int i = 0; i < 500 && others > 0; ++i) {
      ASSERT_TRUE(store.InTransaction(true, [&](store::SqlSession& session) {
        return session.Query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                             "pid <> pg_backend_pid() AND backend_type = 'client backend'",
                             {}, [&](const store::SqlRow& row) {
                               others = row.Int(0);
                               return Ok();
                             });
      }));
      if (others > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_EQ(others, 0) << "the killed process's sessions never ended";
  }

  /// kill -9 half way through the fourth batch (of 4 files), then a re-run: each bar once, each
  /// mark once. PostgreSQL's two writers store a batch in three transactions (a half of the
  /// tickers each, then the files' rows), SQLite's one writer in one.
  void Kill9Story(const std::string& db) {
    StartSim();
    testing::ChildEnv env = Env();
    env.set["BARFILL_CRASH_AT"] = db.starts_with("sqlite:") ? "bars_half_written:4" : "bars_half_written:10";
    std::vector<std::string> args = Args(db, "files", "1m,5m,1h", true);
    args.insert(args.end(), {"--files-per-transaction", "4"});
    const testing::CommandResult crashed = testing::RunCommand(args, env);
    ASSERT_EQ(crashed.exit_code, 128 + SIGKILL) << crashed.err;
    int64_t committed = 0;
    {
      auto store = OpenStore(db, StoreOptions::ForReading());
      ASSERT_TRUE(store) << store.error().message;
      if (!db.starts_with("sqlite:")) WaitForTheKilledSessions(**store);
      auto files = (*store)->ReadFiles("");
      ASSERT_TRUE(files) << files.error().message;
      committed = static_cast<int64_t>(files->size());
    }
    EXPECT_GT(committed, 0) << "the batches before are committed";
    const testing::CommandResult resumed = Run(db, "files", "1m,5m,1h", true);
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err << resumed.out;
    const testing::ReportJson report = testing::ReadReportJson(report_);
    // A file whose row did not commit may still be whole: with two writers each commits its half
    // of the tickers, and when both halves are in, the ledger says every ticker's day is done.
    EXPECT_GE(report.files_unchanged, committed) << "the committed files are not downloaded again";
    EXPECT_GT(report.files_fetched, 0) << "the batch in flight is loaded again";
    const int64_t derived = ExpectEqualsGroundTruth(db, "1m,5m,1h");
    EXPECT_EQ(StatusDerivedBars(db), derived);
  }

  testing::TempDir dir_;
  std::string report_ = dir_.File("report.json");
  std::unique_ptr<testing::S3SimEnv> env_;
};

}  // namespace barfill::engine
