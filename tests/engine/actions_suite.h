// Corporate actions end to end, on each store (SQLite files, and a throwaway PostgreSQL): `barfill`
// as a user runs it against the simulator on loopback, then the database read back through the
// views and compared with the simulator's ground truth bar for bar.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <charconv>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/corporate_actions.h"
#include "engine/plan.h"
#include "sim/action_table.h"
#include "sim/http_wire.h"
#include "sim/sim_server.h"
#include "store/actions_store.h"
#include "store/bar_store.h"
#include "store/sql_session.h"
#include "store/store_env.h"
#include "testing/ground_truth_check.h"
#include "testing/http_get.h"
#include "testing/sim_requests.h"
#include "testing/subprocess.h"

namespace barfill::testing {

inline constexpr uint64_t kActionsSeed = 7;
inline constexpr const char* kActionsKey = "actions-key";

/// The stock tickers of the shipped baseline plan: the simulator universe the checks cover.
inline std::vector<std::string> BaselineStocks() {
  auto plan = engine::LoadPlanFile(std::string(BARFILL_SOURCE_DIR) + "/plans/phase2-baseline.toml");
  std::vector<std::string> out;
  if (!plan) return out;
  for (const Ticker& t : plan->tickers) {
    if (t.asset_class() == AssetClass::kStock) out.push_back(t.symbol());
  }
  return out;
}

/// Stocks of the universe whose simulator table has a split (seed kActionsSeed).
inline std::vector<std::string> TickersWithSplits() {
  std::vector<std::string> out;
  for (const std::string& symbol : BaselineStocks()) {
    if (!sim::TrueActions(kActionsSeed, *Ticker::Parse(symbol)).splits.empty()) out.push_back(symbol);
  }
  return out;
}

inline std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ",") + s;
  return out;
}

inline int64_t NyDayStart(CalendarDay day) { return MarketZone::NewYork().DayStartMs(day); }

/// The "actions" object of a --report-json file, read with simdjson's DOM; a missing key fails the
/// test instead of reading garbage.
class ActionsJson {
 public:
  explicit ActionsJson(const std::string& path) {
    simdjson::dom::element root;
    ok = parser_.load(path).get(root) == simdjson::SUCCESS && root["actions"].get(actions_) == simdjson::SUCCESS;
  }
  bool ok = false;

  /// The objects of array `key` inside `within` (the actions object when null).
  std::vector<simdjson::dom::object> Objects(const char* key, const simdjson::dom::object* within = nullptr) const {
    std::vector<simdjson::dom::object> out;
    simdjson::dom::array array;
    if ((within != nullptr ? *within : actions_)[key].get(array) != simdjson::SUCCESS) {
      ADD_FAILURE() << "no array '" << key << "' in the report";
      return out;
    }
    for (simdjson::dom::element e : array) {
      simdjson::dom::object o;
      if (e.get(o) == simdjson::SUCCESS) out.push_back(o);
    }
    return out;
  }
  static std::string Text(const simdjson::dom::object& o, const char* key) {
    std::string_view text;
    if (o[key].get(text) != simdjson::SUCCESS) ADD_FAILURE() << "no text '" << key << "'";
    return std::string(text);
  }

 private:
  simdjson::dom::parser parser_;
  simdjson::dom::object actions_;
};

template <typename Env>
class ActionsSuite : public ::testing::Test {
 protected:
  void SetUp() override {
    BARFILL_REQUIRE_DATABASE(Env);
    env_.emplace();
  }

  void StartSim(sim::ActionFaults faults = {}, const std::string& request_faults = "") {
    sim::SimOptions options;
    options.seed = kActionsSeed;
    options.api_key = kActionsKey;
    options.action_faults = std::move(faults);
    options.fault_seed = 5;
    if (!request_faults.empty()) options.faults = *sim::FaultRates::Parse(request_faults);
    auto server = sim::SimServer::Start(options);
    ASSERT_TRUE(server) << server.error().message;
    sim_ = std::move(*server);
  }

  ChildEnv Env_() const { return {{{"POLYGON_API_KEY", kActionsKey}}, {"BARFILL_DB", "MASSIVE_API_KEY"}}; }

  /// `barfill` with these arguments and the database, the simulator and a report file added.
  CommandResult Barfill(std::vector<std::string> args, bool with_api = true) {
    args.insert(args.begin(), BarfillExe());
    args.insert(args.end(), {"--db", env_->Url()});
    if (with_api) args.insert(args.end(), {"--base-url", sim_->BaseUrl(), "--no-progress", "--report-json", Report()});
    return RunCommand(args, Env_());
  }

