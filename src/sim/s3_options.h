// What the S3 side of the simulator serves and how it misbehaves: the flat-file bucket, its
// credentials, its publication clock, entitlements and faults.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/market_time.h"
#include "core/ticker.h"
#include "sim/s3_sigv4.h"

namespace barfill::sim {

/// Things that go wrong with one object, as they did with real files.
enum class S3Fault {
  kMissing,              ///< not published (ever, or for delay_ms): absent from listings, GET 404/403
  kTruncatedGzip,        ///< the object's bytes stop in the middle of the gzip stream
  kWrongDate,            ///< every window_start a day late (the 2019-08-12 stock day file)
  kNegativeWindowStart,  ///< every window_start -68400000000000 (the 2025-02-10 options day file)
  kBadRows,              ///< three broken rows among the good ones (bad number, high < low, a field missing)
  kReset,                ///< a GET gets its headers and half its bytes, then a TCP reset
  kSlowDown,             ///< a GET gets 503 SlowDown
};

/// A fault on one key.
struct S3FaultRule {
  std::string key;
  S3Fault fault = S3Fault::kMissing;
  int times = 1;         ///< kReset and kSlowDown: how many GETs it hits (-1 = every one)
  int64_t delay_ms = 0;  ///< kMissing: published this much later than usual (0 = never)
};

/// New bytes under an existing key at `at_ms` (new ETag and LastModified, same bars).
struct S3Republication {
  std::string key;
  int64_t at_ms = 0;
};

struct S3SimOptions {
  std::string bucket = "flatfiles";
  /// Who may sign in: the access key id and secret (empty: any signed request passes), the
  /// region, the clock skew allowed, whether x-amz-content-sha256 is required.
  SigV4Policy signing;

  /// Tickers in REST spelling; every object holds all tickers of its asset class. Empty = a
  /// small default universe of every asset class (DefaultUniverse).
  std::vector<Ticker> universe;
  CalendarDay first_day{2024, 1, 1};  ///< the oldest file
  CalendarDay last_day{2026, 12, 31}; ///< the newest file (if published by then)
  /// The publication clock in Unix ms: files appear when it passes their publication time
  /// (day files the evening of the session, minute files by ~11:00 ET the next day). Unset = the
  /// system clock.
  std::function<int64_t()> now_ms;
  /// The clock x-amz-date is compared with (skew check). Unset = the system clock.
  std::function<int64_t()> request_clock_ms;

  /// Asset folders a GET may read ("us_stocks_sip", ...); empty = all. Listings show everything.
  std::vector<std::string> entitled_assets;
  /// A GET may read only session dates within this many days before now; 0 = no limit.
  int history_days = 0;
  /// What a GET of a key that is not there gets: 404 NoSuchKey or 403 AccessDenied.
  int missing_key_status = 404;

  std::vector<S3FaultRule> faults;
  std::vector<S3Republication> republications;
  double reset_rate = 0;     ///< probability of a reset per object GET
  double slowdown_rate = 0;  ///< probability of a 503 SlowDown per object GET

  /// Generated objects kept in memory (least recently used go first). Listings need each
  /// object's size and ETag, which are kept for every object ever generated.
  size_t cache_bytes = size_t{256} << 20;
  /// Stock files also carry when-issued and test symbols that barfill cannot hold ("ADSw").
  bool test_symbols = true;
};

/// The default universe: a few stocks (one with a dot), crypto and forex pairs, indices, options.
std::vector<Ticker> DefaultUniverse();

}  // namespace barfill::sim
