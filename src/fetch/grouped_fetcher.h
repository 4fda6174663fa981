// Fetching one market day of grouped daily bars (every ticker's day bar in one request,
// docs/api-contract.md appendix) under the shared rate limiter, with the same retry policy,
// budget, error classification and stats as ChunkFetcher, validated per ticker as ranges are.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/result.h"
#include "core/ticker.h"
#include "fetch/chunk_fetcher.h"
#include "polygon/grouped_daily.h"

namespace barfill::fetch {

/// One market day to fetch.
struct GroupedDayQuery {
  polygon::GroupedDailyRequest request;
  /// Set it when the exchange calendar says the market traded that day: an answer without any
  /// result is then retried as a bad response, and the day fails after the attempts instead of
  /// being taken as empty (the API has answered `"results":null` for trading days now and then,
  /// polygon-io/issues#2). Unset, an empty answer is an empty day.
  bool expect_bars = false;
};

/// A ticker whose bars failed validation: its day fails as a rejected range page does
/// (kInvalidData, not retried, nothing stored); the other tickers of the day are kept.
struct RejectedTicker {
  Ticker ticker;
  Error error;
};

/// One fetched market day.
struct FetchedDay {
  /// Validated: one bar per ticker, rows sorted by ticker (row i of `day.bars` belongs to
  /// `day.tickers[i]`), every `t` the day's start in the market's zone, so each bar equals the
  /// range endpoint's `1d` bar of that ticker and day; identical duplicates dropped.
  polygon::GroupedDay day;
  /// The day, [00:00, next 00:00) in the market's zone: for every series of the market's tickers
  /// with timeframe 1d and the request's `adjusted`, the part of the series this answer covers.
  /// A ticker absent from `day.tickers` (and not rejected) has no bar that day.
  TimeRange range;
  std::vector<RejectedTicker> rejected;
  int requests = 1;              ///< requests it took, retries included
  int64_t requested_at_ms = 0;   ///< wall clock (Unix ms) when its answering request was sent
};

/// What validating a day found.
struct GroupedValidation {
  std::vector<RejectedTicker> rejected;
  int64_t duplicates_dropped = 0;  ///< identical bars of one ticker seen more than once
};

/// Validates a day as read from the wire, in place, as ranges are validated: rows sorted by
/// ticker, each ticker's rows checked as a 1d page of its series covering `request.Day()`
/// (ValidateBars: finite numbers, OHLC, volume, alignment, inside the day, one bar per t).
/// Identical duplicates are dropped; a ticker with a bad bar, or two different ones, is removed
/// from the day and listed.
GroupedValidation ValidateGroupedDay(const polygon::GroupedDailyRequest& request, polygon::GroupedDay& day);

/// One per fetcher thread: owns its HTTP connection(s); not thread-safe itself.
class GroupedFetcher {
 public:
  explicit GroupedFetcher(const FetchShared& shared);
  ~GroupedFetcher();
  GroupedFetcher(const GroupedFetcher&) = delete;
  GroupedFetcher& operator=(const GroupedFetcher&) = delete;

  /// Fetches one market day: one request (plus its retries). Tickers barfill cannot hold are
  /// skipped and counted (`day.skipped`), tickers whose bars fail validation are listed in
  /// `rejected`. Errors, for the whole day: kUsage (a date the API cannot be asked for), kAuth
  /// (stop the run), kBadRequest (this day fails), kBadResponse (garbage, or no bars for an
  /// expected trading day, after every attempt), kNetworkGaveUp, kInterrupted; as ChunkFetcher.
  Result<FetchedDay> FetchDay(const GroupedDayQuery& query, FetchStats& stats);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace barfill::fetch