  CommandResult Backfill(const std::string& tickers, const std::string& timeframes, const std::string& from,
                         const std::string& to, const std::string& adjusted = "both",
                         std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"backfill", "--tickers", tickers, "--timeframes", timeframes, "--from", from,
                                     "--to", to, "--adjusted", adjusted, "--rate", "1000/s"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Barfill(args);
  }

  std::string Report() const { return dir_.File("report.json"); }

  std::unique_ptr<BarStore> OpenDb() {
    auto store = OpenStore(env_->Url());
    EXPECT_TRUE(store) << store.error().message;
    return store ? std::move(*store) : nullptr;
  }

  /// The bars of a view (or of bars with adjusted = `adjusted`) for one series in [from, to).
  BarBatch ReadRelation(BarStore& store, const std::string& relation, const Series& series, TimeRange range) {
    BarBatch out;
    const std::string timeframe = series.timeframe.ToString();
    const std::string where = relation == "bars" ? " AND adjusted = $5" : "";
    const Status read = store.InTransaction(true, [&](store::SqlSession& sql) {
      out.clear();
      return sql.Query("SELECT ts, open, high, low, close, volume, vwap, trades FROM " + relation +
                           " WHERE ticker = $1 AND timeframe = $2 AND ts >= $3 AND ts < $4" + where + " ORDER BY ts",
                       {std::string_view(series.ticker.symbol()), std::string_view(timeframe),
                        store::SqlTimestamp{range.from_ms}, store::SqlTimestamp{range.to_ms}, series.adjusted},
                       [&](const store::SqlRow& row) -> Status {
                         Bar bar;
                         bar.t = row.TimestampMs(0);
                         bar.open = row.Real(1);
                         bar.high = row.Real(2);
                         bar.low = row.Real(3);
                         bar.close = row.Real(4);
                         bar.volume = row.Real(5);
                         bar.vwap = row.Real(6);
                         bar.trades = row.IsNull(7) ? kNoTrades : row.Int(7);
                         out.push_back(bar);
                         return Ok();
                       });
    });
    EXPECT_TRUE(read) << read.error().message;
    return out;
  }

  std::vector<LedgerEntry> LedgerOf(BarStore& store, const Series& series) {
    auto ledger = store.ReadLedger(series);
    EXPECT_TRUE(ledger) << ledger.error().message;
    return ledger ? *ledger : std::vector<LedgerEntry>{};
  }

  /// Every aggregates request the simulator logged since its last reset.
  std::vector<std::pair<std::string, std::string>> AggsRequests() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (auto& r : SimRequests(sim_->BaseUrl())) {
      if (r.first.starts_with("/v2/aggs/")) out.push_back(std::move(r));
    }
    return out;
  }

  /// A logged query with its cursor decoded (the simulator's cursor carries adjusted=false).
  static std::string Decoded(const std::string& query) {
    const size_t at = query.find("cursor=");
    if (at == std::string::npos) return query;
    return query + "&" + sim::Base64UrlDecode(query.substr(at + 7)).value_or("?");
  }

  void ResetSimLog() { (void)HttpGetText(sim_->BaseUrl() + "/__reset"); }

  TempDir dir_;
  std::optional<Env> env_;
  std::unique_ptr<sim::SimServer> sim_;
};

TYPED_TEST_SUITE_P(ActionsSuite);

