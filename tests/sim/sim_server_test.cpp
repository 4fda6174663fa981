// The simulator over loopback, driven by libcurl: what a client of the real API would see.
#include "sim/sim_server.h"
#include "sim/action_table.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "calendar/exchange_calendar.h"
#include "sim/aggs_api.h"
#include "sim/http_wire.h"
#include "sim/market_data.h"
#include "sim/sim_test_client.h"

namespace barfill::sim {
namespace {

using testing::HttpAnswer;
using testing::KeysOf;
using testing::ParseResults;
using testing::TestClient;

constexpr uint64_t kSeed = 11;
constexpr const char* kKey = "test-key";

std::unique_ptr<SimServer> StartSim(SimOptions options = {}) {
  options.seed = kSeed;
  auto server = SimServer::Start(options);
  EXPECT_TRUE(server) << (server ? "" : server.error().message);
  return server ? std::move(*server) : nullptr;
}

/// A parsed body that keeps its parser alive.
struct Json {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  bool ok = false;
};

std::unique_ptr<Json> ParseJson(const std::string& body) {
  auto json = std::make_unique<Json>();
  json->ok = json->parser.parse(body).get(json->root) == simdjson::SUCCESS;
  return json;
}

std::string Str(simdjson::dom::element e, const char* key) {
  std::string_view v;
  return e[key].get(v) == simdjson::SUCCESS ? std::string(v) : std::string("<absent>");
}

int64_t Int(simdjson::dom::element e, const char* key) {
  int64_t v = -1;
  return e[key].get(v) == simdjson::SUCCESS ? v : -1;
}

bool Has(simdjson::dom::element e, const char* key) { return e[key].error() == simdjson::SUCCESS; }

/// The path segments of a URL: [v2, aggs, ticker, T, range, m, timespan, from, to].
std::vector<std::string> PathSegments(const std::string& url) {
  const size_t start = url.find("/v2/");
  const std::string path = url.substr(start + 1, url.find('?') == std::string::npos ? std::string::npos
                                                                                    : url.find('?') - start - 1);
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    const size_t slash = path.find('/', pos);
    parts.push_back(path.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos));
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  return parts;
}

std::string CursorOf(const std::string& url) {
  const size_t at = url.find("?cursor=");
  if (at == std::string::npos) return "<none>";
  return Base64UrlDecode(url.substr(at + 8)).value_or("<undecodable>");
}

enum class Auth { kQuery, kBearer };

struct Followed {
  BarBatch bars;
  int pages = 0;
  std::vector<std::string> next_urls;
};

/// Follows next_url from `path` to the end, checking every page the way a careful client would.
Followed FollowAll(TestClient& client, const SimServer& server, const std::string& path, Auth auth) {
  Followed out;
  std::string url = server.BaseUrl() + path;
  const std::string to_as_sent = PathSegments(url).at(8);
  const bool unadjusted = path.find("adjusted=false") != std::string::npos;
  while (out.pages < 10000) {
    std::string request = url;
    std::vector<std::string> headers;
    if (auth == Auth::kQuery) {
      request += std::string(url.find('?') == std::string::npos ? "?" : "&") + "apiKey=" + kKey;
    } else {
      headers.push_back(std::string("Authorization: Bearer ") + kKey);
    }
    const HttpAnswer a = client.Get(request, headers);
    EXPECT_EQ(a.code, CURLE_OK) << request;
    EXPECT_EQ(a.status, 200) << request << " " << a.body;
    if (a.status != 200) return out;
    const auto json = ParseJson(a.body);
    EXPECT_TRUE(json->ok) << a.body.substr(0, 200);
    if (!json->ok) return out;
    const simdjson::dom::element root = json->root;
    const BarBatch page = ParseResults(root);
    ++out.pages;
    EXPECT_EQ(Str(root, "status"), "OK");
    EXPECT_EQ(Str(root, "request_id"), a.headers.at("x-request-id"));
    EXPECT_EQ(Int(root, "resultsCount"), static_cast<int64_t>(page.size()));
    EXPECT_GE(Int(root, "queryCount"), static_cast<int64_t>(page.size()));
    bool adjusted = true;
    EXPECT_EQ(root["adjusted"].get(adjusted), simdjson::SUCCESS);
    EXPECT_EQ(adjusted, !unadjusted) << "page " << out.pages << " lost the adjusted flag";
    if (!page.empty()) {
      EXPECT_EQ(Int(root, "count"), static_cast<int64_t>(page.size()));
    }
    std::string_view next;
    if (root["next_url"].get(next) != simdjson::SUCCESS) {
      out.bars.Append(page);
      break;
    }
    const std::string next_url(next);
    out.next_urls.push_back(next_url);
    EXPECT_FALSE(page.empty()) << "an empty page carries a next_url";
    if (page.empty()) break;
    EXPECT_EQ(next_url.rfind(server.BaseUrl() + "/v2/aggs/ticker/", 0), 0u) << next_url;
    EXPECT_EQ(next_url.find("apiKey"), std::string::npos) << next_url;
    const std::vector<std::string> segments = PathSegments(next_url);
    EXPECT_EQ(segments.at(8), to_as_sent);
    EXPECT_GT(std::stoll(segments.at(7)), page.t.back()) << "next_url must move forward";
    out.bars.Append(page);
    url = next_url;
  }
  return out;
}

struct PagingCase {
  const char* ticker;
  const char* timeframe;
  const char* from;
  const char* to;
  int64_t limit;
  bool adjusted;
  Auth auth;
};

TimeRange ArgRange(const Ticker& ticker, const std::string& from, const std::string& to) {
  const MarketZone zone = ticker.zone();
  const auto bound = [&](const std::string& text, bool end) -> int64_t {
    if (text.find('-') == std::string::npos) return std::stoll(text) + (end ? 1 : 0);
    const CalendarDay day = *CalendarDay::Parse(text);
    return zone.DayStartMs(end ? day.AddDays(1) : day);
  };
  return {bound(from, false), bound(to, true)};
}

class PagingTest : public ::testing::TestWithParam<PagingCase> {};

TEST_P(PagingTest, FollowingNextUrlGivesExactlyTheGroundTruth) {
  const PagingCase& c = GetParam();
  auto server = StartSim();
  ASSERT_TRUE(server);
  TestClient client;
  const Ticker ticker = *Ticker::Parse(c.ticker);
  const Timeframe tf = *Timeframe::Parse(c.timeframe);
  std::string path = "/v2/aggs/ticker/" + std::string(c.ticker) + "/range/" + std::to_string(tf.multiplier()) + "/" +
                     std::string(tf.PolygonTimespan()) + "/" + c.from + "/" + c.to + "?limit=" + std::to_string(c.limit);
  if (!c.adjusted) path += "&adjusted=false";
  const Followed got = FollowAll(client, *server, path, c.auth);

  const TimeRange snapped = SnapToBuckets(tf, ticker.zone(), ArgRange(ticker, c.from, c.to));
  const BarBatch want = GroundTruth(kSeed, ticker, tf, c.adjusted, snapped);
  ASSERT_FALSE(want.empty());
  EXPECT_GE(got.pages, 3) << "the limit should force several pages";
  EXPECT_EQ(got.bars.size(), want.size());
  EXPECT_EQ(got.bars, want);
  for (const std::string& next : got.next_urls) {
    std::string cursor = "limit=" + std::to_string(c.limit) + "&sort=asc";
    if (!c.adjusted) cursor += "&adjusted=false";
    EXPECT_EQ(CursorOf(next), cursor);
  }
  // One keep-alive connection served every page.
  EXPECT_EQ(server->Stats().connections, 1);
  EXPECT_EQ(server->Stats().data_requests, got.pages);
  EXPECT_EQ(server->Stats().bars_served, static_cast<int64_t>(want.size()));
}

/// A ticker with a split in 2025 in the simulator of kSeed.
std::string SplitTickerSymbol() {
  for (char a = 'A'; a <= 'Z'; ++a) {
    for (char b = 'A'; b <= 'Z'; ++b) {
      const std::string symbol{a, b};
      for (const SplitRecord& s : TrueActions(kSeed, *Ticker::Parse(symbol)).splits) {
        if (s.execution_date.year == 2025 && s.execution_date.month < 12) return symbol;
      }
    }
  }
  return "AAPL";
}

const std::string kSplitSymbol = SplitTickerSymbol();

INSTANTIATE_TEST_SUITE_P(
    Ranges, PagingTest,
    ::testing::Values(PagingCase{"AAPL", "1m", "2025-03-06", "2025-03-11", 1000, true, Auth::kBearer},
                      // from mid-bucket (snapped back) and to inclusive (snapped forward), in ms
                      PagingCase{"X:BTCUSD", "5m", "1740787320000", "1740960000000", 333, true, Auth::kQuery},
                      PagingCase{kSplitSymbol.c_str(), "1h", "2025-01-01", "2025-12-31", 2000, false, Auth::kQuery},
                      PagingCase{"AAPL", "1d", "2025-01-01", "2025-12-31", 20, true, Auth::kBearer},
                      PagingCase{"X:ETHUSD", "1w", "2025-01-01", "2025-06-30", 10, true, Auth::kQuery},
                      PagingCase{"NVDA", "1mo", "2024-01-01", "2025-12-31", 30, false, Auth::kBearer},
                      PagingCase{"SPY", "15m", "2025-03-07", "2025-03-10", 100, true, Auth::kQuery},
                      PagingCase{"C:EURUSD", "4h", "2025-02-01", "2025-02-10", 500, true, Auth::kBearer}));

// Data events over HTTP: each series' visits decide how a hole or a revised day is served.
TEST(SimEvents, AHoleIsEmptyOnEachSeriesFirstVisitAndFilledOnTheNext) {
  SimOptions options;
  options.faults.hole = 1;  // every session of the event tickers
  options.event_tickers = {"AAPL"};
  auto server = StartSim(options);
  ASSERT_TRUE(server);
  TestClient client;
  const Ticker aapl = *Ticker::Parse("AAPL");
  const TimeRange week = MarketZone::NewYork().DaysToRange(*CalendarDay::Parse("2025-03-03"), *CalendarDay::Parse("2025-03-07"));
  const std::string day_path = "/v2/aggs/ticker/AAPL/range/1/day/2025-03-03/2025-03-07";
  EXPECT_TRUE(FollowAll(client, *server, day_path, Auth::kQuery).bars.empty()) << "first visit: the vendor has nothing yet";
  const BarBatch filled = FollowAll(client, *server, day_path, Auth::kQuery).bars;
  EXPECT_EQ(filled.size(), 5u);
  EXPECT_EQ(filled, GroundTruth(server->TheMarket(), aapl, *Timeframe::Parse("1d"), true, week));
  // Another series of the ticker has visits of its own; another ticker has no holes.
  EXPECT_TRUE(FollowAll(client, *server, "/v2/aggs/ticker/AAPL/range/1/hour/2025-03-03/2025-03-07", Auth::kQuery).bars.empty());
  EXPECT_EQ(FollowAll(client, *server, "/v2/aggs/ticker/MSFT/range/1/day/2025-03-03/2025-03-07", Auth::kQuery).bars.size(), 5u);

  // The simulator's own account: a hole on each session, with each series' visits.
  const HttpAnswer injected = client.Get(server->BaseUrl() + "/__injected?from=2025-03-03&to=2025-03-07");
  ASSERT_EQ(injected.status, 200) << injected.body;
  const auto json = ParseJson(injected.body);
  ASSERT_TRUE(json->ok) << injected.body;
  simdjson::dom::array events;
  ASSERT_EQ(json->root["events"].get(events), simdjson::SUCCESS);
  ASSERT_EQ(events.size(), 5u);
  for (simdjson::dom::element e : events) {
    EXPECT_EQ(Str(e, "kind"), "hole");
    EXPECT_EQ(Str(e, "ticker"), "AAPL");
    const CalendarDay day = *CalendarDay::Parse(Str(e, "day"));
    EXPECT_EQ(Int(e, "from_ms"), calendar::ExchangeCalendar::For(AssetClass::kStock).SessionOn(day)->extended.from_ms);
    std::map<std::string, int64_t> visits;
    for (simdjson::dom::element v : e["visits"].get_array()) visits[Str(v, "timeframe")] = Int(v, "visits");
    EXPECT_EQ(visits, (std::map<std::string, int64_t>{{"1d", 2}, {"1h", 1}}));
  }
  EXPECT_EQ(client.Get(server->BaseUrl() + "/__injected?from=2025-03-03").status, 400);
}

TEST(SimEvents, ANextUrlPageThatBeginsBeforeADayStartsItsVisit) {
  SimOptions options;
  options.faults.hole = 0.4;
  options.event_tickers = {"AAPL"};
  auto server = StartSim(options);
  ASSERT_TRUE(server);
  const Ticker aapl = *Ticker::Parse("AAPL");
  const auto events = EventsOf(server->TheMarket(), aapl, *CalendarDay::Parse("2025-03-04"), *CalendarDay::Parse("2025-03-14"));
  ASSERT_FALSE(events.empty()) << "holes after the first day, reached by next_url pages";
  TestClient client;
  const TimeRange days = MarketZone::NewYork().DaysToRange(*CalendarDay::Parse("2025-03-03"), *CalendarDay::Parse("2025-03-14"));
  const Timeframe minute = *Timeframe::Parse("1m");
  const std::string path = "/v2/aggs/ticker/AAPL/range/1/minute/2025-03-03/2025-03-14?limit=1500";
  const Followed first = FollowAll(client, *server, path, Auth::kQuery);
  EXPECT_GT(first.pages, 3);
  EXPECT_EQ(first.bars, GroundTruth(server->TheMarket(), aapl, minute, true, days, DataVersion::kFirstServed));
  const Followed second = FollowAll(client, *server, path, Auth::kQuery);
  EXPECT_EQ(second.bars, GroundTruth(server->TheMarket(), aapl, minute, true, days));
  EXPECT_GT(second.bars.size(), first.bars.size());
}

TEST(SimEvents, NextUrlPagesBelongToTheirVisitAndRevisionsComeOnTheNext) {
  SimOptions options;
  options.faults.revise = 1;
  options.event_tickers = {"NVDA"};
  // As of Wednesday 2025-03-12 15:00 New York: Monday and Tuesday are the last ended sessions.
  options.as_of_ms = MarketZone::NewYork().DayStartMs(*CalendarDay::Parse("2025-03-12")) + 15 * kMsPerHour;
  auto server = StartSim(options);
  ASSERT_TRUE(server);
  TestClient client;
  const Ticker nvda = *Ticker::Parse("NVDA");
  const Timeframe minute = *Timeframe::Parse("1m");
  const TimeRange monday = MarketZone::NewYork().DaysToRange(*CalendarDay::Parse("2025-03-10"), *CalendarDay::Parse("2025-03-10"));
  const std::string path = "/v2/aggs/ticker/NVDA/range/1/minute/2025-03-10/2025-03-10?limit=300";
  const Followed first = FollowAll(client, *server, path, Auth::kBearer);
  EXPECT_GT(first.pages, 2);
  EXPECT_EQ(first.bars, GroundTruth(server->TheMarket(), nvda, minute, true, monday, DataVersion::kFirstServed));
  const Followed second = FollowAll(client, *server, path, Auth::kBearer);
  EXPECT_EQ(second.bars, GroundTruth(server->TheMarket(), nvda, minute, true, monday));
  EXPECT_NE(second.bars, first.bars);
  // A first page starting inside the day is no new visit: it sees what the current one sees.
  const std::string inside = "/v2/aggs/ticker/NVDA/range/1/minute/" +
                             std::to_string(monday.from_ms + 12 * kMsPerHour) + "/2025-03-10?limit=50000";
  const BarBatch afternoon = FollowAll(client, *server, inside, Auth::kBearer).bars;
  EXPECT_EQ(afternoon, GroundTruth(server->TheMarket(), nvda, minute, true, {monday.from_ms + 12 * kMsPerHour, monday.to_ms}));

  const HttpAnswer injected = client.Get(server->BaseUrl() + "/__injected?from=2025-03-01&to=2025-03-31&tickers=NVDA,AAPL");
  const auto json = ParseJson(injected.body);
  ASSERT_TRUE(json->ok) << injected.body;
  EXPECT_EQ(Str(json->root, "as_of"), FormatIsoUtc(options.as_of_ms));
  std::vector<std::string> days;
  for (simdjson::dom::element e : json->root["events"].get_array()) {
    EXPECT_EQ(Str(e, "kind"), "revision");
    days.push_back(Str(e, "ticker") + " " + Str(e, "day"));
  }
  EXPECT_EQ(days, (std::vector<std::string>{"NVDA 2025-03-10", "NVDA 2025-03-11"}));
}

TEST(SimEvents, HolesCanFillByTime) {
  SimOptions options;
  options.faults.hole = 1;
  options.event_tickers = {"AAPL"};
  options.hole_fill_visits = 0;      // never by visits...
  options.hole_fill_after_ms = 400;  // ...but 400 ms after the start
  auto server = StartSim(options);
  ASSERT_TRUE(server);
  TestClient client;
  const std::string path = "/v2/aggs/ticker/AAPL/range/1/day/2025-03-03/2025-03-07";
  EXPECT_TRUE(FollowAll(client, *server, path, Auth::kQuery).bars.empty());
  EXPECT_TRUE(FollowAll(client, *server, path, Auth::kQuery).bars.empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(FollowAll(client, *server, path, Auth::kQuery).bars.size(), 5u);
}

TEST(SimServer, UnadjustedPagesDifferFromAdjustedOnes) {
  auto server = StartSim();
  ASSERT_TRUE(server);
  TestClient client;
  const std::string path = "/v2/aggs/ticker/" + kSplitSymbol + "/range/1/day/2025-01-01/2025-12-31?limit=20";
  const Followed adjusted = FollowAll(client, *server, path, Auth::kQuery);
  const Followed raw = FollowAll(client, *server, path + "&adjusted=false", Auth::kQuery);
  ASSERT_EQ(adjusted.bars.size(), raw.bars.size());
  const std::vector<FactorRange> factors = ListedSplitFactors(Market{kSeed}, *Ticker::Parse(kSplitSymbol));
  int differing = 0;
  for (size_t i = 0; i < raw.bars.size(); ++i) {
    const FactorRange* f = FactorFor(factors, MarketZone::NewYork().DayOf(raw.bars.t[i]));
    if (f != nullptr) {
      EXPECT_EQ(SplitAdjustedPrice(raw.bars.close[i], f->split_price), adjusted.bars.close[i]);
      EXPECT_EQ(raw.bars.volume[i] * f->split_volume, adjusted.bars.volume[i]);
      ++differing;
    } else {
      EXPECT_EQ(raw.bars[i], adjusted.bars[i]);
    }
  }
  EXPECT_GT(differing, 0);
}

TEST(SimServer, LimitCountsBaseAggregates) {
  auto server = StartSim();
  ASSERT_TRUE(server);
  TestClient client;
  const std::string base = server->BaseUrl() + "/v2/aggs/ticker/X:BTCUSD/range/";
  const auto page = [&](const std::string& rest) {
    const HttpAnswer a = client.Get(base + rest + (rest.find('?') == std::string::npos ? "?" : "&") + "apiKey=k");
    EXPECT_EQ(a.status, 200) << a.body;
    return ParseJson(a.body);
  };
  // 100 minutes make 20 five-minute bars.
  auto j = page("5/minute/2025-03-01/2025-03-02?limit=100");
  EXPECT_EQ(Int(j->root, "queryCount"), 100);
  EXPECT_EQ(Int(j->root, "resultsCount"), 20);
  // 103 minutes: the 21st bar would be partial and is dropped.
  j = page("5/minute/2025-03-01/2025-03-02?limit=103");
  EXPECT_EQ(Int(j->root, "resultsCount"), 20);
  EXPECT_EQ(Int(j->root, "queryCount"), 100);
  // A limit smaller than one bar still gives one whole bar.
  j = page("1/hour/2025-03-01/2025-03-02?limit=3");
  EXPECT_EQ(Int(j->root, "resultsCount"), 1);
  EXPECT_EQ(Int(j->root, "queryCount"), 60);
  EXPECT_TRUE(Has(j->root, "next_url"));
  // The default is 5000 and anything above 50000 is capped.
  j = page("1/minute/2025-01-01/2025-03-31");
  EXPECT_EQ(Int(j->root, "resultsCount"), 5000);
  j = page("1/minute/2025-01-01/2025-03-31?limit=60000");
  EXPECT_EQ(Int(j->root, "resultsCount"), 50000);
  EXPECT_EQ(CursorOf(Str(j->root, "next_url")), "limit=50000&sort=asc");
  // A range that fits: no next_url.
  j = page("1/hour/2025-03-01/2025-03-01?limit=50000");
  EXPECT_EQ(Int(j->root, "resultsCount"), 24);
  EXPECT_FALSE(Has(j->root, "next_url"));
}

TEST(SimServer, DescendingSortReversesEachPage) {
  auto server = StartSim();
  ASSERT_TRUE(server);
  TestClient client;
  std::string url = server->BaseUrl() + "/v2/aggs/ticker/X:BTCUSD/range/1/minute/2025-03-01/2025-03-01?limit=500&sort=desc";
  BarBatch all;
  int pages = 0;
  while (!url.empty() && pages < 10) {
    const HttpAnswer a = client.Get(url, {"Authorization: Bearer k"});
    ASSERT_EQ(a.status, 200);
    const auto j = ParseJson(a.body);
    const BarBatch page = ParseResults(j->root);
    ASSERT_FALSE(page.empty());
    for (size_t i = 1; i < page.size(); ++i) ASSERT_GT(page.t[i - 1], page.t[i]);
    for (size_t i = page.size(); i-- > 0;) all.push_back(page[i]);
    ++pages;
    url = Has(j->root, "next_url") ? Str(j->root, "next_url") : "";
    if (!url.empty()) {
      EXPECT_EQ(CursorOf(url), "limit=500&sort=desc");
    }
  }
  EXPECT_EQ(pages, 3);
  const Ticker btc = *Ticker::Parse("X:BTCUSD");
  EXPECT_EQ(all, GroundTruth(kSeed, btc, Timeframe(1, Timespan::kMinute), true,
                             MarketZone::Utc().DaysToRange(*CalendarDay::Parse("2025-03-01"), *CalendarDay::Parse("2025-03-01"))));
}

TEST(SimServer, EmptyRangeHasNoResultsAndNoCount) {
  auto server = StartSim();
  ASSERT_TRUE(server);
  TestClient client;
  for (const char* path : {"/v2/aggs/ticker/AAPL/range/1/minute/2025-03-08/2025-03-09",  // a weekend
                           "/v2/aggs/ticker/aapl/range/1/day/2025-03-03/2025-03-07",     // no such ticker
                           "/v2/aggs/ticker/AAPL/range/1/day/2300-01-01/2300-01-02"}) {
    const HttpAnswer a = client.Get(server->BaseUrl() + path + "?apiKey=k");
    ASSERT_EQ(a.status, 200) << path;
    const auto j = ParseJson(a.body);
    ASSERT_TRUE(j->ok);
    EXPECT_EQ(KeysOf(j->root), (std::vector<std::string>{"ticker", "queryCount", "resultsCount", "adjusted", "status",
                                                         "request_id"}))
        << path;
    EXPECT_EQ(Int(j->root, "queryCount"), 0);
    EXPECT_EQ(Int(j->root, "resultsCount"), 0);
    EXPECT_EQ(Str(j->root, "request_id").size(), 32u);
    EXPECT_EQ(a.headers.at("content-type"), "application/json");
  }
}

TEST(SimServer, ErrorBodiesCarryPolygonsTexts) {
  SimOptions options;
  options.api_key = kKey;
  options.forbidden_tickers = {"X:DOGEUSD"};
  auto server = StartSim(options);
  ASSERT_TRUE(server);
  TestClient client;
  const std::string aggs = server->BaseUrl() + "/v2/aggs/ticker/AAPL/range/1/day/";
  struct Case {
    std::string url;
    std::vector<std::string> headers;
    long status;
    const char* body_status;
    const char* key;
    std::string_view text;
  };
  const std::string good = std::string("apiKey=") + kKey;
  const Case cases[] = {
      {aggs + "2025-01-01/2025-01-02", {}, 401, "ERROR", "error", kTextNoApiKey},
      {aggs + "2025-01-01/2025-01-02?apiKey=", {}, 401, "ERROR", "error", kTextNoApiKey},
      {aggs + "2025-01-01/2025-01-02?apiKey=wrong", {}, 401, "ERROR", "error", kTextUnknownApiKey},
      {aggs + "2025-01-01/2025-01-02", {"Authorization: Bearer wrong"}, 401, "ERROR", "error", kTextUnknownApiKey},
      {aggs + "2025-1-01/2025-01-02?" + good, {}, 400, "ERROR", "error", kTextBadFrom},
      {aggs + "2025-01-01/tomorrow?" + good, {}, 400, "ERROR", "error", kTextBadTo},
      {aggs + "2025-01-02/2025-01-01?" + good, {}, 400, "ERROR", "error", kTextToBeforeFrom},
      {server->BaseUrl() + "/v2/aggs/ticker/X:DOGEUSD/range/1/day/2025-01-01/2025-01-02?" + good, {}, 403,
       "NOT_AUTHORIZED", "message", kTextNotAuthorized},
      {server->BaseUrl() + "/v2/aggs/grouped/locale/us/market/options/2025-01-02?" + good, {}, 404, "NOT_FOUND",
       "message", kTextNotFound},
  };
  for (const Case& c : cases) {
    const HttpAnswer a = client.Get(c.url, c.headers);
    EXPECT_EQ(a.status, c.status) << c.url;
    const auto j = ParseJson(a.body);
    ASSERT_TRUE(j->ok) << a.body;
    EXPECT_EQ(KeysOf(j->root), (std::vector<std::string>{"status", "request_id", c.key})) << c.url;
    EXPECT_EQ(Str(j->root, "status"), c.body_status) << c.url;
    EXPECT_EQ(Str(j->root, c.key), c.text) << c.url;
    EXPECT_EQ(Str(j->root, "request_id"), a.headers.at("x-request-id"));
  }
  // The right key works through both channels.
  EXPECT_EQ(client.Get(aggs + "2025-01-01/2025-01-02?" + good).status, 200);
  EXPECT_EQ(client.Get(aggs + "2025-01-01/2025-01-02", {std::string("Authorization: Bearer ") + kKey}).status, 200);
  const SimStats stats = server->Stats();
  EXPECT_EQ(stats.auth_failures, 4);
  EXPECT_EQ(stats.bad_requests, 4);
  EXPECT_EQ(stats.forbidden, 1);
  EXPECT_EQ(stats.data_requests, 2);
  EXPECT_EQ(stats.requests, 11);
}

TEST(SimServer, AnyNonEmptyKeyWorksWhenNoneIsConfigured) {
  auto server = StartSim();
  ASSERT_TRUE(server);
  TestClient client;
  const std::string url = server->BaseUrl() + "/v2/aggs/ticker/AAPL/range/1/day/2025-01-01/2025-01-02";
  EXPECT_EQ(client.Get(url + "?apiKey=anything").status, 200);
  EXPECT_EQ(client.Get(url, {"Authorization: Bearer whatever"}).status, 200);
  EXPECT_EQ(client.Get(url).status, 401);
}

TEST(SimServer, RateLimitAnswers429BeyondNPerMinutePerKey) {
  SimOptions options;
  options.rate_limit_per_min = 5;
  auto server = StartSim(options);
  ASSERT_TRUE(server);
  TestClient client;
  const std::string url = server->BaseUrl() + "/v2/aggs/ticker/AAPL/range/1/day/2025-01-01/2025-01-02?apiKey=";
  for (int i = 0; i < 5; ++i) EXPECT_EQ(client.Get(url + "a").status, 200) << i;
  for (int i = 0; i < 3; ++i) {
    const HttpAnswer a = client.Get(url + "a");
    EXPECT_EQ(a.status, 429);
    const auto j = ParseJson(a.body);
    EXPECT_EQ(Str(j->root, "status"), "ERROR");
    EXPECT_EQ(Str(j->root, "error"), kTextRateLimited);
  }
  EXPECT_EQ(client.Get(url + "b").status, 200) << "each key has its own window";
  const SimStats stats = server->Stats();
  EXPECT_EQ(stats.rate_limited, 3);
  EXPECT_EQ(stats.http429, 0);
  EXPECT_EQ(stats.data_requests, 6);
}

SimOptions OnlyFault(double FaultRates::*fault, double p = 1) {
  SimOptions options;
  options.faults.*fault = p;
  return options;
}

const char* kDayOfMinutes = "/v2/aggs/ticker/X:BTCUSD/range/1/minute/2025-03-01/2025-03-01?limit=50000&apiKey=k";

BarBatch DayOfMinutesTruth() {
  return GroundTruth(kSeed, *Ticker::Parse("X:BTCUSD"), Timeframe(1, Timespan::kMinute), true,
                     MarketZone::Utc().DaysToRange(*CalendarDay::Parse("2025-03-01"), *CalendarDay::Parse("2025-03-01")));
}

TEST(SimFaults, Http429HasTheRealBodyAndHalfCarryRetryAfter) {
  auto server = StartSim(OnlyFault(&FaultRates::http429));
  ASSERT_TRUE(server);
  TestClient client;
  int with_retry_after = 0;
  for (int i = 0; i < 40; ++i) {
    const HttpAnswer a = client.Get(server->BaseUrl() + kDayOfMinutes);
    ASSERT_EQ(a.status, 429);
    EXPECT_EQ(Str(ParseJson(a.body)->root, "error"), kTextRateLimited);
    if (a.headers.count("retry-after") > 0) {
      EXPECT_EQ(a.headers.at("retry-after"), "1");
      ++with_retry_after;
    }
  }
  EXPECT_GT(with_retry_after, 8);
  EXPECT_LT(with_retry_after, 32);
  EXPECT_EQ(server->Stats().http429, 40);
  EXPECT_EQ(server->Stats().rate_limited, 0);
}

TEST(SimFaults, Http5xxAreGatewayErrorsWithHtmlOrEmptyBodies) {
  auto server = StartSim(OnlyFault(&FaultRates::http5xx));
  ASSERT_TRUE(server);
  TestClient client;
  std::set<long> statuses;
  int html = 0;
  int empty = 0;
  for (int i = 0; i < 40; ++i) {
    const HttpAnswer a = client.Get(server->BaseUrl() + kDayOfMinutes);
    statuses.insert(a.status);
    if (a.body.empty()) {
      ++empty;
    } else {
      EXPECT_NE(a.body.find("<html>"), std::string::npos);
      EXPECT_EQ(a.headers.at("content-type"), "text/html");
      ++html;
    }
  }
  EXPECT_EQ(statuses, (std::set<long>{502, 503, 504}));
  EXPECT_GT(html, 0);
  EXPECT_GT(empty, 0);
  EXPECT_EQ(server->Stats().http5xx, 40);
}

TEST(SimFaults, ResetCutsTheConnectionMidBody) {
  auto server = StartSim(OnlyFault(&FaultRates::reset));
  ASSERT_TRUE(server);
  TestClient client;
  for (int i = 0; i < 3; ++i) {
    const HttpAnswer a = client.Get(server->BaseUrl() + kDayOfMinutes);
    EXPECT_EQ(a.status, 200) << "the status line and headers arrive first";
    EXPECT_EQ(a.code, CURLE_RECV_ERROR) << curl_easy_strerror(a.code);
    EXPECT_GT(a.body.size(), 0u);
  }
  EXPECT_EQ(server->Stats().reset, 3);
  EXPECT_EQ(server->Stats().bars_served, 0);
  EXPECT_EQ(server->Stats().connections, 3);
}

/// One request for a day of minute bars from a simulator that always injects `fault`, and the
/// simulator's stats after it.
std::pair<HttpAnswer, SimStats> OneFaultedRequest(double FaultRates::*fault) {
  auto server = StartSim(OnlyFault(fault));
  TestClient client;
  HttpAnswer answer = client.Get(server->BaseUrl() + kDayOfMinutes);
  return {std::move(answer), server->Stats()};
}

TEST(SimFaults, TruncateSendsAShortBodyUnderAFullContentLength) {
  const auto [a, stats] = OneFaultedRequest(&FaultRates::truncate);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.code, CURLE_PARTIAL_FILE) << curl_easy_strerror(a.code);
  EXPECT_LT(a.body.size(), std::stoul(a.headers.at("content-length")));
  EXPECT_EQ(stats.truncate, 1);
}

TEST(SimFaults, BadJsonIsA200ThatDoesNotParse) {
  const auto [a, stats] = OneFaultedRequest(&FaultRates::badjson);
  EXPECT_EQ(a.code, CURLE_OK);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body.size(), std::stoul(a.headers.at("content-length")));
  EXPECT_FALSE(ParseJson(a.body)->ok);
  EXPECT_EQ(stats.badjson, 1);
}

