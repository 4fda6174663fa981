// Grouped daily end to end, as a user runs it: `barfill backfill` against the simulator on
// loopback, whose grouped-daily routes answer for its universe (SimOptions::s3.universe), into a
// real database; then the request log, the report and the whole bars table are checked against
// what `--grouped off` (per-ticker ranges) stores and against the ground truth.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/plan.h"
#include "sim/sim_server.h"
#include "store/bar_store.h"
#include "testing/ground_truth_check.h"
#include "testing/http_get.h"
#include "testing/report_json.h"
#include "testing/sim_requests.h"
#include "testing/subprocess.h"

namespace barfill::engine {

class GroupedEndToEnd : public ::testing::Test {
 protected:
  static constexpr uint64_t kSeed = 31;
  static constexpr const char* kKey = "grouped-key";

  /// `count` stock symbols: TAA, TAB, ... (valid tickers the simulator trades in every NYSE session).
  static std::vector<std::string> Stocks(int count, char first = 'T') {
    std::vector<std::string> out;
    for (int i = 0; i < count; ++i) out.push_back(std::string(1, first) + static_cast<char>('A' + i / 26) + static_cast<char>('A' + i % 26));
    return out;
  }
  /// `count` crypto pairs: X:CAAUSD, X:CABUSD, ...
  static std::vector<std::string> CryptoPairs(int count) {
    std::vector<std::string> out;
    for (const std::string& s : Stocks(count, 'C')) out.push_back("X:" + s + "USD");
    return out;
  }
  static std::string Join(const std::vector<std::string>& items) {
    std::string out;
    for (const std::string& i : items) out += (out.empty() ? "" : ",") + i;
    return out;
  }

  /// The simulator; its grouped days hold `universe` (plus tickers the plan does not ask for).
  void StartSim(const std::vector<std::string>& universe, const std::string& faults = "") {
    sim::SimOptions options;
    options.seed = kSeed;
    options.api_key = kKey;
    options.fault_seed = 5;
    if (!faults.empty()) options.faults = *sim::FaultRates::Parse(faults);
    for (const std::string& t : universe) options.s3.universe.push_back(*Ticker::Parse(t));
    for (const char* extra : {"ZZA", "ZZB", "X:ZZZUSD"}) options.s3.universe.push_back(*Ticker::Parse(extra));
    auto server = sim::SimServer::Start(options);
    ASSERT_TRUE(server) << server.error().message;
    sim_ = std::move(*server);
  }

  Plan TestPlan() const { return *ParsePlan(PlanText{"", SplitList(tickers_), {"1d"}, from_, to_}, TodayUtc()); }

  std::vector<std::string> Args(const std::string& db, const std::string& grouped = "auto") const {
    return {testing::BarfillExe(), "backfill", "--tickers", tickers_, "--timeframes", "1d", "--from", from_, "--to", to_,
            "--db", db, "--base-url", sim_->BaseUrl(), "--rate", "1000/s", "--concurrency", "4", "--grouped", grouped,
            "--skip-actions", "--no-progress", "--report-json", report_};  // corporate actions are not the subject
  }
  testing::ChildEnv Env() const { return {{{"POLYGON_API_KEY", kKey}}, {"BARFILL_DB", "MASSIVE_API_KEY"}}; }
  testing::CommandResult Run(const std::string& db, const std::string& grouped = "auto") {
    return testing::RunCommand(Args(db, grouped), Env());
  }
  testing::ReportJson Report() const { return testing::ReadReportJson(report_); }
  void ResetLog() { testing::HttpGetText(sim_->BaseUrl() + "/__reset"); }

  /// The simulator's request log since the last reset, split: grouped-daily dates, range paths.
  struct Requests {
    std::multiset<std::string> grouped_dates;
    std::vector<std::string> ranges;
  };
  Requests Logged() const {
    Requests r;
    for (const auto& [path, query] : testing::SimRequests(sim_->BaseUrl())) {
      if (path.starts_with("/v2/aggs/grouped/")) {
        r.grouped_dates.insert(path.substr(path.rfind('/') + 1));
      } else {
        r.ranges.push_back(path);
      }
    }
    return r;
  }

  /// Every bar of every series `db` holds (from its status: nothing else hides in the table).
  static std::map<std::string, BarBatch> WholeTable(const std::string& db) {
    std::map<std::string, BarBatch> out;
    auto store = OpenStore(db, StoreOptions::ForReading());
    EXPECT_TRUE(store) << store.error().message;
    if (!store) return out;
    auto status = (*store)->ReadStatus();
    EXPECT_TRUE(status) << status.error().message;
    if (!status) return out;
    for (const SeriesStatus& s : *status) {
      BarBatch& bars = out[s.series.Describe() + (s.series.adjusted ? "" : " unadjusted")];
      const Status read = (*store)->ReadBars(s.series, TimeRange{0, int64_t{1} << 52}, [&](const BarBatch& b) {
        bars.Append(b);
        return Ok();
      });
      EXPECT_TRUE(read) << read.error().message;
    }
    return out;
  }