// For every simulator ticker with splits: the read-time split-adjusted view of the raw bars equals
// what the simulator serves with adjusted=true, bar for bar (day bars over the whole event window,
// hour bars around every split, week bars that do not straddle a split).
TYPED_TEST_P(ActionsSuite, SplitAdjustedViewEqualsTheVendorsAdjustedBars) {
  this->StartSim();
  const std::vector<std::string> tickers = TickersWithSplits();
  ASSERT_GE(tickers.size(), 5u) << "about half the universe has splits";
  CommandResult days = this->Backfill(Join(tickers), "1d,1w", "2016-01-01", "2025-12-31", "false");
  ASSERT_EQ(days.exit_code, 0) << days.err << days.out;
  const sim::Market market{kActionsSeed};
  const MarketZone ny = MarketZone::NewYork();
  int64_t compared = 0;
  int64_t compared_weeks = 0;
  for (const std::string& symbol : tickers) {
    const Ticker ticker = *Ticker::Parse(symbol);
    const std::vector<SplitRecord> splits = sim::TrueActions(kActionsSeed, ticker).splits;
    // Hour bars around each split: the days before it adjusted, from its day on not.
    for (const SplitRecord& s : splits) {
      const CommandResult hours = this->Backfill(symbol, "1h", s.execution_date.AddDays(-6).ToString(),
                                                 s.execution_date.AddDays(3).ToString(), "false", {"--skip-actions"});
      ASSERT_EQ(hours.exit_code, 0) << hours.err;
    }
    auto store = this->OpenDb();
    ASSERT_TRUE(store);
    const Timeframe day(1, Timespan::kDay);
    const TimeRange all = ny.DaysToRange(CalendarDay{2016, 1, 1}, CalendarDay{2025, 12, 31});
    const BarBatch truth = sim::GroundTruth(market, ticker, day, true, all);
    const BarBatch view = this->ReadRelation(*store, "bars_split_adjusted", Series{ticker, day, false}, all);
    ASSERT_EQ(view.size(), truth.size()) << symbol;
    for (size_t i = 0; i < truth.size(); ++i) ASSERT_EQ(view[i], truth[i]) << symbol << " 1d bar " << FormatIsoUtc(truth.t[i]);
    compared += static_cast<int64_t>(truth.size());
    for (const SplitRecord& s : splits) {
      const Timeframe hour(1, Timespan::kHour);
      const TimeRange around = ny.DaysToRange(s.execution_date.AddDays(-6), s.execution_date.AddDays(3));
      const BarBatch hour_truth = sim::GroundTruth(market, ticker, hour, true, around);
      const BarBatch hour_view = this->ReadRelation(*store, "bars_split_adjusted", Series{ticker, hour, false}, around);
      ASSERT_EQ(hour_view.size(), hour_truth.size()) << symbol;
      int before = 0;
      for (size_t i = 0; i < hour_truth.size(); ++i) {
        ASSERT_EQ(hour_view[i], hour_truth[i]) << symbol << " 1h bar " << FormatIsoUtc(hour_truth.t[i]);
        before += hour_truth.t[i] < NyDayStart(s.execution_date) ? 1 : 0;
      }
      EXPECT_GT(before, 0);
      compared += static_cast<int64_t>(hour_truth.size());
    }
    // Week bars: equal unless the week holds a split (docs/corporate-actions.md says why).
    const Timeframe week(1, Timespan::kWeek);
    const BarBatch week_truth = sim::GroundTruth(market, ticker, week, true, all);
    const BarBatch week_view = this->ReadRelation(*store, "bars_split_adjusted", Series{ticker, week, false}, all);
    ASSERT_EQ(week_view.size(), week_truth.size());
    for (size_t i = 0; i < week_truth.size(); ++i) {
      const int64_t end = NextBucketStart(week, ny, week_truth.t[i]);
      const bool straddles = std::any_of(splits.begin(), splits.end(), [&](const SplitRecord& s) {
        return NyDayStart(s.execution_date) > week_truth.t[i] && NyDayStart(s.execution_date) < end;
      });
      if (straddles) continue;
      ASSERT_EQ(week_view[i], week_truth[i]) << symbol << " 1w bar " << FormatIsoUtc(week_truth.t[i]);
      ++compared_weeks;
    }
  }
  EXPECT_GT(compared, 20000);
  EXPECT_GT(compared_weeks, 1000);

  // `barfill export --adjust splits` gives the same bars as the view, as text.
  const std::string& symbol = tickers.front();
  const CommandResult exported = this->Barfill({"export", "--ticker", symbol, "--timeframe", "1d", "--from", "2016-01-01",
                                                "--to", "2025-12-31", "--adjust", "splits", "--timestamps", "ms"},
                                               false);
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const BarBatch truth = sim::GroundTruth(market, *Ticker::Parse(symbol), Timeframe(1, Timespan::kDay), true,
                                          ny.DaysToRange(CalendarDay{2016, 1, 1}, CalendarDay{2025, 12, 31}));
  std::istringstream lines(exported.out);
  std::string line;
  std::getline(lines, line);  // header
  size_t row = 0;
  for (; std::getline(lines, line); ++row) {
    ASSERT_LT(row, truth.size());
    const Bar b = truth[row];
    char want[256];
    std::snprintf(want, sizeof want, "%lld,", static_cast<long long>(b.t));
    std::string expected = want;
    for (const double v : {b.open, b.high, b.low, b.close, b.volume, b.vwap}) {
      char number[32];
      expected += std::string(number, std::to_chars(number, number + sizeof number, v).ptr) + ",";
    }
    expected += std::to_string(b.trades);
    ASSERT_EQ(line, expected) << "row " << row;
  }
  EXPECT_EQ(row, truth.size());
}