TEST(SimFaults, SlowTricklesTheBodyButCompletesIt) {
  const auto [a, stats] = OneFaultedRequest(&FaultRates::slow);
  EXPECT_EQ(a.code, CURLE_OK);
  EXPECT_EQ(a.status, 200);
  EXPECT_GE(a.seconds, 0.8);
  EXPECT_LT(a.seconds, 5.0);
  EXPECT_EQ(ParseResults(ParseJson(a.body)->root), DayOfMinutesTruth());
  EXPECT_EQ(stats.slow, 1);
  EXPECT_EQ(stats.bars_served, 1440);
}

TEST(SimFaults, DelayedAndExponentVolumesStillCarryTheExactBars) {
  SimOptions options;
  options.faults.delayed = 1;
  options.faults.expvol = 1;
  auto server = StartSim(options);
  ASSERT_TRUE(server);
  TestClient client;
  const HttpAnswer a = client.Get(server->BaseUrl() + kDayOfMinutes);
  ASSERT_EQ(a.status, 200);
  const auto j = ParseJson(a.body);
  EXPECT_EQ(Str(j->root, "status"), "DELAYED");
  EXPECT_NE(a.body.find("{\"v\":1."), std::string::npos);
  EXPECT_NE(a.body.find("e+0"), std::string::npos);
  EXPECT_EQ(ParseResults(j->root), DayOfMinutesTruth());
  // Whole-number prices (one in a hundred for stocks priced in cents) come as integer literals.
  const HttpAnswer daily = client.Get(server->BaseUrl() + "/v2/aggs/ticker/AAPL/range/1/minute/2025-01-01/2025-01-31?limit=50000&apiKey=k");
  const BarBatch bars = ParseResults(ParseJson(daily.body)->root);
  bool found_whole = false;
  for (size_t i = 0; i < bars.size() && !found_whole; ++i) {
    if (bars.open[i] == std::floor(bars.open[i])) {
      found_whole = true;
      const std::string literal = ",\"o\":" + std::to_string(static_cast<int64_t>(bars.open[i])) + ",";
      EXPECT_NE(daily.body.find(literal), std::string::npos) << literal;
    }
  }
  EXPECT_TRUE(found_whole);
  EXPECT_EQ(server->Stats().delayed, 2);
  EXPECT_EQ(server->Stats().expvol, 2);
}

