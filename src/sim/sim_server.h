// `barfill sim`: a Polygon-compatible aggregates server for tests, benchmarks and the demo.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "sim/actions_api.h"
#include "sim/market_data.h"
#include "sim/s3_api.h"
#include "sim/s3_options.h"

namespace barfill::sim {

/// Probabilities (0..1) of each injected fault or mode, per data request.
struct FaultRates {
  double http429 = 0;   ///< 429 with the real body; half of them carry Retry-After
  double http5xx = 0;   ///< 502/503/504 with an HTML or empty body
  double reset = 0;     ///< headers and part of the body, then an abrupt close (RST)
  double truncate = 0;  ///< full Content-Length, short body, then close
  double badjson = 0;   ///< 200 with a body that is not valid JSON
  double slow = 0;      ///< the answer trickles out slowly
  double delayed = 0;   ///< status "DELAYED" instead of "OK" (not a fault)
  double expvol = 0;    ///< exponent-form volumes, integer-literal prices (not a fault)
  // Data events, drawn per (ticker, session) rather than per request (see sim::MarketEvents):
  double hole = 0;      ///< a session served empty at first and filled later
  double halt = 0;      ///< a halt of 210-330 minutes inside the regular session (real: stays)
  double revise = 0;    ///< a recent session whose bars change after they were first served

  /// Parses "reset=0.05,http429=0.02"; unknown names, values outside 0..1 and faults (the first
  /// six, which exclude each other) adding up to more than 1 are errors.
  static Result<FaultRates> Parse(std::string_view text);
};

struct SimOptions {
  std::string host = "127.0.0.1";
  int port = 0;                ///< 0 picks a free port
  uint64_t seed = 1;           ///< data seed: bars are a pure function of (seed, ticker, t)
  Liquidity liquidity = Liquidity::kDense;  ///< how often tickers trade (see Market)
  std::map<std::string, double, std::less<>> activity;  ///< named thin tickers (see Market)
  uint64_t fault_seed = 1;     ///< seed of the fault dice
  std::string api_key;         ///< when set, any other key gets 401 "Unknown API Key"
  int rate_limit_per_min = 0;  ///< 0 = unlimited; otherwise a sliding 60 s window per key
  /// The rate limit's window: at most rate_limit_per_min x window / 60 s requests in any window.
  /// Tests shorten it so that a client over the limit meets it, and recovers, within seconds.
  int rate_limit_window_ms = 60000;
  int retry_after_s = 1;       ///< Retry-After of the injected 429s that carry one
  /// The server's cap on `limit` (Polygon: 50000 base aggregates). Lower it to make chunks span
  /// several pages, so that next_url chains get exercised.
  int64_t max_page_limit = 50000;
  FaultRates faults;
  std::vector<std::string> forbidden_tickers;  ///< 403 NOT_AUTHORIZED (the plan-gate body) for these
  int idle_timeout_ms = 30000; ///< a keep-alive connection idle this long is closed
  /// Honour Accept-Encoding: gzip. false serves identity bodies to every client, which HTTP
  /// allows: on loopback, gzip costs the simulator about 1 us of CPU per bar (zlib at ~100 MB/s
  /// here) and the client more to inflate, for no gain.
  bool gzip = true;
  int max_connections = 256;   ///< connections served at once; more wait in the listen backlog
  /// The flat-file bucket served at /<s3.bucket>/... (S3, SigV4). Its universe and test symbols
  /// are also the tickers grouped daily answers for.
  S3SimOptions s3;
  // Data events (faults.hole, faults.halt, faults.revise), drawn from fault_seed:
  /// Only these tickers get holes, halts and revisions; empty: every ticker.
  std::vector<std::string> event_tickers;
  /// A hole is served empty on the first this many visits of each series to its day, filled
  /// after; 0: never filled by visits. A visit is a request whose range starts at or before the
  /// day's session (a first page, or a next_url page whose predecessor ended before the day);
  /// a request starting inside the day sees the state of the visit under way. Retries count:
  /// each is a request.
  int hole_fill_visits = 1;
  /// A hole is also filled once the simulator has run this long; 0: never by time.
  int64_t hole_fill_after_ms = 0;
  /// Revisions touch the last this many sessions that had ended when the simulator started; a
  /// series sees the first-served values on its first visit to a day and the revised ones after.
  int revise_sessions = 2;
  /// "Now" for revisions (Unix ms); 0: the moment the simulator starts.
  int64_t as_of_ms = 0;
  ActionFaults action_faults;  ///< data faults of the corporate-actions endpoints
  std::vector<SplitEdit> split_edits;  ///< edits of the split table from the start (see Market)
};

/// Counters served at GET /__stats. Data requests are aggregates requests (ranges and grouped
/// daily) that passed auth, validation and the rate limit; faults are drawn only for them. The
/// admin endpoints (/__stats, /__requests, /__reset) are not counted anywhere.
struct SimStats {
  int64_t requests = 0;       ///< every HTTP request but the admin endpoints
  int64_t data_requests = 0;  ///< aggregates requests that passed auth, validation and rate limit
  int64_t bars_served = 0;    ///< bars in bodies sent whole and valid
  int64_t bytes_served = 0;   ///< bytes written (heads and bodies), admin endpoints excluded
  int64_t rate_limited = 0;   ///< 429s from the rate limit (not injected)
  int64_t http429 = 0, http5xx = 0, reset = 0, truncate = 0, badjson = 0, slow = 0;
  int64_t delayed = 0, expvol = 0;
  int64_t auth_failures = 0;  ///< 401s
  int64_t bad_requests = 0;   ///< 400s/404s/405s
  int64_t forbidden = 0;      ///< 403s for SimOptions::forbidden_tickers
  int64_t connections = 0;    ///< TCP connections accepted
  int64_t actions_requests = 0;  ///< corporate-actions requests that passed auth, validation and rate limit