// A split inserted into the vendor's table after a first backfill: the next run marks exactly the
// affected adjusted ranges stale, fetches only those, and the database equals the new ground
// truth; the raw bars are neither changed nor fetched again. Removing it again works the same way,
// through `barfill actions sync --refresh-stale`.
TYPED_TEST_P(ActionsSuite, AnInsertedSplitMakesExactlyTheAdjustedRangesBeforeItStale) {
  this->StartSim();
  // A stock without dividends or splits in 2025, and a bystander.
  std::string edited;
  for (const std::string& s : BaselineStocks()) {
    if (sim::TrueActions(kActionsSeed, *Ticker::Parse(s)).splits.empty()) {
      edited = s;
      break;
    }
  }
  ASSERT_FALSE(edited.empty());
  const std::string bystander = edited == "AAPL" ? "MSFT" : "AAPL";
  const std::string plan_tickers = edited + "," + bystander + ",X:BTCUSD";
  CommandResult first = this->Backfill(plan_tickers, "1d,1h", "2025-01-01", "2025-09-30");
  ASSERT_EQ(first.exit_code, 0) << first.err << first.out;

  auto store = this->OpenDb();
  ASSERT_TRUE(store);
  const Ticker ticker = *Ticker::Parse(edited);
  std::map<std::string, BarBatch> raw_before;
  const TimeRange year{NyDayStart(CalendarDay{2025, 1, 1}), NyDayStart(CalendarDay{2025, 10, 1})};
  for (const char* tf : {"1d", "1h"}) {
    raw_before[tf] = this->ReadRelation(*store, "bars", Series{ticker, *Timeframe::Parse(tf), false}, year);
    ASSERT_FALSE(raw_before[tf].empty());
  }
  store.reset();

  const CalendarDay split_day{2025, 6, 2};
  auto id = this->sim_->EditSplits(sim::SplitEdit{edited, false, "", split_day, 1, 3});
  ASSERT_TRUE(id) << id.error().message;
  this->ResetSimLog();
  CommandResult second = this->Backfill(plan_tickers, "1d,1h", "2025-01-01", "2025-09-30");
  ASSERT_EQ(second.exit_code, 0) << second.err << second.out;
  EXPECT_THAT(second.out, ::testing::HasSubstr("Stale adjusted ranges"));

  // The report lists exactly the edited ticker's adjusted series, from the plan's start to the split.
  ActionsJson report(this->Report());
  ASSERT_TRUE(report.ok);
  std::set<std::string> stale;
  for (const simdjson::dom::object& m : report.Objects("stale")) {
    stale.insert(ActionsJson::Text(m, "ticker") + " " + ActionsJson::Text(m, "timeframe") + " " +
                 ActionsJson::Text(m, "from") + ".." + ActionsJson::Text(m, "to"));
  }
  const std::string start = FormatIsoUtc(NyDayStart(CalendarDay{2025, 1, 1}));
  const std::string split_start = FormatIsoUtc(NyDayStart(split_day));
  EXPECT_EQ(stale, (std::set<std::string>{edited + " 1d " + start + ".." + split_start,
                                          edited + " 1h " + start + ".." + split_start}));

  // Only those were fetched: adjusted requests of the edited ticker that end before the split.
  const auto requests = this->AggsRequests();
  ASSERT_FALSE(requests.empty());
  for (const auto& [path, query] : requests) {
    EXPECT_THAT(path, ::testing::HasSubstr("/ticker/" + edited + "/")) << path;
    EXPECT_THAT(this->Decoded(query), ::testing::Not(::testing::HasSubstr("adjusted=false"))) << path << "?" << query;
    const std::string to = path.substr(path.rfind('/') + 1);
    EXPECT_LT(std::stoll(to), NyDayStart(split_day)) << path;
  }

  // The database equals the new ground truth, adjusted and raw; raw bars are what they were.
  store = this->OpenDb();
  ASSERT_TRUE(store);
  engine::Plan plan = *engine::ParsePlan(
      engine::PlanText{"", engine::SplitList(plan_tickers), {"1d", "1h"}, "2025-01-01", "2025-09-30", true, true},
      TodayUtc());
  auto diffs = DiffStoreWithGroundTruth(*store, this->sim_->CurrentMarket(), plan);
  EXPECT_TRUE(diffs.empty()) << Describe(diffs);
  for (const char* tf : {"1d", "1h"}) {
    EXPECT_EQ(this->ReadRelation(*store, "bars", Series{ticker, *Timeframe::Parse(tf), false}, year), raw_before[tf]) << tf;
    for (const LedgerEntry& e : this->LedgerOf(*store, Series{ticker, *Timeframe::Parse(tf), true})) {
      EXPECT_NE(e.state, ChunkState::kStale) << "fetched again";
    }
  }
  store.reset();

  // The vendor removes it again: a sync alone marks the same ranges stale; --refresh-stale fetches them.
  auto removed = this->sim_->EditSplits(sim::SplitEdit{edited, true, *id, {}, 1, 1});
  ASSERT_TRUE(removed) << removed.error().message;
  CommandResult status_before = this->Barfill({"status"}, false);
  this->ResetSimLog();
  CommandResult sync = this->Barfill({"actions", "sync", "--tickers", edited, "--refresh-stale"});
  ASSERT_EQ(sync.exit_code, 0) << sync.err << sync.out;
  EXPECT_THAT(sync.out, ::testing::HasSubstr("1 removed"));
  for (const auto& [path, query] : this->AggsRequests()) {
    EXPECT_THAT(this->Decoded(query), ::testing::Not(::testing::HasSubstr("adjusted=false"))) << path;
    EXPECT_LT(std::stoll(path.substr(path.rfind('/') + 1)), NyDayStart(split_day)) << path;
  }
  store = this->OpenDb();
  diffs = DiffStoreWithGroundTruth(*store, this->sim_->CurrentMarket(), plan);
  EXPECT_TRUE(diffs.empty()) << Describe(diffs);
  const CommandResult status = this->Barfill({"status"}, false);
  EXPECT_THAT(status.out, ::testing::HasSubstr(edited));
  EXPECT_THAT(status.out, ::testing::Not(::testing::HasSubstr("stale ranges")));
}