TEST(SimFaults, DiceAreDeterministicAndStatsAreNeverFaulted) {
  const auto outcomes = [](uint64_t fault_seed) {
    SimOptions options;
    options.faults.http5xx = 0.3;
    options.faults.reset = 0.3;
    options.fault_seed = fault_seed;
    auto server = StartSim(options);
    TestClient client;
    std::string seen;
    for (int i = 0; i < 30; ++i) {
      const HttpAnswer a = client.Get(server->BaseUrl() + "/v2/aggs/ticker/AAPL/range/1/day/2025-01-01/2025-01-10?apiKey=k");
      seen += a.code != CURLE_OK ? 'R' : a.status == 200 ? '.' : '5';
      // The admin endpoints answer whatever the dice say.
      EXPECT_EQ(client.Get(server->BaseUrl() + "/__stats").status, 200);
    }
    const SimStats stats = server->Stats();
    EXPECT_EQ(stats.data_requests, 30);
    EXPECT_EQ(stats.reset + stats.http5xx + (static_cast<int64_t>(std::count(seen.begin(), seen.end(), '.'))), 30);
    return seen;
  };
  const std::string first = outcomes(5);
  EXPECT_EQ(outcomes(5), first);
  EXPECT_NE(outcomes(6), first);
  EXPECT_NE(first.find('R'), std::string::npos);
  EXPECT_NE(first.find('5'), std::string::npos);
  EXPECT_NE(first.find('.'), std::string::npos);
}

