// End to end, as a user runs it: the simulator with holes, halts and revisions on, `barfill
// backfill` into SQLite or PostgreSQL, then `barfill gaps`, `barfill repair` and a re-run that
// refreshes the recent sessions, each checked against the simulator's own account of what it
// injected (GET /__injected) and its ground truth.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "calendar/exchange_calendar.h"
#include "engine/plan.h"
#include "engine/revision.h"
#include "sim/sim_server.h"
#include "store/bar_store.h"
#include "store/store_env.h"
#include "testing/ground_truth_check.h"
#include "testing/http_get.h"
#include "testing/report_json.h"
#include "testing/subprocess.h"

namespace barfill::testing {
namespace {

constexpr uint64_t kSeed = 13;
constexpr const char* kKey = "quality-key";
// Liquid tickers get the events; THIN (2% of minutes, ~17 bars a session) and DUST (0.2%, ~2 a
// session, many empty days) must never be flagged, nor the index, nor any holiday or half day.
constexpr const char* kTickers = "AAPL,MSFT,THIN,DUST,I:SPX,X:BTCUSD";
const std::vector<std::string> kEventTickers = {"AAPL", "MSFT", "X:BTCUSD"};

/// One event of /__injected.
struct Injected {
  std::string kind;
  std::string ticker;
  std::string day;
};

/// One range of `barfill gaps --json`.
struct GapRangeJson {
  std::string series;  ///< "AAPL 1m"
  std::string cls;
  std::string from;
  std::string to;
  int64_t bars = 0;
  int64_t checks = 0;
  bool retry_at = false;
  std::string reason;
};

std::string Str(simdjson::dom::element e, const char* key) {
  std::string_view v;
  return e[key].get(v) == simdjson::SUCCESS ? std::string(v) : std::string();
}

int64_t Int(simdjson::dom::element e, const char* key) {
  int64_t v = -1;
  return e[key].get(v) == simdjson::SUCCESS ? v : -1;
}

class DataQualityEndToEnd : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgresql") {
      BARFILL_REQUIRE_DATABASE(PostgresEnv);
      pg_.emplace();
      db_ = pg_->Url();
    } else {
      db_ = "sqlite:" + dir_.File("bars.db");
    }
  }

  /// Holes and halts on the liquid tickers, two thin tickers.
  static sim::SimOptions EventOptions() {
    sim::SimOptions options;
    options.faults.hole = 0.03;
    options.faults.halt = 0.04;
    options.event_tickers = kEventTickers;
    options.activity = {{"THIN", 0.02}, {"DUST", 0.002}};
    return options;
  }

  void StartSim(sim::SimOptions options) {
    options.seed = kSeed;
    options.fault_seed = 21;
    options.api_key = kKey;
    auto server = sim::SimServer::Start(options);
    ASSERT_TRUE(server) << server.error().message;
    sim_ = std::move(*server);
  }

  CommandResult Barfill(std::vector<std::string> args, bool api = false) {
    args.insert(args.begin(), BarfillExe());
    args.insert(args.end(), {"--db", db_});
    if (api) args.insert(args.end(), {"--base-url", sim_->BaseUrl(), "--no-progress", "--rate", "1000/s", "--concurrency", "2"});
    return RunCommand(args, {{{"POLYGON_API_KEY", kKey}}, {"BARFILL_DB", "MASSIVE_API_KEY"}});
  }

  CommandResult Backfill(const std::string& tickers, const std::string& timeframes, const std::string& from,
                         const std::string& to, std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"backfill", "--tickers", tickers, "--timeframes", timeframes, "--from", from, "--to", to};
    args.insert(args.end(), more.begin(), more.end());
    return Barfill(args, true);
  }

  int64_t DataRequestsSinceReset() {
    const std::string stats = HttpGetText(sim_->BaseUrl() + "/__stats");
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    EXPECT_EQ(parser.parse(stats).get(root), simdjson::SUCCESS) << stats;
    return Int(root, "data_requests");
  }

  std::vector<Injected> InjectedEvents(const std::string& from, const std::string& to) {
    const std::string body = HttpGetText(sim_->BaseUrl() + "/__injected?from=" + from + "&to=" + to);
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    std::vector<Injected> events;
    EXPECT_EQ(parser.parse(body).get(root), simdjson::SUCCESS) << body;
    for (simdjson::dom::element e : root["events"].get_array()) {
      events.push_back({Str(e, "kind"), Str(e, "ticker"), Str(e, "day")});
    }
    return events;
  }

  std::vector<GapRangeJson> GapsJson(std::vector<std::string> args = {}) {
    args.insert(args.begin(), {"gaps", "--json"});
    const CommandResult gaps = Barfill(args);
    EXPECT_TRUE(gaps.exit_code == 0 || gaps.exit_code == 1) << gaps.err;
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    std::vector<GapRangeJson> ranges;
    EXPECT_EQ(parser.parse(gaps.out).get(root), simdjson::SUCCESS) << gaps.out.substr(0, 300);
    for (simdjson::dom::element s : root["series"].get_array()) {
      const std::string series = Str(s, "ticker") + " " + Str(s, "timeframe");
      for (simdjson::dom::element r : s["ranges"].get_array()) {
        simdjson::dom::element retry;
        const bool has_retry = r["retry_at"].get(retry) == simdjson::SUCCESS && !retry.is_null();
        ranges.push_back({series, Str(r, "class"), Str(r, "from"), Str(r, "to"), Int(r, "bars"),
                          std::max<int64_t>(0, Int(r, "checks")), has_retry, Str(r, "reason")});
      }
    }
    return ranges;
  }

  /// "AAPL 1m 2024-11-21" for every suspicious session.
  static std::set<std::string> Suspicious(const std::vector<GapRangeJson>& ranges) {
    std::set<std::string> out;
    for (const GapRangeJson& r : ranges) {
      if (r.cls != "suspicious") continue;
      EXPECT_EQ(r.from, r.to) << "a suspicious range is one session";
      out.insert(r.series + " " + r.from);
    }
    return out;
  }

  /// What gaps must find: a hole in every series of its ticker, a halt in the minute series (a
  /// day bar is there all the same, and 4-5 missing hours of 16 are within what a sparse hour
  /// series shows: docs/data-quality.md).
  static std::set<std::string> Expected(const std::vector<Injected>& events, const std::vector<std::string>& timeframes) {
    std::set<std::string> out;
    for (const Injected& e : events) {
      for (const std::string& tf : timeframes) {
        if (e.kind == "hole" || (e.kind == "halt" && tf == "1m")) out.insert(e.ticker + " " + tf + " " + e.day);
      }
    }
    return out;
  }

  std::unique_ptr<BarStore> Store() {
    auto store = OpenStore(db_);
    EXPECT_TRUE(store) << store.error().message;
    return store ? std::move(*store) : nullptr;
  }

  TempDir dir_;
  std::optional<PostgresEnv> pg_;
  std::string db_;
  std::unique_ptr<sim::SimServer> sim_;
};