// The vendor lists two different ratios for one day: both rows are stored, flagged, reported and
// not used, so the view leaves those days unadjusted; resolved (by --prefer price-jump, or by hand)
// the view equals the vendor's adjusted bars again.
TYPED_TEST_P(ActionsSuite, ConflictingSplitRowsAreFlaggedAndUnusedUntilResolved) {
  std::string symbol;
  for (const std::string& s : TickersWithSplits()) {
    if (sim::TrueActions(kActionsSeed, *Ticker::Parse(s)).splits.back().execution_date.year >= 2017) symbol = s;
  }
  ASSERT_FALSE(symbol.empty());
  sim::ActionFaults faults;
  faults.conflicting = {symbol};
  this->StartSim(faults);
  const SplitRecord latest = sim::ListedActions(sim::Market{kActionsSeed}, *Ticker::Parse(symbol)).splits.back();
  const CalendarDay from = latest.execution_date.AddDays(-40);
  const CalendarDay to = latest.execution_date.AddDays(10);
  CommandResult run = this->Backfill(symbol, "1d", from.ToString(), to.ToString(), "both");
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  EXPECT_THAT(run.out, ::testing::HasSubstr("flagged conflict: " + symbol));
  ActionsJson report(this->Report());
  ASSERT_TRUE(report.ok);
  const auto tickers = report.Objects("tickers");
  ASSERT_EQ(tickers.size(), 1u);
  const auto flagged = report.Objects("flagged", &tickers[0]);
  ASSERT_EQ(flagged.size(), 2u);
  std::set<std::string> flagged_ids;
  for (const simdjson::dom::object& f : flagged) {
    EXPECT_EQ(ActionsJson::Text(f, "status"), "conflict");
    flagged_ids.insert(ActionsJson::Text(f, "id"));
  }
  EXPECT_EQ(flagged_ids.count(latest.id), 1u);

  const Ticker ticker = *Ticker::Parse(symbol);
  const Timeframe day(1, Timespan::kDay);
  const TimeRange range = MarketZone::NewYork().DaysToRange(from, to);
  const BarBatch vendor = sim::GroundTruth(sim::Market{kActionsSeed}, ticker, day, true, range);
  auto view_now = [&] {
    auto store = this->OpenDb();
    return this->ReadRelation(*store, "bars_split_adjusted", Series{ticker, day, false}, range);
  };
  {
    auto store = this->OpenDb();
    const BarBatch raw = this->ReadRelation(*store, "bars", Series{ticker, day, false}, range);
    const BarBatch view = view_now();
    ASSERT_EQ(view.size(), raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw.t[i] < NyDayStart(latest.execution_date)) {
        EXPECT_NE(view[i].close, vendor[i].close) << "the conflicting split is not applied";
      }
    }
    const CommandResult status = this->Barfill({"status"}, false);
    EXPECT_THAT(status.out, ::testing::HasSubstr("conflict " + latest.id));
  }
  // Nothing decides without bars around the day: --prefer price-jump reads them.
  CommandResult prefer = this->Barfill({"actions", "sync", "--tickers", symbol, "--prefer", "price-jump"});
  ASSERT_EQ(prefer.exit_code, 0) << prefer.err << prefer.out;
  EXPECT_THAT(prefer.out, ::testing::HasSubstr("used " + latest.id));
  EXPECT_EQ(view_now(), vendor) << "resolved: the view equals the vendor's adjusted bars";

  // A decision by hand wins over the rule: ignoring the real row leaves the day unadjusted again.
  CommandResult ignore = this->Barfill({"actions", "resolve", "--id", latest.id, "--ignore"}, false);
  ASSERT_EQ(ignore.exit_code, 0) << ignore.err;
  EXPECT_NE(view_now(), vendor);
  CommandResult use = this->Barfill({"actions", "resolve", "--id", latest.id, "--use", "--note", "checked the filing"}, false);
  ASSERT_EQ(use.exit_code, 0) << use.err;
  EXPECT_EQ(view_now(), vendor);
}