TEST(SimServer, GzipDecodesToTheSameBody) {
  auto server = StartSim();
  ASSERT_TRUE(server);
  TestClient client;
  const std::string url = server->BaseUrl() + kDayOfMinutes;
  const HttpAnswer plain = client.Get(url);
  const HttpAnswer zipped = client.Get(url, {}, true);
  ASSERT_EQ(zipped.status, 200);
  EXPECT_EQ(zipped.headers.count("content-encoding"), 1u);
  EXPECT_EQ(zipped.headers.at("content-encoding"), "gzip");
  EXPECT_EQ(plain.headers.count("content-encoding"), 0u);
  EXPECT_LT(zipped.wire_bytes * 2, plain.wire_bytes);
  const auto strip_id = [](std::string body) {
    const size_t at = body.find("\"request_id\":\"");
    return body.erase(at + 14, 32);
  };
  EXPECT_EQ(strip_id(zipped.body), strip_id(plain.body));
}

TEST(SimServer, GzipCanBeTurnedOff) {
  SimOptions options;
  options.gzip = false;
  auto server = StartSim(options);
  ASSERT_TRUE(server);
  TestClient client;
  const HttpAnswer a = client.Get(server->BaseUrl() + kDayOfMinutes, {}, true);
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.headers.count("content-encoding"), 0u);
  EXPECT_EQ(ParseResults(ParseJson(a.body)->root), DayOfMinutesTruth());
}