TEST_P(DataQualityEndToEnd, GapsListsExactlyTheInjectedHolesAndHalts) {
  StartSim(EventOptions());
  const CommandResult run = Backfill(kTickers, "1m,1h,1d", "2024-11-01", "2025-01-31");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::vector<Injected> events = InjectedEvents("2024-11-01", "2025-01-31");
  const std::set<std::string> expected = Expected(events, {"1m", "1h", "1d"});
  ASSERT_GE(expected.size(), 15u) << "the simulator injected holes and halts";
  const std::vector<GapRangeJson> ranges = GapsJson();
  EXPECT_EQ(Suspicious(ranges), expected);

  // Holidays and special closings are non-trading in every NYSE series; half days are early
  // closes; crypto has neither; nothing is left unfetched.
  const std::set<std::string> closings = {"2024-11-28", "2024-12-25", "2025-01-01", "2025-01-09", "2025-01-20"};
  const std::set<std::string> half_days = {"2024-11-29", "2024-12-24"};
  std::map<std::string, std::set<std::string>> non_trading;
  std::map<std::string, std::set<std::string>> early;
  for (const GapRangeJson& r : ranges) {
    EXPECT_NE(r.cls, "never_fetched") << r.series << " " << r.from;
    EXPECT_NE(r.cls, "failed") << r.series << " " << r.from;
    if (r.cls == "non_trading") {
      EXPECT_EQ(r.from, r.to);
      EXPECT_FALSE(r.reason.empty());
      non_trading[r.series].insert(r.from);
    }
    if (r.cls == "early_close") early[r.series].insert(r.from);
  }
  for (const char* ticker : {"AAPL", "MSFT", "THIN", "DUST", "I:SPX"}) {
    for (const char* tf : {"1m", "1h", "1d"}) {
      const std::string series = std::string(ticker) + " " + tf;
      EXPECT_EQ(non_trading[series], closings) << series;
      // A half day holding a hole is suspicious instead.
      std::set<std::string> half = half_days;
      for (const std::string& s : expected) {
        if (s.rfind(series + " ", 0) == 0) half.erase(s.substr(series.size() + 1));
      }
      EXPECT_EQ(early[series], half) << series;
    }
  }
  EXPECT_TRUE(non_trading["X:BTCUSD 1m"].empty());

  // The table: one line per problem and the totals; exit 1 says there is something to look at.
  const CommandResult table = Barfill({"gaps"});
  EXPECT_EQ(table.exit_code, 1) << table.err;
  for (const std::string& s : expected) {
    const size_t day_at = s.rfind(' ');
    const std::string series = s.substr(0, day_at);
    const std::string day = s.substr(day_at + 1);
    bool found = false;
    for (const std::string& line : {table.out}) {
      size_t at = 0;
      while ((at = line.find(series + " ", at)) != std::string::npos) {
        const std::string row = line.substr(at, line.find('\n', at) - at);
        found = found || (row.find("suspicious") != std::string::npos && row.find(day) != std::string::npos);
        ++at;
      }
    }
    EXPECT_TRUE(found) << s << " in\n" << table.out;
  }
  EXPECT_NE(table.out.find("totals: 18 series (9 with problems)"), std::string::npos) << table.out;
  // The thin tickers and the index alone: nothing to report.
  const CommandResult clean = Barfill({"gaps", "--tickers", "THIN,DUST,I:SPX"});
  EXPECT_EQ(clean.exit_code, 0) << clean.out;
  EXPECT_NE(clean.out.find("no problems"), std::string::npos) << clean.out;
}