// v1 and v3 disagree: barfill reads v1, and with --compare-v3 says where v3 differs.
TYPED_TEST_P(ActionsSuite, V3DisagreeingWithV1IsReported) {
  sim::ActionFaults faults;
  faults.v3_disagrees = true;
  this->StartSim(faults);
  const std::string symbol = TickersWithSplits().front();
  const SplitRecord latest = sim::ListedActions(sim::Market{kActionsSeed}, *Ticker::Parse(symbol)).splits.back();
  CommandResult sync = this->Barfill({"actions", "sync", "--tickers", symbol, "--compare-v3"});
  ASSERT_EQ(sync.exit_code, 0) << sync.err;
  EXPECT_THAT(sync.out, ::testing::HasSubstr(symbol + ": v1 lists split " + latest.execution_date.ToString()));
  EXPECT_THAT(sync.out, ::testing::HasSubstr(latest.id + "), v3 does not (barfill uses v1)"));
  auto store = this->OpenDb();
  auto factors = ReadFactorRanges(*store, symbol);
  ASSERT_TRUE(factors);
  ASSERT_FALSE(factors->empty());
  const FactorRange* before = FactorFor(*factors, latest.execution_date.AddDays(-1));
  ASSERT_NE(before, nullptr);
  EXPECT_DOUBLE_EQ(before->split_price, latest.split_from / latest.split_to) << "the split only v1 lists is used";
}