TEST(SimServer, KeepAliveConnectionCloseAndIdleTimeout) {
  SimOptions options;
  options.idle_timeout_ms = 1000;
  auto server = StartSim(options);
  ASSERT_TRUE(server);
  TestClient client;
  const std::string url = server->BaseUrl() + "/v2/aggs/ticker/AAPL/range/1/day/2025-01-01/2025-01-10?apiKey=k";
  EXPECT_EQ(client.Get(url).new_connections, 1);
  EXPECT_EQ(client.Get(url).new_connections, 0);
  EXPECT_EQ(client.Get(url).new_connections, 0);
  const HttpAnswer closing = client.Get(url, {"Connection: close"});
  EXPECT_EQ(closing.status, 200);
  EXPECT_EQ(closing.headers.at("connection"), "close");
  EXPECT_EQ(client.Get(url).new_connections, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  EXPECT_EQ(client.Get(url).new_connections, 1) << "the idle connection was closed";
  EXPECT_EQ(server->Stats().connections, 3);
}

TEST(SimServer, NextUrlFollowsTheHostTheClientUsed) {
  auto server = StartSim();
  ASSERT_TRUE(server);
  TestClient client;
  const HttpAnswer a = client.Get(server->BaseUrl() + "/v2/aggs/ticker/AAPL/range/1/day/2025-01-01/2025-03-01?limit=5&apiKey=k",
                                  {"Host: proxy.test:8443"});
  ASSERT_EQ(a.status, 200);
  const std::string next = Str(ParseJson(a.body)->root, "next_url");
  EXPECT_EQ(next.rfind("http://proxy.test:8443/v2/aggs/ticker/AAPL/range/1/day/", 0), 0u) << next;
  EXPECT_EQ(next.substr(next.find("/2025-03-01?cursor=")), "/2025-03-01?cursor=" + Base64UrlEncode("limit=5&sort=asc"));
}

TEST(SimServer, RequestLogAndReset) {
  auto server = StartSim();
  ASSERT_TRUE(server);
  TestClient client;
  const std::string base = server->BaseUrl();
  client.Get(base + "/v2/aggs/ticker/AAPL/range/1/day/2025-01-01/2025-01-02?apiKey=secret&limit=7");
  client.Get(base + "/v2/aggs/ticker/MSFT/range/1/day/2025-01-01/2025-01-02", {"Authorization: Bearer secret"});
  client.Get(base + "/v2/aggs/ticker/MSFT/range/1/day/2025-01-01/2025-01-02");  // 401: not a data request
  const HttpAnswer log = client.Get(base + "/__requests");
  ASSERT_EQ(log.status, 200);
  EXPECT_EQ(log.body, "[\"/v2/aggs/ticker/AAPL/range/1/day/2025-01-01/2025-01-02?limit=7\","
                      "\"/v2/aggs/ticker/MSFT/range/1/day/2025-01-01/2025-01-02\"]");
  const auto stats = ParseJson(client.Get(base + "/__stats").body);
  ASSERT_TRUE(stats->ok);
  EXPECT_EQ(KeysOf(stats->root),
            (std::vector<std::string>{"requests", "data_requests", "bars_served", "bytes_served", "rate_limited", "http429",
                                      "http5xx", "reset", "truncate", "badjson", "slow", "delayed", "expvol",
                                      "auth_failures", "bad_requests", "forbidden", "connections", "actions_requests"}));
  EXPECT_EQ(Int(stats->root, "requests"), 3);
  EXPECT_EQ(Int(stats->root, "data_requests"), 2);
  EXPECT_EQ(Int(stats->root, "auth_failures"), 1);
  EXPECT_GT(Int(stats->root, "bytes_served"), 0);
  EXPECT_EQ(client.Get(base + "/__reset").status, 200);
  EXPECT_EQ(client.Get(base + "/__requests").body, "[]");
  EXPECT_EQ(server->Stats().requests, 0);
  EXPECT_EQ(server->Stats().bytes_served, 0);
}

TEST(SimServer, ConcurrentClientsGetTheirOwnPages) {
  auto server = StartSim();
  ASSERT_TRUE(server);
  const char* tickers[] = {"AAPL", "X:BTCUSD", "MSFT", "X:ETHUSD"};
  std::vector<std::thread> threads;
  std::vector<BarBatch> got(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      TestClient client;
      got[i] = FollowAll(client, *server,
                         "/v2/aggs/ticker/" + std::string(tickers[i]) + "/range/1/minute/2025-03-03/2025-03-05?limit=700",
                         Auth::kBearer)
                   .bars;
    });
  }
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < 4; ++i) {
    const Ticker ticker = *Ticker::Parse(tickers[i]);
    const TimeRange range =
        ticker.zone().DaysToRange(*CalendarDay::Parse("2025-03-03"), *CalendarDay::Parse("2025-03-05"));
    EXPECT_EQ(got[i], GroundTruth(kSeed, ticker, Timeframe(1, Timespan::kMinute), true, range)) << tickers[i];
  }
}