TEST_P(DataQualityEndToEnd, RepairFillsTheHolesOnceAndTheDatabaseEqualsTheFinalGroundTruth) {
  StartSim(EventOptions());
  ASSERT_EQ(Backfill(kTickers, "1m,1h,1d", "2024-11-01", "2025-01-31").exit_code, 0);
  const std::vector<Injected> events = InjectedEvents("2024-11-01", "2025-01-31");
  const std::set<std::string> flagged = Suspicious(GapsJson());
  ASSERT_EQ(flagged, Expected(events, {"1m", "1h", "1d"}));

  // The bars the holes held in the end: what the repair must add.
  const sim::Market& market = sim_->TheMarket();
  int64_t hole_bars = 0;
  for (const Injected& e : events) {
    if (e.kind != "hole") continue;
    const Ticker ticker = *Ticker::Parse(e.ticker);
    const CalendarDay day = *CalendarDay::Parse(e.day);
    for (const char* tf : {"1m", "1h", "1d"}) {
      hole_bars += static_cast<int64_t>(
          sim::GroundTruth(market, ticker, *Timeframe::Parse(tf), true, ticker.zone().DaysToRange(day, day)).size());
    }
  }
  ASSERT_GT(hole_bars, 0);

  HttpGetText(sim_->BaseUrl() + "/__reset");
  const std::string report = dir_.File("repair.json");
  const CommandResult repair = Barfill({"repair", "--report-json", report}, true);
  ASSERT_EQ(repair.exit_code, 0) << repair.err << repair.out;
  EXPECT_EQ(DataRequestsSinceReset(), static_cast<int64_t>(flagged.size())) << "one request per range, no more";
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(ReadFileBytes(report)).get(root), simdjson::SUCCESS);
  EXPECT_EQ(Int(root["verified"], "added"), hole_bars);
  EXPECT_EQ(Int(root["verified"], "removed"), 0);
  EXPECT_EQ(Int(root["verified"], "revised"), 0);
  EXPECT_EQ(root["verified"]["ranges"].get_array().size(), flagged.size());
  EXPECT_NE(repair.out.find("bars added"), std::string::npos) << repair.out;

  // Every bar is the vendor's final one, each exactly once (the halts are real: they stay).
  auto store = Store();
  ASSERT_TRUE(store);
  const engine::Plan plan = *engine::ParsePlan(
      engine::PlanText{"", engine::SplitList(kTickers), {"1m", "1h", "1d"}, "2024-11-01", "2025-01-31"}, TodayUtc());
  const auto diffs = DiffStoreWithGroundTruth(*store, market, plan);
  EXPECT_TRUE(diffs.empty()) << Describe(diffs);

  // The halts are still suspicious, verified once, with a time to try again.
  const std::vector<GapRangeJson> after = GapsJson();
  std::set<std::string> halts;
  for (const Injected& e : events) {
    if (e.kind == "halt") halts.insert(e.ticker + " 1m " + e.day);
  }
  EXPECT_EQ(Suspicious(after), halts);
  for (const GapRangeJson& r : after) {
    if (r.cls != "suspicious") continue;
    EXPECT_EQ(r.checks, 1) << r.series << " " << r.from;
    EXPECT_TRUE(r.retry_at) << r.series << " " << r.from;
  }

  // Twice in a row: the second makes no data request.
  HttpGetText(sim_->BaseUrl() + "/__reset");
  const CommandResult again = Barfill({"repair"}, true);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(DataRequestsSinceReset(), 0);
  EXPECT_NE(again.out.find("nothing to fetch again; " + std::to_string(halts.size()) + " suspicious range(s) wait"),
            std::string::npos)
      << again.out;
}

