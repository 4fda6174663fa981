// Test support: the simulator's S3 bucket on loopback with a clock the test moves, a client
// aimed at it, and a download loop that reads a day file to the end the way a caller would
// (resume on a transport failure, start over when the object was replaced).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "core/bar.h"
#include "flatfiles/day_file_reader.h"
#include "flatfiles/s3_client.h"
#include "sim/market_data.h"
#include "sim/sim_server.h"

namespace barfill::testing {

inline constexpr const char* kTestAccessKey = "AKIDBARFILLTEST0001";
inline constexpr const char* kTestSecret = "tEst/S3cr3t+Key=never-shown";
inline constexpr uint64_t kTestSeed = 20250304;

inline int64_t WallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// The S3 simulator with a publication clock (`now_ms`) and a skew of its request clock that
/// the test controls.
class S3SimEnv {
 public:
  S3SimEnv(sim::S3SimOptions s3, int64_t now_ms) : now_ms_(now_ms) {
    sim::SimOptions options;
    options.seed = kTestSeed;
    options.s3 = std::move(s3);
    options.s3.signing.access_key_id = kTestAccessKey;
    options.s3.signing.secret_access_key = kTestSecret;
    options.s3.now_ms = [this] { return now_ms_.load(); };
    options.s3.request_clock_ms = [this] { return WallClockMs() + request_skew_ms_.load(); };
    auto server = sim::SimServer::Start(options);
    EXPECT_TRUE(server) << (server ? "" : server.error().message);
    if (server) server_ = std::move(*server);
  }

  void SetNow(int64_t ms) { now_ms_ = ms; }
  /// The server's clock runs this far ahead of the client's.
  void SetRequestSkew(int64_t ms) { request_skew_ms_ = ms; }
  sim::SimServer& server() { return *server_; }

  flatfiles::S3Options ClientOptions() const {
    flatfiles::S3Options o;
    o.endpoint = server_->BaseUrl();
    o.access_key_id = kTestAccessKey;
    o.secret_access_key = kTestSecret;
    o.connect_timeout_ms = 2000;
    o.low_speed_time_ms = 10000;  // a cold listing page generates its objects first
    return o;
  }

  std::unique_ptr<flatfiles::S3Client> Client(flatfiles::S3Options options) const {
    auto client = flatfiles::S3Client::Create(std::move(options));
    EXPECT_TRUE(client) << (client ? "" : client.error().message);
    return client ? std::move(*client) : nullptr;
  }
  std::unique_ptr<flatfiles::S3Client> Client() const { return Client(ClientOptions()); }

 private:
  std::atomic<int64_t> now_ms_;
  std::atomic<int64_t> request_skew_ms_{0};
  std::unique_ptr<sim::SimServer> server_;  // last: stops before the clocks it reads go away
};

/// A day file read through to its end: bars per ticker (REST spelling), and what happened.
struct DayFileRead {
  std::map<std::string, BarBatch> bars;
  flatfiles::DayFileSummary summary;
  int attempts = 0;
  int resumes = 0;
  int restarts = 0;   ///< the object was replaced mid-way and read again from byte 0
  std::string etag;
};

/// Downloads and reads `key`, resuming after retryable failures (up to `max_attempts`) and
/// starting over with a fresh reader when the object was replaced. `between_attempts` runs
/// after each failed attempt (a test moves its clock there).
inline Result<DayFileRead> DownloadDayFile(flatfiles::S3Client& client, const std::string& key,
                                           int max_attempts = 5,
                                           const std::function<void()>& between_attempts = {}) {
  auto parsed = flatfiles::ParseKey(key);
  if (!parsed) return Fail(parsed.error());
  DayFileRead read;
  std::unique_ptr<flatfiles::DayFileReader> reader;
  const auto fresh_reader = [&] {
    read.bars.clear();
    reader = std::make_unique<flatfiles::DayFileReader>(*parsed, [&](const Ticker& ticker, const BarBatch& bars) {
      read.bars[ticker.symbol()].Append(bars);
      return Ok();
    });
  };
  fresh_reader();
  flatfiles::ObjectDownload download(&client, key);
  const flatfiles::ByteSink sink = [&](std::string_view bytes) { return reader->Feed(bytes); };
  while (!download.complete()) {
    const Status step = download.Continue(sink);
    if (step) break;
    if (download.attempts() >= max_attempts) return Fail(step.error());
    if (download.replaced()) {
      ++read.restarts;
      fresh_reader();
    } else if (!IsRetryable(step.error())) {
      return Fail(step.error());
    }
    if (between_attempts) between_attempts();
  }
  auto summary = reader->Finish();
  if (!summary) return Fail(summary.error());
  read.summary = *summary;
  read.attempts = download.attempts();
  read.resumes = download.resumes();
  read.etag = download.etag();
  return read;
}

/// What a day file must hold for `ticker`: GroundTruth of the session date, unadjusted, with
/// no vwap (files have none); index files have no volume and no transactions either.
inline BarBatch ExpectedFileBars(const Ticker& ticker, flatfiles::Dataset dataset, CalendarDay day) {
  BarBatch bars = sim::GroundTruth(kTestSeed, ticker, flatfiles::TimeframeOf(dataset.timeframe), false,
                                   ZoneFor(dataset.asset).DaysToRange(day, day));
  for (size_t i = 0; i < bars.size(); ++i) {
    bars.vwap[i] = kNoVwap;
    if (dataset.asset == AssetClass::kIndex) {
      bars.volume[i] = 0;
      bars.trades[i] = kNoTrades;
    }
  }
  return bars;
}

/// The first difference of two batches, "" when equal (for readable failures).
inline std::string FirstDifference(const BarBatch& got, const BarBatch& want) {
  if (got.size() != want.size()) {
    return "got " + std::to_string(got.size()) + " bars, want " + std::to_string(want.size());
  }
  for (size_t i = 0; i < got.size(); ++i) {
    if (!(got[i] == want[i])) {
      return "bar " + std::to_string(i) + " t=" + std::to_string(got.t[i]) + "/" + std::to_string(want.t[i]) +
             " o=" + std::to_string(got.open[i]) + "/" + std::to_string(want.open[i]) +
             " v=" + std::to_string(got.volume[i]) + "/" + std::to_string(want.volume[i]) +
             " n=" + std::to_string(got.trades[i]) + "/" + std::to_string(want.trades[i]);
    }
  }
  return "";
}

}  // namespace barfill::testing