TEST(SimServer, StopIsIdempotentAndRefusesNewConnections) {
  auto server = StartSim();
  ASSERT_TRUE(server);
  TestClient client;
  const std::string url = server->BaseUrl() + "/__stats";
  EXPECT_EQ(client.Get(url).status, 200);  // leaves a keep-alive connection open
  server->Stop();
  server->Stop();
  TestClient other;
  EXPECT_NE(other.Get(url).code, CURLE_OK);
}

TEST(SimServer, StartRejectsBadOptions) {
  SimOptions options;
  options.port = 70000;
  EXPECT_FALSE(SimServer::Start(options));
  options.port = 0;
  options.host = "no-such-host.invalid";
  EXPECT_FALSE(SimServer::Start(options));
}

TEST(FaultRatesParse, AcceptsKnownNamesAndRejectsTheRest) {
  const auto rates = FaultRates::Parse("reset=0.05, http429=0.02,delayed=1,expvol=0.5");
  ASSERT_TRUE(rates);
  EXPECT_EQ(rates->reset, 0.05);
  EXPECT_EQ(rates->http429, 0.02);
  EXPECT_EQ(rates->delayed, 1);
  EXPECT_EQ(rates->expvol, 0.5);
  EXPECT_TRUE(FaultRates::Parse(""));
  for (const char* bad : {"nope=0.1", "reset", "reset=2", "reset=-0.1", "reset=abc", "reset=0.6,slow=0.6"}) {
    const auto r = FaultRates::Parse(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kUsage);
  }
  EXPECT_NE(FaultRates::Parse("nope=0.1").error().message.find("unknown fault 'nope'"), std::string::npos);
}