// Bad input gets one line, a distinct exit code, and leaves the database as it was (here: absent).
TYPED_TEST_P(ActionsSuite, BadInputIsOneClearLine) {
  this->StartSim();
  const auto one_line = [](const CommandResult& r) {
    return std::count(r.err.begin(), r.err.end(), '\n') == 1 && r.err.starts_with("error: ");
  };
  CommandResult crypto = this->Barfill({"actions", "sync", "--tickers", "AAPL,X:BTCUSD"});
  EXPECT_EQ(crypto.exit_code, 2);
  EXPECT_TRUE(one_line(crypto)) << crypto.err;
  EXPECT_THAT(crypto.err, ::testing::HasSubstr("X:BTCUSD is a crypto ticker; corporate actions exist only for stocks"));
  CommandResult unknown = this->Barfill({"actions", "sync", "--tickers", "btcusd"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(one_line(unknown)) << unknown.err;
  EXPECT_THAT(unknown.err, ::testing::HasSubstr("--tickers"));
  CommandResult prefer = this->Barfill({"actions", "sync", "--tickers", "AAPL", "--prefer", "newest"});
  EXPECT_EQ(prefer.exit_code, 2);
  EXPECT_TRUE(one_line(prefer)) << prefer.err;
  // Nothing was created by any of them.
  CommandResult status = this->Barfill({"status"}, false);
  EXPECT_NE(status.exit_code, 0);

  ASSERT_EQ(this->Backfill("AAPL", "1d", "2025-01-02", "2025-01-31", "both").exit_code, 0);
  CommandResult export_crypto = this->Barfill({"export", "--ticker", "X:BTCUSD", "--timeframe", "1d", "--adjust", "splits"}, false);
  EXPECT_EQ(export_crypto.exit_code, 2);
  EXPECT_TRUE(one_line(export_crypto)) << export_crypto.err;
  CommandResult export_unsynced = this->Barfill({"export", "--ticker", "MSFT", "--timeframe", "1d", "--adjust", "splits"}, false);
  EXPECT_EQ(export_unsynced.exit_code, 2);
  EXPECT_THAT(export_unsynced.err, ::testing::HasSubstr("barfill actions sync --tickers MSFT"));
  CommandResult both = this->Barfill({"export", "--ticker", "AAPL", "--timeframe", "1d", "--adjust", "splits", "--adjusted", "true"}, false);
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_TRUE(one_line(both)) << both.err;
  CommandResult no_such = this->Barfill({"actions", "resolve", "--id", "Enope", "--use"}, false);
  EXPECT_EQ(no_such.exit_code, 2);
  EXPECT_THAT(no_such.err, ::testing::HasSubstr("no split with id Enope"));
}

// A database schema 2 wrote (before corporate actions): `barfill migrate` upgrades it in one step,
// keeps its bars and ledger, and the ledger then takes stale ranges and the views answer.
TYPED_TEST_P(ActionsSuite, UpgradesASchema2Database) {
  const bool pg = TypeParam::kIsPostgres;
  const std::string ts = pg ? "timestamptz" : "INTEGER";
  const std::string real = pg ? "double precision" : "REAL";
  const std::string flag = pg ? "boolean" : "INTEGER";
  const std::string text = pg ? "text" : "TEXT";
  const std::string big = pg ? "bigint" : "INTEGER";
  // Schema 2 as it was created, check of the ledger's states included.
  this->env_->ExecSql("CREATE TABLE barfill_meta (key text PRIMARY KEY, value text NOT NULL)");
  this->env_->ExecSql("CREATE TABLE bars (ticker " + text + " NOT NULL, timeframe " + text + " NOT NULL, adjusted " + flag +
                      " NOT NULL, ts " + ts + " NOT NULL, open " + real + " NOT NULL, high " + real + " NOT NULL, low " +
                      real + " NOT NULL, close " + real + " NOT NULL, volume " + real + " NOT NULL, vwap " + real +
                      ", trades " + big + ", PRIMARY KEY (ticker, timeframe, adjusted, ts))");
  this->env_->ExecSql("CREATE TABLE barfill_ledger (ticker text NOT NULL, timeframe text NOT NULL, adjusted " + flag +
                      " NOT NULL, from_ts " + ts + " NOT NULL, to_ts " + ts +
                      " NOT NULL, state text NOT NULL CHECK (state IN ('done', 'failed', 'empty')), rows bigint NOT "
                      "NULL, attempts bigint NOT NULL, last_error text, updated_at " + ts +
                      " NOT NULL, requests bigint NOT NULL DEFAULT 0, base_aggregates bigint, PRIMARY KEY (ticker, "
                      "timeframe, adjusted, from_ts, to_ts))");
  this->env_->ExecSql("INSERT INTO barfill_meta VALUES ('schema_version', '2')");
  const std::string t0 = pg ? "'2025-01-02T05:00:00Z'" : std::to_string(NyDayStart(CalendarDay{2025, 1, 2}));
  const std::string t1 = pg ? "'2025-01-03T05:00:00Z'" : std::to_string(NyDayStart(CalendarDay{2025, 1, 3}));
  const std::string no = pg ? "false" : "0";
  const std::string yes = pg ? "true" : "1";
  this->env_->ExecSql("INSERT INTO bars VALUES ('AAPL', '1d', " + no + ", " + t0 + ", 10, 11, 9, 10.5, 100, 10.2, 7)");
  this->env_->ExecSql("INSERT INTO barfill_ledger VALUES ('AAPL', '1d', " + yes + ", " + t0 + ", " + t1 +
                      ", 'done', 1, 1, NULL, " + t1 + ", 1, 1)");
  const std::string stale_row = "INSERT INTO barfill_ledger VALUES ('AAPL', '1h', " + yes + ", " + t0 + ", " + t1 +
                                ", 'stale', 0, 1, 'test', " + t1 + ", 0, NULL)";
  EXPECT_ANY_THROW(this->env_->ExecSql(stale_row)) << "schema 2 knows no stale ranges";

  const CommandResult migrated = this->Barfill({"migrate"}, false);
  ASSERT_EQ(migrated.exit_code, 0) << migrated.err;
  EXPECT_THAT(migrated.out, ::testing::HasSubstr("from schema version 4 to 5: corporate actions"));
  EXPECT_NO_THROW(this->env_->ExecSql(stale_row));
  auto store = this->OpenDb();
  ASSERT_TRUE(store);
  const auto ledger = this->LedgerOf(*store, Series{*Ticker::Parse("AAPL"), Timeframe(1, Timespan::kDay), true});
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0].state, ChunkState::kDone);
  const TimeRange day{NyDayStart(CalendarDay{2025, 1, 2}), NyDayStart(CalendarDay{2025, 1, 3})};
  const BarBatch view =
      this->ReadRelation(*store, "bars_split_adjusted", Series{*Ticker::Parse("AAPL"), Timeframe(1, Timespan::kDay), false}, day);
  ASSERT_EQ(view.size(), 1u);
  EXPECT_EQ(view.close[0], 10.5) << "no actions stored yet: the raw bar";
  const CommandResult again = this->Barfill({"migrate"}, false);
  EXPECT_THAT(again.out, ::testing::HasSubstr("up to date"));
}

