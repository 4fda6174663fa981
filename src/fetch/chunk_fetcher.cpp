#include "fetch/chunk_fetcher.h"

#include <chrono>

#include "fetch/api_client.h"
#include "fetch/asset_profile.h"
#include "fetch/bar_validator.h"
#include "http/http_client.h"
#include "polygon/aggs_parser.h"
#include "polygon/aggs_request.h"

namespace barfill::fetch {
namespace {

static_assert(http::kBodyPadding >= polygon::kParsePadding,
              "HTTP bodies must carry the parser's padding so that they parse in place");

// A chunk needing more pages than this is a server bug, not data.
constexpr int kMaxPagesPerChunk = 10'000;

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

void FetchStats::Add(const FetchStats& o) {
  requests += o.requests;
  pages += o.pages;
  retries += o.retries;
  rate_limited += o.rate_limited;
  server_errors += o.server_errors;
  transport_errors += o.transport_errors;
  bad_responses += o.bad_responses;
  bytes += o.bytes;
  duplicates_dropped += o.duplicates_dropped;
  reordered += o.reordered;
  delayed_pages += o.delayed_pages;
  network_s += o.network_s;
  parse_s += o.parse_s;
  limiter_wait_s += o.limiter_wait_s;
  backoff_s += o.backoff_s;
}

struct ChunkFetcher::Impl {
  ApiClient api;
  polygon::AggsParser parser;

  explicit Impl(const FetchShared& shared) : api(shared) {}

  Error InContext(const Chunk& chunk, Error error, const std::string& shown_url) const {
    return api.InContext(chunk.Describe(), std::move(error), shown_url);
  }

  // All attempts at one page, parsed into `out` (appended; untouched on error).
  Result<polygon::AggsPage> FetchPage(const Chunk& chunk, const std::string& url,
                                      const http::RequestTimeouts& timeouts,
                                      const polygon::ParseOptions& parse_options, BarBatch& out,
                                      FetchStats& stats, int64_t* requested_at_ms) {
    polygon::AggsPage page;
    const Status got = api.Get(
        url, timeouts,
        [&](const http::HttpResponse& response) -> Status {
          auto parsed = polygon::ReadAggsResponse(parser, response.status, response.body.data(), response.body.size(),
                                                  response.body.size() + http::kBodyPadding, out, parse_options);
          if (!parsed) return Fail(std::move(parsed).error());
          page = std::move(*parsed);
          return Ok();
        },
        stats, chunk.Describe(), requested_at_ms);
    if (!got) return Fail(got.error());
    if (page.status == polygon::PageStatus::kDelayed) {
      ++stats.delayed_pages;
      api.Warn("note: the API answers with status DELAYED (the plan gets delayed data); the bars are stored");
    }
    return page;
  }

  // The range being fetched and where its next page starts.
  Chunk range;
  std::string next_url;  // empty before the first page
  int64_t next_from = 0;
  int pages = 0;
  bool done = true;

  void Begin(const Chunk& chunk) {
    range = chunk;
    next_url.clear();
    next_from = chunk.range.from_ms;
    pages = 0;
    done = false;
  }

  Result<FetchedPage> NextPage(BarBatch& out, FetchStats& stats) {
    out.clear();
    if (!api.setup()) return Fail(api.setup().error());
    if (done) return Fail(ErrorCode::kInternal, "NextPage called without a range to fetch");
    if (api.Cancelled()) return Fail(ErrorCode::kInterrupted, "interrupted");
    done = true;  // until this page succeeds and another one follows
    const AssetClass asset = range.series.ticker.asset_class();
    http::RequestTimeouts timeouts;
    const FetchConfig& config = api.config();
    if (config.use_asset_profiles) {
      const AssetProfile& profile = ProfileFor(asset);
      api.SetMaxAttempts(profile.max_attempts);
      timeouts.low_speed_time_ms = profile.low_speed_time_ms;
      timeouts.request_timeout_ms = profile.request_timeout_ms;
    }
    if (config.stall_timeout_ms > 0) timeouts.low_speed_time_ms = config.stall_timeout_ms;
    polygon::ParseOptions parse_options;
    parse_options.volume_optional = asset == AssetClass::kIndex;

    std::string url = next_url;
    if (url.empty()) {
      auto first_url = polygon::BuildAggsUrl(api.base_url(), polygon::AggsRequest::ForChunk(range, config.page_limit));
      if (!first_url) return Fail(InContext(range, std::move(first_url).error(), ""));
      url = std::move(*first_url);
    }
    if (++pages > kMaxPagesPerChunk) {
      return Fail(InContext(range, Error(ErrorCode::kInvalidData, "more than " + std::to_string(kMaxPagesPerChunk) + " pages"), url));
    }
    FetchedPage fetched;
    const int64_t requests_before = stats.requests;
    auto page = FetchPage(range, url, timeouts, parse_options, out, stats, &fetched.requested_at_ms);
    fetched.requests = static_cast<int>(stats.requests - requests_before);
    if (!page) return Fail(std::move(page).error());
    fetched.query_count = page->query_count;
    fetched.range.from_ms = next_from;
    fetched.range.to_ms = range.range.to_ms;
    if (!page->next_url.empty()) {
      auto following = polygon::CheckNextUrl(page->next_url, api.origin(), range.series.ticker.symbol(), next_from);
      if (!following) {
        // Retrying would only bring the same bad link back: fail the range, loudly.
        Error error = std::move(following).error();
        error.code = ErrorCode::kInvalidData;
        return Fail(InContext(range, std::move(error), url));
      }
      // The next page starts on the bar boundary at or before its `from`, as the API snaps it.
      const int64_t boundary = BucketStart(range.series.timeframe, range.series.ticker.zone(), *following);
      if (boundary <= next_from) {
        return Fail(InContext(range, Error(ErrorCode::kInvalidData, "next_url does not start a later bar"), url));
      }
      if (boundary < range.range.to_ms) {
        fetched.range.to_ms = boundary;
        next_from = boundary;
        next_url = std::move(page->next_url);
        done = false;
      }
    }
    fetched.last = done;

    const auto validate_start = std::chrono::steady_clock::now();
    ValidationReport report;
    const Status valid = ValidateBars(Chunk{range.series, fetched.range}, out, report);
    stats.parse_s += SecondsSince(validate_start);
    stats.duplicates_dropped += report.duplicates_dropped;
    if (report.reordered) ++stats.reordered;
    if (!valid) {
      out.clear();
      done = true;
      return Fail(InContext(range, valid.error(), url));
    }
    return fetched;
  }

  Status Fetch(const Chunk& chunk, BarBatch& out, FetchStats& stats) {
    out.clear();
    Begin(chunk);
    BarBatch page;
    while (true) {
      auto fetched = NextPage(page, stats);
      if (!fetched) {
        out.clear();
        return Fail(std::move(fetched).error());
      }
      out.Append(page);
      if (fetched->last) return Ok();
    }
  }
};

ChunkFetcher::ChunkFetcher(const FetchShared& shared) : impl_(std::make_unique<Impl>(shared)) {}
ChunkFetcher::~ChunkFetcher() = default;

Status ChunkFetcher::Fetch(const Chunk& chunk, BarBatch& out, FetchStats& stats) {
  return impl_->Fetch(chunk, out, stats);
}

void ChunkFetcher::Begin(const Chunk& range) { impl_->Begin(range); }

Result<FetchedPage> ChunkFetcher::NextPage(BarBatch& out, FetchStats& stats) { return impl_->NextPage(out, stats); }

}  // namespace barfill::fetch