  std::string ToJson() const;
};

/// Serves GET /v2/aggs/ticker/{ticker}/range/{multiplier}/{timespan}/{from}/{to} as Polygon
/// does (docs/api-contract.md §10) and GET /v2/aggs/grouped/locale/{us|global}/market/
/// {stocks|crypto|fx}/{date} (the appendix: stocks stamped 16:00 New York like the real API), plus the unauthenticated test endpoints GET /__stats (SimStats as
/// JSON), GET /__requests (a JSON array of the last 100000 data-request targets, path and query
/// without apiKey, in arrival order), GET /__reset (zeroes the stats and that log) and
/// GET /__injected?from=D&to=D[&tickers=A,B] (the holes, halts and revisions of those days, with
/// each series' visits so far: the simulator's ground truth of what it injected; tickers default
/// to SimOptions::event_tickers).
/// Requests under /<s3.bucket> go to the flat-file bucket (S3Api).
/// The corporate-actions endpoints (/stocks/v1/splits, /stocks/v1/dividends, /v3/reference/splits,
/// /v3/reference/dividends) answer from the same event table as the adjusted aggregates;
/// GET /__splits/insert?ticker=T&execution_date=D&split_from=A&split_to=B and
/// GET /__splits/remove?ticker=T&id=ID change that table mid-run.
class SimServer {
 public:
  /// Binds, starts serving on background threads, and returns once it accepts connections.
  static Result<std::unique_ptr<SimServer>> Start(const SimOptions& options);
  virtual ~SimServer() = default;

  /// "http://127.0.0.1:PORT"
  virtual std::string BaseUrl() const = 0;
  virtual int Port() const = 0;
  virtual SimStats Stats() const = 0;
  /// Counters of the S3 side (also at GET /__s3stats).
  virtual S3Stats FlatFileStats() const = 0;
  /// The market served, its events' "now" included: GroundTruth(Market(), ...) reproduces every
  /// bar the final data holds (DataVersion::kFirstServed: as first served).
  virtual const Market& TheMarket() const = 0;
  /// Inserts or removes a split (what /__splits/... do): adjusted bars and both endpoint
  /// generations follow at once; raw bars never change. Returns the split's id.
  virtual Result<std::string> EditSplits(SplitEdit edit) = 0;
  /// The market as served now, edits included: what GroundTruth needs for the current answers.
  virtual Market CurrentMarket() const = 0;
  /// Stops accepting, closes connections and joins its threads. Idempotent.
  virtual void Stop() = 0;
};

/// The market `options` describe: what GroundTruth needs to reproduce every bar the server sends.
/// With revisions on and as_of_ms 0, prefer SimServer::TheMarket(), which knows the start time.
Market MarketOf(const SimOptions& options);

}  // namespace barfill::sim