TEST_P(DataQualityEndToEnd, RepairTriesASuspiciousRangeAgainOnceItsTimeHasCome) {
  StartSim(EventOptions());
  ASSERT_EQ(Backfill("AAPL,MSFT,X:BTCUSD", "1m", "2024-11-01", "2024-12-31").exit_code, 0);
  std::set<std::string> halts;
  for (const Injected& e : InjectedEvents("2024-11-01", "2024-12-31")) {
    if (e.kind == "halt") halts.insert(e.ticker + " 1m " + e.day);
  }
  ASSERT_FALSE(halts.empty());
  // A first repair that wants a second look at once...
  ASSERT_EQ(Barfill({"repair", "--recheck-after", "0s"}, true).exit_code, 0);
  // ...gets it: only the halts, still there, fetched again and unchanged.
  HttpGetText(sim_->BaseUrl() + "/__reset");
  const std::string report = dir_.File("again.json");
  const CommandResult again = Barfill({"repair", "--recheck-after", "2h", "--report-json", report}, true);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(DataRequestsSinceReset(), static_cast<int64_t>(halts.size()));
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(ReadFileBytes(report)).get(root), simdjson::SUCCESS);
  EXPECT_EQ(Int(root["verified"], "added") + Int(root["verified"], "removed") + Int(root["verified"], "revised"), 0);
  for (const GapRangeJson& r : GapsJson()) {
    if (r.cls == "suspicious") EXPECT_EQ(r.checks, 2) << r.series << " " << r.from;
  }
}

TEST_P(DataQualityEndToEnd, RepairStaysWithinMaxRequestsAndLeavesTheRestForLater) {
  StartSim(EventOptions());
  ASSERT_EQ(Backfill("AAPL,MSFT,X:BTCUSD", "1m,1d", "2024-11-01", "2024-12-31").exit_code, 0);
  const size_t flagged = Suspicious(GapsJson()).size();
  ASSERT_GT(flagged, 3u);
  HttpGetText(sim_->BaseUrl() + "/__reset");
  const CommandResult bounded = Barfill({"repair", "--max-requests", "2"}, true);
  ASSERT_EQ(bounded.exit_code, 0) << bounded.err;
  EXPECT_EQ(DataRequestsSinceReset(), 2);
  EXPECT_NE(bounded.out.find(std::to_string(flagged - 2) + " range(s) left for a later run (--max-requests 2)"), std::string::npos)
      << bounded.out;
  HttpGetText(sim_->BaseUrl() + "/__reset");
  ASSERT_EQ(Barfill({"repair"}, true).exit_code, 0);
  EXPECT_EQ(DataRequestsSinceReset(), static_cast<int64_t>(flagged - 2)) << "the rest, and nothing twice";
}

