// `barfill status --html` in a real browser: headless Chromium from Debian loads the page, its DOM
// is dumped after the page's own script ran, and the cells, classes, totals and the absence of
// script errors are checked. Databases are real SQLite files written through the store.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <span>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "calendar/exchange_calendar.h"
#include "sim/market_data.h"
#include "store/bar_store.h"
#include "store/store_env.h"
#include "testing/subprocess.h"

namespace barfill::testing {
namespace {

Series S(const char* ticker, const char* tf) { return Series{*Ticker::Parse(ticker), *Timeframe::Parse(tf), true}; }
CalendarDay Day(const char* text) { return *CalendarDay::Parse(text); }

/// The Chromium of the system, or "" when it is not installed.
std::string FindChromium() {
  for (const char* path : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (std::filesystem::exists(path)) return path;
  }
  return "";
}

/// Skips without Chromium, except in CI, where scripts/install-deps.sh --test installs it.
#define BARFILL_REQUIRE_CHROMIUM(path)                                                             \
  do {                                                                                             \
    if ((path).empty()) {                                                                          \
      if (RequireAllServices()) FAIL() << "chromium is missing (CI=true: scripts/install-deps.sh --test installs it)"; \
      GTEST_SKIP() << "chromium is not installed (apt-get install chromium)";                      \
    }                                                                                              \
  } while (0)

/// A page as the browser left it: the DOM after its scripts, and what the browser logged.
struct LoadedPage {
  std::string dom;
  std::string log;
  int exit_code = -1;
};

LoadedPage Load(const std::string& chromium, const std::string& file, const std::string& fragment = "") {
  TempDir profile;
  const CommandResult r = RunCommand({chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                      "--disable-component-update", "--disable-sync", "--no-first-run",
                                      "--user-data-dir=" + profile.path(), "--enable-logging=stderr", "--v=0", "--dump-dom",
                                      "file://" + file + fragment});
  return {r.out, r.err, r.exit_code};
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

/// Whether the page's error trap marked the document (an uncaught error in any of its scripts).
bool ScriptFailed(const std::string& dom) { return std::regex_search(dom, std::regex("<html[^>]*data-script-error")); }

/// The console lines of the browser's log (a script error, console.error, ...).
std::vector<std::string> ConsoleLines(const std::string& log) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < log.size()) {
    const size_t end = std::min(log.find('\n', start), log.size());
    const std::string line = log.substr(start, end - start);
    if (line.find(":CONSOLE") != std::string::npos || line.find("Uncaught") != std::string::npos) lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

class CoveragePage : public ::testing::Test {
 protected:
  void SetUp() override {
    chromium_ = FindChromium();
    auto store = OpenStore(db_);
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    ASSERT_TRUE(store_->Migrate());
  }

  /// Stores the simulator's bars of `series` over from..to as fetched, minus the bars of
  /// `hole` (a day the vendor served empty: fetched, final, no bars).
  void StoreSeries(const Series& series, const char* from, const char* to, const char* hole = nullptr) {
    const MarketZone zone = series.ticker.zone();
    const TimeRange range = zone.DaysToRange(Day(from), Day(to));
    const BarBatch all = sim::GroundTruth(sim::Market{5}, series.ticker, series.timeframe, true, range);
    BarBatch kept;
    for (size_t i = 0; i < all.size(); ++i) {
      if (hole == nullptr || zone.DayOf(all.t[i]) != Day(hole)) kept.push_back(all[i]);
    }
    const ChunkWrite write{Chunk{series, range}, &kept};
    ASSERT_TRUE(store_->CommitChunks({&write, 1}));
  }

  CommandResult StatusHtml(const std::vector<std::string>& more = {}) {
    std::vector<std::string> args = {BarfillExe(), "status", "--db", db_, "--html", page_};
    args.insert(args.end(), more.begin(), more.end());
    return RunCommand(args);
  }

  std::string chromium_;
  TempDir dir_;
  std::string db_ = "sqlite:" + dir_.File("bars.db");
  std::string page_ = dir_.File("coverage.html");
  std::unique_ptr<BarStore> store_;
};

TEST_F(CoveragePage, ShowsEachClassWithTitlesAndTotalsAndRunsItsScriptWithoutErrors) {
  BARFILL_REQUIRE_CHROMIUM(chromium_);
  StoreSeries(S("AAPL", "1m"), "2025-02-03", "2025-03-31", "2025-03-04");
  StoreSeries(S("AAPL", "1d"), "2025-02-03", "2025-03-31", "2025-03-04");
  StoreSeries(S("SPY", "1m"), "2025-02-03", "2025-03-31");
  StoreSeries(S("SPY", "1d"), "2025-02-03", "2025-03-31");
  StoreSeries(S("X:BTCUSD", "1h"), "2025-02-03", "2025-03-31");
  // MSFT failed from 2025-03-20 on; NVDA never fetched 2025-03-10..14.
  StoreSeries(S("MSFT", "1m"), "2025-02-03", "2025-03-19");
  const MarketZone ny = MarketZone::NewYork();
  ASSERT_TRUE(store_->RecordFailure(Chunk{S("MSFT", "1m"), ny.DaysToRange(Day("2025-03-20"), Day("2025-03-31"))},
                                    Error(ErrorCode::kNetworkGaveUp, "HTTP 503 <b>Service</b> Unavailable"), 6));
  StoreSeries(S("NVDA", "1m"), "2025-02-03", "2025-03-07");
  StoreSeries(S("NVDA", "1m"), "2025-03-17", "2025-03-31");
  store_.reset();

  const CommandResult written = StatusHtml();
  ASSERT_EQ(written.exit_code, 0) << written.err;
  EXPECT_NE(written.out.find("wrote " + page_ + ": 7 series"), std::string::npos) << written.out;
  EXPECT_FALSE(std::filesystem::exists(page_ + ".tmp"));
  const std::string html = ReadFileBytes(page_);
  EXPECT_EQ(html.find("http://"), std::string::npos) << "self-contained: no link to anywhere";
  EXPECT_EQ(html.find("https://"), std::string::npos);

  const LoadedPage page = Load(chromium_, page_);
  ASSERT_EQ(page.exit_code, 0) << page.log;
  const std::string& dom = page.dom;
  EXPECT_NE(dom.find("data-ready=\"1\""), std::string::npos) << "the page's script ran to its end";
  EXPECT_FALSE(ScriptFailed(dom)) << dom.substr(0, 300);
  EXPECT_TRUE(ConsoleLines(page.log).empty()) << ConsoleLines(page.log).front();

  // Nine weeks a row; the hole's week is suspicious in AAPL's minute and day series, MSFT's last
  // three weeks failed, NVDA's week of 2025-03-10 missing; everything else complete.
  EXPECT_EQ(Count(dom, "class=\"cell suspicious\""), 2u);
  EXPECT_EQ(Count(dom, "class=\"cell failed\""), 3u);
  EXPECT_EQ(Count(dom, "class=\"cell missing\""), 1u);
  EXPECT_EQ(Count(dom, "class=\"cell complete\""), 4u * 9 - 6);
  EXPECT_EQ(Count(dom, "class=\"series\""), 4u) << "complete series are collapsed";
  EXPECT_EQ(Count(dom, "class=\"ticker\""), 3u) << "rows grouped by ticker";
  EXPECT_NE(dom.find("3 series complete in every session (2 tickers)"), std::string::npos);
  EXPECT_NE(dom.find("SPY (1d, 1m)"), std::string::npos);
  EXPECT_NE(dom.find("X:BTCUSD (1h)"), std::string::npos);
  EXPECT_NE(dom.find("one cell per week"), std::string::npos);
  // Hover titles with the counts and the first problem, escaped.
  EXPECT_NE(dom.find("<title>AAPL 1m, week of 2025-03-03: 4 complete, 1 suspicious, 2 non-trading; "), std::string::npos);
  EXPECT_NE(dom.find("2025-03-04 suspicious: empty; a usual session has "), std::string::npos);
  EXPECT_NE(dom.find("2025-03-04 suspicious: empty; the ticker's 1m bars number "), std::string::npos);
  EXPECT_NE(dom.find("MSFT 1m, week of 2025-03-17: 3 complete, 2 failed"), std::string::npos);
  EXPECT_NE(dom.find("HTTP 503 &lt;b&gt;Service&lt;/b&gt; Unavailable"), std::string::npos);
  EXPECT_EQ(dom.find("<b>Service</b>"), std::string::npos) << "text from the database is escaped";
  EXPECT_NE(dom.find("NVDA 1m, week of 2025-03-10: 5 missing"), std::string::npos);
  // Totals and the legend.
  EXPECT_NE(dom.find("data-total=\"suspicious\">2<"), std::string::npos);
  EXPECT_NE(dom.find("data-total=\"failed\">8<"), std::string::npos);
  EXPECT_NE(dom.find("data-total=\"never_fetched\">5<"), std::string::npos);
  EXPECT_NE(dom.find("data-total=\"series_with_problems\">4<"), std::string::npos);
  for (const char* cls : {"complete", "non-trading", "suspicious", "missing", "failed"}) {
    EXPECT_NE(dom.find(std::string("<span data-class=\"") + cls + "\">"), std::string::npos) << cls;
  }

  // The checks above can fail: a page whose script breaks is caught by both of them.
  const std::string broken = dir_.File("broken.html");
  {
    std::ofstream(broken) << "<!DOCTYPE html><html><head><script>" << "window.addEventListener('error',function(e){"
                          << "document.documentElement.setAttribute('data-script-error',String(e.message));});"
                          << "</script></head><body><script>no_such_function();</script></body></html>";
  }
  const LoadedPage failing = Load(chromium_, broken);
  EXPECT_TRUE(ScriptFailed(failing.dom)) << failing.dom;
  EXPECT_FALSE(ConsoleLines(failing.log).empty()) << failing.log;

  // The filter, from a link: rows of other tickers are hidden by the page's script.
  const LoadedPage filtered = Load(chromium_, page_, "#filter=msft");
  EXPECT_FALSE(ScriptFailed(filtered.dom));
  EXPECT_TRUE(std::regex_search(filtered.dom, std::regex("<tr class=\"series\" data-ticker=\"AAPL\" hidden")));
  EXPECT_TRUE(std::regex_search(filtered.dom, std::regex("<tr class=\"series\" data-ticker=\"MSFT\"><th>")));
}

TEST_F(CoveragePage, FiveThousandSeriesStayReadable) {
  BARFILL_REQUIRE_CHROMIUM(chromium_);
  // 5,000 tickers of day bars over a quarter; ten of them miss a day they always trade.
  constexpr int kTickers = 5000;
  const MarketZone ny = MarketZone::NewYork();
  const TimeRange quarter = ny.DaysToRange(Day("2025-01-02"), Day("2025-03-31"));
  const auto sessions = calendar::ExchangeCalendar::For(AssetClass::kStock).Sessions(Day("2025-01-02"), Day("2025-03-31"));
  ASSERT_TRUE(sessions);
  std::vector<BarBatch> bars;
  std::vector<ChunkWrite> writes;
  bars.reserve(kTickers);
  std::vector<std::string> holed;
  for (int i = 0; i < kTickers; ++i) {
    char symbol[8];
    std::snprintf(symbol, sizeof symbol, "T%04d", i);
    const bool hole = i % 500 == 7;
    if (hole) holed.push_back(symbol);
    BarBatch& batch = bars.emplace_back();
    for (const calendar::Session& session : *sessions) {
      if (!session.is_open() || (hole && session.day == Day("2025-03-04"))) continue;
      Bar bar;
      bar.t = ny.DayStartMs(session.day);
      bar.open = bar.high = bar.low = bar.close = 10 + i % 7;
      bar.volume = 1000;
      bar.trades = 40;
      batch.push_back(bar);
    }
    writes.push_back(ChunkWrite{Chunk{S(symbol, "1d"), quarter}, &batch});
  }
  for (size_t at = 0; at < writes.size(); at += 500) {
    ASSERT_TRUE(store_->CommitChunks(std::span(writes).subspan(at, std::min<size_t>(500, writes.size() - at))));
  }
  store_.reset();

  const auto started = std::chrono::steady_clock::now();
  const CommandResult written = StatusHtml();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_EQ(written.exit_code, 0) << written.err;
  EXPECT_LT(seconds, 120) << "one series at a time, a few queries each";
  const std::string html = ReadFileBytes(page_);
  EXPECT_LT(html.size(), size_t{1} << 20) << "complete series collapse to their names";

  const LoadedPage page = Load(chromium_, page_);
  ASSERT_EQ(page.exit_code, 0) << page.log;
  EXPECT_NE(page.dom.find("data-ready=\"1\""), std::string::npos);
  EXPECT_FALSE(ScriptFailed(page.dom));
  EXPECT_TRUE(ConsoleLines(page.log).empty()) << ConsoleLines(page.log).front();
  EXPECT_EQ(Count(page.dom, "class=\"series\""), holed.size());
  EXPECT_EQ(Count(page.dom, "class=\"cell suspicious\""), holed.size());
  for (const std::string& symbol : holed) {
    EXPECT_NE(page.dom.find("<title>" + symbol + " 1d, week of 2025-03-03: 4 complete, 1 suspicious"), std::string::npos) << symbol;
  }
  EXPECT_NE(page.dom.find("4990 series complete in every session (4990 tickers)"), std::string::npos);
  EXPECT_NE(page.dom.find("data-total=\"series\">5000<"), std::string::npos);
}

}  // namespace
}  // namespace barfill::testing