  /// The ledger's final ranges of one series.
  static std::vector<LedgerEntry> Final(const std::string& db, const Series& series) {
    std::vector<LedgerEntry> out;
    auto store = OpenStore(db, StoreOptions::ForReading());
    EXPECT_TRUE(store) << store.error().message;
    if (!store) return out;
    auto ledger = (*store)->ReadLedger(series);
    EXPECT_TRUE(ledger);
    if (!ledger) return out;
    for (const LedgerEntry& e : *ledger) {
      if (e.state == ChunkState::kDone || e.state == ChunkState::kEmpty) out.push_back(e);
    }
    return out;
  }

  void ExpectEqualsGroundTruth(const std::string& db) {
    auto store = OpenStore(db, StoreOptions::ForReading());
    ASSERT_TRUE(store) << store.error().message;
    sim::SimOptions options;
    options.seed = kSeed;
    const auto diffs = testing::DiffStoreWithGroundTruth(**store, sim::MarketOf(options), TestPlan());
    EXPECT_TRUE(diffs.empty()) << testing::Describe(diffs);
  }

  /// Runs the plan grouped into `grouped_db` and per ticker into `ranges_db`, then checks that
  /// the grouped run made one request per market day of the plan (`days`) and no range request, and
  /// that both databases hold the same table bar for bar.
  void ExpectGroupedStoresWhatRangesStore(const std::string& grouped_db, const std::string& ranges_db, int64_t days) {
    const testing::CommandResult grouped = Run(grouped_db);
    ASSERT_EQ(grouped.exit_code, 0) << grouped.err << grouped.out;
    const Requests asked = Logged();
    EXPECT_EQ(static_cast<int64_t>(asked.grouped_dates.size()), days);
    EXPECT_EQ(std::set<std::string>(asked.grouped_dates.begin(), asked.grouped_dates.end()).size(), asked.grouped_dates.size())
        << "each market day once";
    EXPECT_TRUE(asked.ranges.empty()) << "no per-ticker request: " << asked.ranges.front();
    const testing::ReportJson report = Report();
    EXPECT_EQ(report.grouped_days, days);
    EXPECT_EQ(report.grouped_stored, days);
    EXPECT_EQ(report.grouped_requests, days);
    EXPECT_EQ(report.requests, days) << "the report counts every request the simulator saw";
    EXPECT_EQ(report.grouped_series, static_cast<int64_t>(TestPlan().tickers.size()));
    EXPECT_EQ(report.grouped_per_ticker_requests, static_cast<int64_t>(TestPlan().tickers.size()));
    EXPECT_EQ(report.grouped_bars, report.records);
    EXPECT_EQ(report.jobs_succeeded, static_cast<int64_t>(TestPlan().tickers.size()));
    EXPECT_NE(grouped.out.find("Grouped daily:"), std::string::npos) << grouped.out;

    ResetLog();
    const testing::CommandResult ranges = Run(ranges_db, "off");
    ASSERT_EQ(ranges.exit_code, 0) << ranges.err << ranges.out;
    const Requests per_ticker = Logged();
    EXPECT_TRUE(per_ticker.grouped_dates.empty());
    EXPECT_EQ(per_ticker.ranges.size(), TestPlan().tickers.size());
    EXPECT_EQ(Report().records, report.records);

    const auto a = WholeTable(grouped_db);
    const auto b = WholeTable(ranges_db);
    ASSERT_EQ(a.size(), TestPlan().tickers.size()) << "only the plan's series, none of the universe's others";
    ASSERT_EQ(a.size(), b.size());
    for (auto x = a.begin(), y = b.begin(); x != a.end(); ++x, ++y) {
      EXPECT_EQ(x->first, y->first);
      EXPECT_EQ(x->second.size(), y->second.size()) << x->first;
      EXPECT_TRUE(x->second == y->second) << x->first << " differs between grouped daily and per-ticker ranges";
    }
    ExpectEqualsGroundTruth(grouped_db);
  }

  testing::TempDir dir_;
  std::string report_ = dir_.File("report.json");
  std::string tickers_;
  std::string from_ = "2025-01-01";
  std::string to_ = "2025-03-31";  // 60 NYSE sessions: 64 weekdays less Jan 1, 9, 20 and Feb 17
  std::unique_ptr<sim::SimServer> sim_;
};

}  // namespace barfill::engine