// Corporate actions ride the same limiter and retries as bars: resets, 429s, 5xx and broken JSON
// cost retries, and what is stored is exactly the vendor's table, whatever page failed.
TYPED_TEST_P(ActionsSuite, SyncRidesOutRequestFaults) {
  // About 40% of the requests fail (the dice are seeded, so the run is the same every time); v3 is
  // compared too, for one more request per ticker.
  this->StartSim({}, "reset=0.15,http429=0.1,http5xx=0.1,badjson=0.05");
  const std::vector<std::string> tickers = TickersWithSplits();
  CommandResult sync = this->Barfill({"actions", "sync", "--tickers", Join(tickers), "--rate", "1000/s", "--compare-v3"});
  ASSERT_EQ(sync.exit_code, 0) << sync.err << sync.out;
  const sim::SimStats stats = this->sim_->Stats();
  EXPECT_GT(stats.reset + stats.http429 + stats.http5xx + stats.badjson, 0) << "faults were injected";
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.load(this->Report()).get(root), simdjson::SUCCESS);
  int64_t retried = -1;
  int64_t actions_requests = -1;
  ASSERT_EQ(root["requests"]["retried"].get(retried), simdjson::SUCCESS);
  ASSERT_EQ(root["actions"]["requests"].get(actions_requests), simdjson::SUCCESS);
  EXPECT_GT(retried, 0);
  EXPECT_EQ(actions_requests, stats.requests) << "every request the simulator saw is counted";
  auto store = this->OpenDb();
  ASSERT_TRUE(store);
  for (const std::string& symbol : tickers) {
    auto factors = ReadFactorRanges(*store, symbol);
    ASSERT_TRUE(factors);
    const sim::Market market{kActionsSeed};
    const Ticker ticker = *Ticker::Parse(symbol);
    const std::vector<FactorRange> truth = sim::ListedSplitFactors(market, ticker);
    for (const FactorRange& r : truth) {
      const FactorRange* stored = FactorFor(*factors, r.from_day);
      ASSERT_NE(stored, nullptr) << symbol;
      EXPECT_EQ(stored->split_price, r.split_price) << symbol << " " << r.from_day.ToString();
    }
  }
}

// `--actions-max-age` spares frequent runs the sync: a backfill repeated within it asks nothing and
// changes nothing; without it every run syncs (and a split added since is seen).
TYPED_TEST_P(ActionsSuite, ARunWithinTheMaxAgeAsksNothing) {
  this->StartSim();
  ASSERT_EQ(this->Backfill("AAPL,MSFT", "1d", "2025-01-02", "2025-03-31", "both").exit_code, 0);
  this->ResetSimLog();
  CommandResult again = this->Backfill("AAPL,MSFT", "1d", "2025-01-02", "2025-03-31", "both", {"--actions-max-age", "12"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(this->sim_->Stats().requests, 0);
  this->ResetSimLog();
  CommandResult every = this->Backfill("AAPL,MSFT", "1d", "2025-01-02", "2025-03-31", "both");
  ASSERT_EQ(every.exit_code, 0) << every.err;
  EXPECT_EQ(this->sim_->Stats().actions_requests, 2) << "splits and dividends of both tickers, one request each";
  EXPECT_EQ(this->sim_->Stats().data_requests, 0) << "no bars to fetch";
}

REGISTER_TYPED_TEST_SUITE_P(ActionsSuite, SplitAdjustedViewEqualsTheVendorsAdjustedBars,
                            AnInsertedSplitMakesExactlyTheAdjustedRangesBeforeItStale,
                            ConflictingSplitRowsAreFlaggedAndUnusedUntilResolved, V3DisagreeingWithV1IsReported,
                            BadInputIsOneClearLine, UpgradesASchema2Database, SyncRidesOutRequestFaults,
                            ARunWithinTheMaxAgeAsksNothing);

}  // namespace barfill::testing