TEST_P(DataQualityEndToEnd, ARerunRefreshesTheLastSessionsAndReportsExactlyTheSimulatorsRevisions) {
  sim::SimOptions options;
  options.faults.revise = 0.7;
  options.event_tickers = kEventTickers;
  StartSim(options);
  const CalendarDay today = TodayUtc();
  const std::string from = today.AddDays(-20).ToString();
  const std::string to = today.ToString();
  const std::vector<std::string> tickers = {"AAPL", "MSFT", "NVDA", "X:BTCUSD"};
  const std::vector<std::string> timeframes = {"1m", "1h", "1d"};
  const CommandResult first = Backfill("AAPL,MSFT,NVDA,X:BTCUSD", "1m,1h,1d", from, to);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out.find("Verified:"), std::string::npos) << "nothing stored yet: nothing to verify";

  const std::string report = dir_.File("refresh.json");
  const CommandResult second = Backfill("AAPL,MSFT,NVDA,X:BTCUSD", "1m,1h,1d", from, to,
                                        {"--refresh-sessions", "2", "--report-json", report});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(ReadFileBytes(report)).get(root), simdjson::SUCCESS);

  // Per series, the verified range is its last two ended sessions, and what the run reports
  // changed there is exactly what the simulator changed between first serving and now.
  const sim::Market& market = sim_->TheMarket();
  auto store = Store();
  ASSERT_TRUE(store);
  std::map<std::string, engine::BarChanges> reported;
  for (simdjson::dom::element v : root["verified"]["ranges"].get_array()) {
    EXPECT_EQ(v["done"].get_bool().value(), true);
    reported[Str(v, "ticker") + " " + Str(v, "timeframe")] =
        engine::BarChanges{Int(v, "revised"), Int(v, "added"), Int(v, "removed")};
  }
  EXPECT_EQ(reported.size(), tickers.size() * timeframes.size());
  engine::BarChanges total;
  std::set<std::string> revised_days;
  for (const Injected& e : InjectedEvents(from, to)) {
    EXPECT_EQ(e.kind, "revision");
    revised_days.insert(e.ticker + " " + e.day);
  }
  ASSERT_FALSE(revised_days.empty()) << "the simulator revised something";
  for (const std::string& symbol : tickers) {
    const Ticker ticker = *Ticker::Parse(symbol);
    const calendar::ExchangeCalendar& cal = calendar::ExchangeCalendar::For(ticker.asset_class());
    for (const std::string& tf : timeframes) {
      const Series series{ticker, *Timeframe::Parse(tf), true};
      auto checks = store->ReadChecks(series);
      ASSERT_TRUE(checks) << checks.error().message;
      ASSERT_EQ(checks->size(), 1u) << series.Describe() << ": the verified range is remembered";
      const TimeRange range = checks->front().range;
      EXPECT_EQ(checks->front().checks, 1);
      // Two sessions: the first begins the range, the second ends it.
      std::vector<CalendarDay> sessions;
      for (CalendarDay d = ticker.zone().DayOf(range.from_ms); d <= ticker.zone().DayOf(range.to_ms - 1); d = d.AddDays(1)) {
        if (cal.SessionOn(d)->is_open()) sessions.push_back(d);
      }
      EXPECT_EQ(sessions.size(), 2u) << series.Describe();
      for (const CalendarDay& d : sessions) {
        if (std::find(kEventTickers.begin(), kEventTickers.end(), symbol) == kEventTickers.end()) continue;
        EXPECT_LE(cal.SessionOn(d)->extended.to_ms, market.events.as_of_ms) << "an ended session";
      }
      const engine::BarChanges expected =
          engine::CompareBars(sim::GroundTruth(market, ticker, series.timeframe, true, range, sim::DataVersion::kFirstServed),
                              sim::GroundTruth(market, ticker, series.timeframe, true, range));
      EXPECT_EQ(reported[symbol + " " + tf], expected) << series.Describe();
      total.Add(expected);
      bool revised = false;
      for (const CalendarDay& d : sessions) revised = revised || revised_days.count(symbol + " " + d.ToString()) > 0;
      EXPECT_EQ(expected.Total() > 0, revised) << series.Describe();
    }
  }
  EXPECT_GT(total.revised, 0);
  EXPECT_EQ(Int(root["verified"], "revised"), total.revised);
  EXPECT_EQ(Int(root["verified"], "added"), total.added);
  EXPECT_EQ(Int(root["verified"], "removed"), total.removed);
  EXPECT_NE(second.out.find("Verified:"), std::string::npos) << second.out;

  // The database now holds the vendor's corrected bars.
  const engine::Plan plan = *engine::ParsePlan(engine::PlanText{"", tickers, timeframes, from, to}, today);
  const auto diffs = DiffStoreWithGroundTruth(*store, market, plan);
  EXPECT_TRUE(diffs.empty()) << Describe(diffs);

  // Once more: the same sessions, nothing changed, verified a second time.
  const CommandResult third = Backfill("AAPL,MSFT,NVDA,X:BTCUSD", "1m,1h,1d", from, to, {"--report-json", report});
  ASSERT_EQ(third.exit_code, 0) << third.err;
  const ReportJson again = ReadReportJson(report);
  EXPECT_EQ(again.exit_code, 0);
  simdjson::dom::parser parser3;
  simdjson::dom::element root3;
  ASSERT_EQ(parser3.parse(ReadFileBytes(report)).get(root3), simdjson::SUCCESS);
  EXPECT_EQ(Int(root3["verified"], "revised") + Int(root3["verified"], "added") + Int(root3["verified"], "removed"), 0);
  auto checks = store->ReadChecks(Series{*Ticker::Parse("AAPL"), *Timeframe::Parse("1m"), true});
  ASSERT_TRUE(checks);
  ASSERT_FALSE(checks->empty());
  EXPECT_EQ(checks->back().checks, 2);
}