// ---- grouped daily over loopback ---------------------------------------------------------------

std::vector<std::string> ResultTickers(simdjson::dom::element root) {
  std::vector<std::string> tickers;
  simdjson::dom::array results;
  if (root["results"].get(results) != simdjson::SUCCESS) return tickers;
  for (simdjson::dom::element item : results) {
    EXPECT_EQ(KeysOf(item), (std::vector<std::string>{"T", "v", "vw", "o", "c", "h", "l", "t", "n"}));
    tickers.push_back(Str(item, "T"));
  }
  return tickers;
}

TEST(SimGrouped, ServesTheUniverseOfTheDayStampedAsTheApiStampsIt) {
  auto server = StartSim();
  ASSERT_TRUE(server);
  TestClient client;
  const std::string grouped = server->BaseUrl() + "/v2/aggs/grouped/locale/";
  const Market market(kSeed);
  const Timeframe daily(1, Timespan::kDay);

  // 2024-03-11, the Monday after the DST change: 16:00 New York is 20:00Z.
  const HttpAnswer a = client.Get(grouped + "us/market/stocks/2024-03-11?adjusted=true&include_otc=false",
                                  {std::string("Authorization: Bearer ") + kKey});
  ASSERT_EQ(a.status, 200) << a.body;
  const auto j = ParseJson(a.body);
  ASSERT_TRUE(j->ok);
  EXPECT_EQ(KeysOf(j->root), (std::vector<std::string>{"queryCount", "resultsCount", "adjusted", "results", "status",
                                                       "request_id", "count"}));
  EXPECT_EQ(Str(j->root, "request_id"), a.headers.at("x-request-id"));
  const std::vector<std::string> tickers = ResultTickers(j->root);
  EXPECT_EQ(tickers, (std::vector<std::string>{"AAPL", "MSFT", "BRK.B", "SPY", "ADSw", "MTBpC.CL"}));
  EXPECT_EQ(Int(j->root, "resultsCount"), 6);
  EXPECT_EQ(Int(j->root, "count"), 6);
  const BarBatch bars = ParseResults(j->root);
  const TimeRange day = MarketZone::NewYork().DaysToRange(CalendarDay{2024, 3, 11}, CalendarDay{2024, 3, 11});
  for (size_t i = 0; i < 4; ++i) {
    Bar want = GroundTruth(market, *Ticker::Parse(tickers[i]), daily, true, day)[0];
    want.t = 1710187200000;
    EXPECT_EQ(bars[i], want) << tickers[i];
  }

  // A weekend is an empty day; crypto and forex trade and sit at 00:00 UTC.
  const auto weekend = ParseJson(client.Get(grouped + "us/market/stocks/2024-03-09?apiKey=k").body);
  EXPECT_EQ(KeysOf(weekend->root),
            (std::vector<std::string>{"queryCount", "resultsCount", "adjusted", "status", "request_id"}));
  for (const auto& [market_path, want_tickers] :
       {std::pair{"global/market/crypto/2024-03-09", std::vector<std::string>{"X:BTCUSD", "X:ETHUSD"}},
        std::pair{"global/market/fx/2024-03-09", std::vector<std::string>{"C:EURUSD", "C:USDJPY"}}}) {
    const auto body = ParseJson(client.Get(grouped + market_path + "?adjusted=false&apiKey=k").body);
    ASSERT_TRUE(body->ok);
    EXPECT_EQ(ResultTickers(body->root), want_tickers);
    for (const int64_t t : ParseResults(body->root).t) EXPECT_EQ(t, 1709942400000) << market_path;
    bool adjusted = true;
    EXPECT_EQ(body->root["adjusted"].get(adjusted), simdjson::SUCCESS);
    EXPECT_FALSE(adjusted);
  }
}

