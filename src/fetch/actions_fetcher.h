// Fetching corporate actions: every split and dividend of a list of stocks, page by page through
// next_url, under the same rate limiter, retries and budget as the bars (fetch/api_session.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/corporate_actions.h"
#include "core/result.h"
#include "fetch/chunk_fetcher.h"

namespace barfill::fetch {

/// What the vendor lists for some tickers now.
struct FetchedActions {
  std::vector<SplitRecord> splits;
  std::vector<DividendRecord> dividends;
};

/// One per thread; not thread-safe itself.
class ActionsFetcher {
 public:
  explicit ActionsFetcher(const FetchShared& shared);
  ~ActionsFetcher();
  ActionsFetcher(const ActionsFetcher&) = delete;
  ActionsFetcher& operator=(const ActionsFetcher&) = delete;

  /// Every split and dividend of `tickers` from /stocks/v1/splits and /stocks/v1/dividends
  /// (ticker.any_of, 100 tickers a request, 5000 rows a page, next_url followed on the same host
  /// and endpoint). Errors as ChunkFetcher::Fetch.
  Result<FetchedActions> Fetch(const std::vector<std::string>& tickers, FetchStats& stats);

  /// The splits of one ticker from the deprecated /v3/reference/splits, only to compare with v1.
  Result<std::vector<SplitRecord>> FetchV3Splits(const std::string& ticker, FetchStats& stats);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace barfill::fetch
