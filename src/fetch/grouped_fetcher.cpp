#include "fetch/grouped_fetcher.h"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <string>
#include <utility>

#include "core/series.h"
#include "core/timeframe.h"
#include "fetch/api_session.h"
#include "fetch/bar_validator.h"

namespace barfill::fetch {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

GroupedValidation ValidateGroupedDay(const polygon::GroupedDailyRequest& request, polygon::GroupedDay& day) {
  GroupedValidation found;
  std::vector<uint32_t> order(day.tickers.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return day.tickers[a].symbol() < day.tickers[b].symbol(); });
  const Timeframe daily(1, Timespan::kDay);
  const TimeRange range = request.Day();
  std::vector<Ticker> tickers;
  BarBatch bars;
  BarBatch one_ticker;  // the rows of one ticker, validated together
  tickers.reserve(order.size());
  bars.reserve(order.size());
  for (size_t run = 0; run < order.size();) {
    const Ticker& ticker = day.tickers[order[run]];
    one_ticker.clear();
    for (; run < order.size() && day.tickers[order[run]] == ticker; ++run) one_ticker.push_back(day.bars[order[run]]);
    ValidationReport report;
    const Status valid = ValidateBars(Chunk{Series{ticker, daily, request.adjusted}, range}, one_ticker, report);
    found.duplicates_dropped += report.duplicates_dropped;
    if (!valid) {
      found.rejected.push_back({ticker, valid.error()});
      continue;
    }
    for (size_t i = 0; i < one_ticker.size(); ++i) {
      tickers.push_back(ticker);
      bars.push_back(one_ticker[i]);
    }
  }
  day.tickers = std::move(tickers);
  day.bars = std::move(bars);
  return found;
}

struct GroupedFetcher::Impl {
  ApiSession session;

  explicit Impl(const FetchShared& shared) : session(shared) {}

  Result<FetchedDay> FetchDay(const GroupedDayQuery& query, FetchStats& stats) {
    const Status& setup = session.setup();
    if (!setup) return Fail(setup.error());
    if (session.Cancelled()) return Fail(ApiSession::Interrupted());
    const polygon::GroupedDailyRequest& request = query.request;
    auto url = polygon::BuildGroupedDailyUrl(session.base_url(), request);
    if (!url) return Fail(session.InContext(request.Describe(), std::move(url).error(), ""));
    const http::RequestTimeouts timeouts = session.PrepareFor(polygon::AssetClassOf(request.market));

    FetchedDay fetched;
    fetched.range = request.Day();
    const auto read = [&](polygon::AggsParser& parser, int http_status, const char* data, size_t size,
                          size_t capacity) -> Result<polygon::PageStatus> {
      auto day = polygon::ReadGroupedDailyResponse(parser, request, http_status, data, size, capacity);
      if (!day) return Fail(std::move(day).error());
      if (query.expect_bars && day->bars.empty() && day->skipped == 0) {
        Error error(ErrorCode::kBadResponse,
                    "no bars at all for a day the market traded (the API has answered empty trading days by mistake before)");
        error.http_status = http_status;
        return Fail(std::move(error));
      }
      fetched.day = std::move(*day);
      return fetched.day.status;
    };
    const int64_t requests_before = stats.requests;
    const Status asked = session.Request(request.Describe(), *url, timeouts, read, stats, &fetched.requested_at_ms);
    fetched.requests = static_cast<int>(stats.requests - requests_before);
    if (!asked) return Fail(asked.error());

    const auto validate_start = std::chrono::steady_clock::now();
    GroupedValidation found = ValidateGroupedDay(request, fetched.day);
    stats.parse_s += SecondsSince(validate_start);
    stats.duplicates_dropped += found.duplicates_dropped;
    for (RejectedTicker& rejected : found.rejected) {
      rejected.error = session.InContext(request.Describe(), std::move(rejected.error), *url);
    }
    fetched.rejected = std::move(found.rejected);
    return fetched;
  }
};

GroupedFetcher::GroupedFetcher(const FetchShared& shared) : impl_(std::make_unique<Impl>(shared)) {}
GroupedFetcher::~GroupedFetcher() = default;

Result<FetchedDay> GroupedFetcher::FetchDay(const GroupedDayQuery& query, FetchStats& stats) {
  return impl_->FetchDay(query, stats);
}

}  // namespace barfill::fetch