TEST(SimGrouped, AnswersAuthBadDatesTheRateLimitAndLogsDataRequests) {
  SimOptions options;
  options.api_key = kKey;
  options.rate_limit_per_min = 2;
  auto server = StartSim(options);
  ASSERT_TRUE(server);
  TestClient client;
  const std::string stocks = server->BaseUrl() + "/v2/aggs/grouped/locale/us/market/stocks/";
  const std::string key = std::string("apiKey=") + kKey;
  struct Case {
    std::string url;
    long status;
    const char* body_status;
    const char* text_key;
    std::string_view text;
  };
  const Case cases[] = {
      {stocks + "2025-03-10", 401, "ERROR", "error", kTextNoApiKey},
      {stocks + "2025-03-10?apiKey=wrong", 401, "ERROR", "error", kTextUnknownApiKey},
      {stocks + "2025-13-10?" + key, 400, "ERROR", "error", kTextBadDate},
      {stocks + "2025-03-10?adjusted=maybe&" + key, 400, "ERROR", "error", "The parameter 'adjusted' must be true or false"},
      {server->BaseUrl() + "/v2/aggs/grouped/locale/global/market/options/2025-03-10?" + key, 404, "NOT_FOUND", "message",
       kTextNotFound},
  };
  for (const Case& c : cases) {
    const HttpAnswer a = client.Get(c.url);
    EXPECT_EQ(a.status, c.status) << c.url;
    const auto j = ParseJson(a.body);
    ASSERT_TRUE(j->ok) << a.body;
    EXPECT_EQ(KeysOf(j->root), (std::vector<std::string>{"status", "request_id", c.text_key})) << c.url;
    EXPECT_EQ(Str(j->root, "status"), c.body_status);
    EXPECT_EQ(Str(j->root, c.text_key), c.text);
  }
  EXPECT_EQ(client.Get(stocks + "2025-03-10?adjusted=false&" + key).status, 200);
  EXPECT_EQ(client.Get(stocks + "2025-03-11", {std::string("Authorization: Bearer ") + kKey}).status, 200);
  const HttpAnswer limited = client.Get(stocks + "2025-03-12?" + key);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(Str(ParseJson(limited.body)->root, "error"), kTextRateLimited);
  EXPECT_EQ(client.Get(server->BaseUrl() + "/__requests").body,
            "[\"/v2/aggs/grouped/locale/us/market/stocks/2025-03-10?adjusted=false\","
            "\"/v2/aggs/grouped/locale/us/market/stocks/2025-03-11\"]");
  const SimStats stats = server->Stats();
  EXPECT_EQ(stats.auth_failures, 2);
  EXPECT_EQ(stats.bad_requests, 3);
  EXPECT_EQ(stats.rate_limited, 1);
  EXPECT_EQ(stats.data_requests, 2);
  EXPECT_EQ(stats.bars_served, 12);  // four stocks and the two test symbols, twice
}

}  // namespace
}  // namespace barfill::sim
