#include "fetch/actions_fetcher.h"

#include "fetch/api_session.h"
#include "polygon/actions_api.h"

namespace barfill::fetch {
namespace {

// More pages than this for one request is a server bug, not data.
constexpr int kMaxActionsPages = 10'000;

}  // namespace

struct ActionsFetcher::Impl {
  ApiSession api;

  explicit Impl(const FetchShared& shared) : api(shared) {}

  /// Follows `url` and its next_urls, appending every row to `out`.
  Status FetchAll(polygon::ActionsKind kind, std::string url, const std::string& context, FetchedActions& out,
                  FetchStats& stats) {
    if (!api.setup()) return Fail(api.setup().error());
    for (int pages = 1;; ++pages) {
      if (pages > kMaxActionsPages) {
        return Fail(api.InContext(context, Error(ErrorCode::kInvalidData, "more than " + std::to_string(kMaxActionsPages) + " pages"), url));
      }
      polygon::ActionsPage page;
      // Reference data: the stocks profile's attempts and timeouts.
      const http::RequestTimeouts timeouts = api.PrepareFor(AssetClass::kStock);
      BARFILL_TRY(api.Request(
          context, url, timeouts,
          [&](polygon::AggsParser&, int http_status, const char* data, size_t size, size_t) -> Result<polygon::PageStatus> {
            auto parsed = polygon::ReadActionsResponse(kind, http_status, std::string_view(data, size));
            if (!parsed) return Fail(std::move(parsed).error());
            page = std::move(*parsed);
            return polygon::PageStatus::kOk;
          },
          stats, nullptr));
      for (SplitRecord& s : page.splits) out.splits.push_back(std::move(s));
      for (DividendRecord& d : page.dividends) out.dividends.push_back(std::move(d));
      if (page.next_url.empty()) return Ok();
      if (Status next = polygon::CheckActionsNextUrl(page.next_url, api.origin(), url); !next) {
        Error error = next.error();
        error.code = ErrorCode::kInvalidData;  // retrying would bring the same bad link back
        return Fail(api.InContext(context, std::move(error), url));
      }
      url = std::move(page.next_url);
    }
  }
};

ActionsFetcher::ActionsFetcher(const FetchShared& shared) : impl_(std::make_unique<Impl>(shared)) {}
ActionsFetcher::~ActionsFetcher() = default;

Result<FetchedActions> ActionsFetcher::Fetch(const std::vector<std::string>& tickers, FetchStats& stats) {
  FetchedActions out;
  for (size_t begin = 0; begin < tickers.size(); begin += polygon::kTickersPerActionsRequest) {
    const size_t end = std::min(tickers.size(), begin + polygon::kTickersPerActionsRequest);
    const std::vector<std::string> group(tickers.begin() + static_cast<std::ptrdiff_t>(begin),
                                         tickers.begin() + static_cast<std::ptrdiff_t>(end));
    std::string names = group.front() + (group.size() > 1 ? " and " + std::to_string(group.size() - 1) + " more" : "");
    for (const polygon::ActionsKind kind : {polygon::ActionsKind::kSplits, polygon::ActionsKind::kDividends}) {
      auto url = polygon::BuildActionsUrl(impl_->api.base_url(), kind, group);
      if (!url) return Fail(url.error());
      const std::string context = std::string(kind == polygon::ActionsKind::kSplits ? "splits" : "dividends") + " of " + names;
      BARFILL_TRY(impl_->FetchAll(kind, std::move(*url), context, out, stats));
    }
  }
  return out;
}

Result<std::vector<SplitRecord>> ActionsFetcher::FetchV3Splits(const std::string& ticker, FetchStats& stats) {
  auto url = polygon::BuildV3SplitsUrl(impl_->api.base_url(), ticker);
  if (!url) return Fail(url.error());
  FetchedActions out;
  BARFILL_TRY(impl_->FetchAll(polygon::ActionsKind::kSplits, std::move(*url), "v3 splits of " + ticker, out, stats));
  return std::move(out.splits);
}

}  // namespace barfill::fetch