// Bad inputs: one error line naming the problem and the fix, a distinct exit code, and the
// database exactly as it was (or not created).
TEST(DataQualityBadInputs, OneErrorLineAndTheDatabaseUntouched) {
  TempDir dir;
  sim::SimOptions options;
  options.seed = kSeed;
  auto sim = sim::SimServer::Start(options);
  ASSERT_TRUE(sim);
  const std::string db = "sqlite:" + dir.File("bars.db");
  const ChildEnv env{{{"POLYGON_API_KEY", "k"}}, {"BARFILL_DB", "MASSIVE_API_KEY"}};
  const auto barfill = [&](std::vector<std::string> args, const ChildEnv& with = {}) {
    args.insert(args.begin(), BarfillExe());
    return RunCommand(args, with);
  };
  ASSERT_EQ(barfill({"backfill", "--tickers", "AAPL", "--timeframes", "1d", "--from", "2025-01-02", "--to", "2025-01-31", "--db", db,
                     "--base-url", (*sim)->BaseUrl(), "--no-progress"},
                    env)
                .exit_code,
            0);
  const std::string before = ReadFileBytes(dir.File("bars.db"));
  ASSERT_FALSE(before.empty());
  const std::string missing = "sqlite:" + dir.File("nothing-here.db");
  const std::string api = (*sim)->BaseUrl();
  struct Case {
    std::vector<std::string> args;
    bool with_key;
    int exit_code;
    std::string says;
  };
  const Case cases[] = {
      {{"gaps", "--db", db, "--from", "2025-13-01"}, true, 2, "error: --from: "},
      {{"gaps", "--db", db, "--timeframes", "minutes"}, true, 2, "error: --timeframes: unknown timeframe 'minutes'"},
      {{"gaps", "--db", db, "--from", "2025-03-01", "--to", "2025-01-31"}, true, 2,
       "error: --from 2025-03-01 must not be after --to 2025-01-31"},
      {{"gaps", "--db", db, "--tickers", "btcusd"}, true, 2, "error: --tickers: "},
      {{"gaps", "--db", missing}, true, 4, "does not exist"},
      {{"repair", "--db", db, "--base-url", api}, false, 2, "error: Polygon API key missing"},
      {{"repair", "--db", db, "--base-url", api, "--max-requests", "0"}, true, 2, "error: --max-requests must be at least 1"},
      {{"repair", "--db", db, "--base-url", api, "--recheck-after", "soon"}, true, 2,
       "error: --recheck-after 'soon' must look like 90s, 30m, 1h or 2d"},
      {{"repair", "--db", db, "--base-url", api, "--concurrency", "0"}, true, 2, "error: --concurrency must be 1..256"},
      {{"repair", "--db", missing, "--base-url", api}, true, 4, "does not exist"},
      {{"backfill", "--tickers", "AAPL", "--timeframes", "1d", "--from", "2025-01-02", "--to", "2025-01-31", "--db", db,
        "--base-url", api, "--refresh-sessions", "31"},
       true, 2, "error: --refresh-sessions must be 0..30 (got 31)"},
      {{"status", "--db", db, "--html", dir.path()}, true, 2, "error: cannot write"},
  };
  for (const Case& c : cases) {
    const CommandResult r = barfill(c.args, c.with_key ? env : ChildEnv{{}, {"POLYGON_API_KEY", "MASSIVE_API_KEY"}});
    const std::string what = c.args[0] + " " + c.args.back();
    EXPECT_EQ(r.exit_code, c.exit_code) << what << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << what << ": " << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << what << ": " << r.err;
    EXPECT_EQ(r.err.find("k\n"), std::string::npos);
    EXPECT_EQ(ReadFileBytes(dir.File("bars.db")), before) << what << ": the database is as it was";
    EXPECT_FALSE(std::filesystem::exists(dir.File("nothing-here.db"))) << what << ": a reader creates nothing";
  }
  EXPECT_EQ((*sim)->Stats().data_requests, 1) << "only the backfill asked the API";
}

INSTANTIATE_TEST_SUITE_P(Stores, DataQualityEndToEnd, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace barfill::testing
