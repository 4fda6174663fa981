// One suite, run against both stores: each test gets a fresh database from Env (SqliteEnv or
// PostgresEnv) and checks what a user would check: bars read back, the ledger, the status and
// export commands' output.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <fstream>
#include <cmath>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "calendar/exchange_calendar.h"
#include "core/market_time.h"
#include "store/bar_store.h"
#include "store/schema.h"
#include "engine/plan.h"
#include "sim/sim_server.h"
#include "store_env.h"
#include "testing/ground_truth_check.h"
#include "testing/sim_requests.h"
#include "testing/subprocess.h"

namespace barfill::testing {

inline Series MakeSeries(std::string_view ticker, std::string_view timeframe, bool adjusted = true) {
  return Series{*Ticker::Parse(ticker), *Timeframe::Parse(timeframe), adjusted};
}

inline int64_t Ms(std::string_view day) {
  return CalendarDay::Parse(day)->DaysSinceEpoch() * kMsPerDay;
}

/// `n` one-minute bars from `start_ms` with prices around `base`; every 3rd bar has no vwap and
/// every 4th no trade count, so missing values are always covered.
inline BarBatch MinuteBars(int64_t start_ms, int n, double base) {
  BarBatch bars;
  for (int i = 0; i < n; ++i) {
    Bar bar;
    bar.t = start_ms + i * kMsPerMinute;
    bar.open = base + i * 0.01;
    bar.high = bar.open + 0.5;
    bar.low = bar.open - 0.25;
    bar.close = bar.open + 0.125;
    bar.volume = 1000.5 + i / 3.0;
    bar.vwap = i % 3 == 0 ? kNoVwap : bar.open + 0.1;
    bar.trades = i % 4 == 0 ? kNoTrades : 10 + i;
    bars.push_back(bar);
  }
  return bars;
}

inline int64_t NowForTest() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

inline constexpr TimeRange kAllTime{std::numeric_limits<int64_t>::min(),
                                    std::numeric_limits<int64_t>::max()};

template <typename Env>
class StoreSuite : public ::testing::Test {
 protected:
  void SetUp() override {
    BARFILL_REQUIRE_DATABASE(Env);
    env_.emplace();
    store_ = Open();
    ASSERT_TRUE(store_->Migrate()) << "migrate";
  }

  std::unique_ptr<BarStore> Open(const StoreOptions& options = {}) {
    auto store = OpenStore(env_->Url(), options);
    EXPECT_TRUE(store) << store.error().message;
    return store ? std::move(*store) : nullptr;
  }

  std::vector<Bar> ReadAll(const Series& series, TimeRange range = kAllTime) {
    return ReadWith(*store_, series, range);
  }
  static std::vector<Bar> ReadWith(BarStore& store, const Series& series,
                                   TimeRange range = kAllTime) {
    std::vector<Bar> bars;
    const Status status = store.ReadBars(series, range, [&](const BarBatch& batch) {
      for (size_t i = 0; i < batch.size(); ++i) bars.push_back(batch[i]);
      return Ok();
    });
    EXPECT_TRUE(status) << status.error().message;
    return bars;
  }

  std::vector<LedgerEntry> Ledger(const Series& series) {
    auto ledger = store_->ReadLedger(series);
    EXPECT_TRUE(ledger) << ledger.error().message;
    return ledger ? *ledger : std::vector<LedgerEntry>{};
  }

  void Commit(const Chunk& chunk, const BarBatch& bars, int attempts = 1) {
    const ChunkWrite write{chunk, &bars, attempts};
    const Status status = store_->CommitChunks({&write, 1});
    ASSERT_TRUE(status) << status.error().message;
  }

  static std::vector<Bar> AsBars(const BarBatch& batch) {
    std::vector<Bar> bars;
    for (size_t i = 0; i < batch.size(); ++i) bars.push_back(batch[i]);
    return bars;
  }

  CommandResult Barfill(std::vector<std::string> args) {
    args.insert(args.begin(), BarfillExe());
    args.push_back("--db");
    args.push_back(env_->Url());
    return RunCommand(args);
  }

  std::optional<Env> env_;
  std::unique_ptr<BarStore> store_;
};

TYPED_TEST_SUITE_P(StoreSuite);

TYPED_TEST_P(StoreSuite, RoundTripsEveryField) {
  const Series series = MakeSeries("X:BTCUSD", "1m");
  BarBatch bars;
  // Across years and the PostgreSQL epoch (2000-01-01), before 1970 and far ahead.
  const int64_t times[] = {-86400000,         Ms("1999-12-31"), Ms("2000-01-01"),
                           Ms("2000-01-01") + 60000, Ms("2024-02-29"), Ms("2038-01-19") + 3 * kMsPerDay,
                           Ms("2099-12-31")};
  const double prices[] = {1e-8, 0.1 + 0.2, 123456789.123456789, 1e15, 5e-324, 42.0, 61234.56};
  for (size_t i = 0; i < std::size(times); ++i) {
    Bar bar;
    bar.t = times[i];
    bar.open = prices[i];
    bar.high = prices[i] * 1.5;
    bar.low = prices[i] / 3;
    bar.close = std::nextafter(prices[i], 1e300);
    bar.volume = i == 0 ? 0.00012345 : 1234567.8912345 * static_cast<double>(i);
    bar.vwap = i % 2 == 0 ? kNoVwap : prices[i] * 1.01;
    bar.trades = i % 3 == 0 ? kNoTrades : (int64_t{1} << 40) + static_cast<int64_t>(i);
    bars.push_back(bar);
  }
  this->Commit(Chunk{series, TimeRange{CalendarDay{1960, 1, 1}.DaysSinceEpoch() * kMsPerDay,
                                      Ms("2100-01-01")}}, bars);
  EXPECT_EQ(this->ReadAll(series), this->AsBars(bars));
}

TYPED_TEST_P(StoreSuite, StreamsInAscendingBatchesWithinTheRange) {
  const Series series = MakeSeries("AAPL", "1m");
  const BarBatch bars = MinuteBars(Ms("2025-01-02") + 14 * kMsPerHour, 50, 190);
  this->Commit(Chunk{series, TimeRange{Ms("2025-01-02"), Ms("2025-01-03")}}, bars);
  std::vector<size_t> sizes;
  std::vector<Bar> read;
  const TimeRange range{bars.t[10], bars.t[40]};
  ASSERT_TRUE(this->store_->ReadBars(series, range, [&](const BarBatch& batch) {
    sizes.push_back(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) read.push_back(batch[i]);
    return Ok();
  }, 7));
  EXPECT_THAT(sizes, ::testing::ElementsAre(7, 7, 7, 7, 2));
  const std::vector<Bar> all = this->AsBars(bars);
  EXPECT_EQ(read, std::vector<Bar>(all.begin() + 10, all.begin() + 40));

  // A failing sink stops the read and its error comes back.
  int calls = 0;
  const Status stopped = this->store_->ReadBars(series, kAllTime, [&](const BarBatch&) {
    ++calls;
    return Status(Fail(ErrorCode::kUsage, "sink full"));
  }, 5);
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().message, "sink full");
  EXPECT_EQ(calls, 1);
  // The store is still usable afterwards.
  EXPECT_EQ(this->ReadAll(series).size(), 50u);
}

TYPED_TEST_P(StoreSuite, RecordsDoneAndEmptyChunks) {
  const Series series = MakeSeries("MSFT", "5m");
  const Chunk first{series, TimeRange{Ms("2025-01-01"), Ms("2025-01-02")}};
  const Chunk second{series, TimeRange{Ms("2025-01-05"), Ms("2025-01-06")}};  // apart: adjacent ones merge
  const BarBatch bars = MinuteBars(first.range.from_ms, 12, 400);
  const BarBatch none;
  const ChunkWrite writes[] = {{first, &bars, 2}, {second, &none, 1}};
  ASSERT_TRUE(this->store_->CommitChunks(writes));
  const auto ledger = this->Ledger(series);
  ASSERT_EQ(ledger.size(), 2u);
  EXPECT_EQ(ledger[0].range, first.range);
  EXPECT_EQ(ledger[0].state, ChunkState::kDone);
  EXPECT_EQ(ledger[0].rows, 12);
  EXPECT_EQ(ledger[0].attempts, 2);
  EXPECT_EQ(ledger[0].last_error, "");
  EXPECT_NEAR(static_cast<double>(ledger[0].updated_at_ms), static_cast<double>(NowForTest()), 60000.0);
  EXPECT_EQ(ledger[1].range, second.range);
  EXPECT_EQ(ledger[1].state, ChunkState::kEmpty);
  EXPECT_EQ(ledger[1].rows, 0);
  EXPECT_TRUE(this->Ledger(MakeSeries("MSFT", "5m", false)).empty());
}

TYPED_TEST_P(StoreSuite, RerunReplacesTheRangeWithNewerValues) {
  const Series series = MakeSeries("AAPL", "1m");
  const Chunk chunk{series, TimeRange{Ms("2025-03-03"), Ms("2025-03-04")}};
  const BarBatch old_bars = MinuteBars(chunk.range.from_ms + 9 * kMsPerHour, 20, 100);
  this->Commit(chunk, old_bars);
  this->Commit(chunk, old_bars);  // the same chunk twice: still one copy
  EXPECT_EQ(this->ReadAll(series), this->AsBars(old_bars));

  // The vendor revised bar 5 and removed bar 7: the re-run holds exactly the new chunk.
  BarBatch revised;
  for (size_t i = 0; i < old_bars.size(); ++i) {
    if (i == 7) continue;
    Bar bar = old_bars[i];
    if (i == 5) {
      bar.close = 999.5;
      bar.vwap = kNoVwap;
      bar.trades = 77;
    }
    revised.push_back(bar);
  }
  this->Commit(chunk, revised, 3);
  EXPECT_EQ(this->ReadAll(series), this->AsBars(revised));
  const auto ledger = this->Ledger(series);
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0].rows, 19);
  EXPECT_EQ(ledger[0].attempts, 3);
}

TYPED_TEST_P(StoreSuite, LaterChunkInOneCallWins) {
  const Series series = MakeSeries("AAPL", "1m");
  const Chunk wide{series, TimeRange{Ms("2025-03-03"), Ms("2025-03-05")}};
  const Chunk narrow{series, TimeRange{Ms("2025-03-04"), Ms("2025-03-05")}};
  const BarBatch a = MinuteBars(wide.range.from_ms + 10 * kMsPerHour, 10, 100);
  BarBatch wide_bars = a;
  wide_bars.Append(MinuteBars(narrow.range.from_ms + 10 * kMsPerHour, 10, 200));
  const BarBatch narrow_bars = MinuteBars(narrow.range.from_ms + 10 * kMsPerHour, 5, 300);
  const BarBatch same_again = MinuteBars(narrow.range.from_ms + 10 * kMsPerHour, 5, 400);
  const ChunkWrite writes[] = {{wide, &wide_bars, 1}, {narrow, &narrow_bars, 1},
                               {narrow, &same_again, 1}};
  ASSERT_TRUE(this->store_->CommitChunks(writes));
  BarBatch expected = a;
  expected.Append(same_again);
  EXPECT_EQ(this->ReadAll(series), this->AsBars(expected));
  // The narrow chunk is the newest word on its day: the wide row keeps its first day (its bars
  // recounted) and merges with it again, so one row still covers both days, with the rows stored.
  const auto ledger = this->Ledger(series);
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0].range, wide.range);
  EXPECT_EQ(ledger[0].rows, 15);
}

TYPED_TEST_P(StoreSuite, ReplaceTouchesOnlyItsSeriesAndRange) {
  const Series aapl = MakeSeries("AAPL", "1m");
  const Series aapl_raw = MakeSeries("AAPL", "1m", false);
  const Series aapl_5m = MakeSeries("AAPL", "5m");
  const Series msft = MakeSeries("MSFT", "1m");
  const Chunk day1{aapl, TimeRange{Ms("2025-03-03"), Ms("2025-03-04")}};
  const Chunk day2{aapl, TimeRange{Ms("2025-03-04"), Ms("2025-03-05")}};
  const BarBatch b1 = MinuteBars(day1.range.from_ms + 10 * kMsPerHour, 30, 100);
  const BarBatch b2 = MinuteBars(day2.range.from_ms + 10 * kMsPerHour, 30, 110);
  const ChunkWrite writes[] = {
      {day1, &b1, 1}, {day2, &b2, 1},
      {Chunk{aapl_raw, day1.range}, &b1, 1}, {Chunk{aapl_5m, day1.range}, &b1, 1},
      {Chunk{msft, day1.range}, &b1, 1}};
  ASSERT_TRUE(this->store_->CommitChunks(writes));
  const BarBatch replacement = MinuteBars(day1.range.from_ms + 11 * kMsPerHour, 3, 500);
  this->Commit(day1, replacement);
  BarBatch expected = replacement;
  expected.Append(b2);
  EXPECT_EQ(this->ReadAll(aapl), this->AsBars(expected));
  EXPECT_EQ(this->ReadAll(aapl_raw), this->AsBars(b1));
  EXPECT_EQ(this->ReadAll(aapl_5m), this->AsBars(b1));
  EXPECT_EQ(this->ReadAll(msft), this->AsBars(b1));
}

TYPED_TEST_P(StoreSuite, InjectedFailureLeavesNothing) {
  const Series series = MakeSeries("AAPL", "1m");
  const Chunk kept{series, TimeRange{Ms("2025-03-03"), Ms("2025-03-04")}};
  const BarBatch kept_bars = MinuteBars(kept.range.from_ms + 10 * kMsPerHour, 40, 100);
  this->Commit(kept, kept_bars);

  for (const WriteStep step : {WriteStep::kBegun, WriteStep::kBarsHalfWritten,
                               WriteStep::kBeforeCommit}) {
    SCOPED_TRACE(static_cast<int>(step));
    StoreOptions options;
    options.write_hook = [step](WriteStep at) -> Status {
      if (at == step) return Fail(ErrorCode::kInternal, "injected failure");
      return Ok();
    };
    auto store = this->Open(options);
    ASSERT_TRUE(store);
    // Two chunks in one call: a rewrite of the kept chunk and a new one.
    const Chunk fresh{series, TimeRange{Ms("2025-03-04"), Ms("2025-03-05")}};
    const BarBatch rewrite = MinuteBars(kept.range.from_ms + 12 * kMsPerHour, 40, 900);
    const BarBatch fresh_bars = MinuteBars(fresh.range.from_ms + 10 * kMsPerHour, 40, 900);
    const ChunkWrite writes[] = {{kept, &rewrite, 1}, {fresh, &fresh_bars, 1}};
    const Status status = store->CommitChunks(writes);
    ASSERT_FALSE(status);
    EXPECT_EQ(status.error().message, "injected failure");
    EXPECT_EQ(this->ReadAll(series), this->AsBars(kept_bars));
    const auto ledger = this->Ledger(series);
    ASSERT_EQ(ledger.size(), 1u);
    EXPECT_EQ(ledger[0].range, kept.range);
    // The database is not left locked or half-written: another writer goes through.
    ASSERT_TRUE(this->store_->CommitChunks({writes, 1}));
    EXPECT_EQ(this->ReadAll(series), this->AsBars(rewrite));
    this->Commit(kept, kept_bars);
  }
}

TYPED_TEST_P(StoreSuite, KilledWriterLeavesNothing) {
  const Series series = MakeSeries("X:ETHUSD", "1m");
  const Chunk chunk{series, TimeRange{Ms("2025-03-03"), Ms("2025-03-06")}};
  const BarBatch bars = MinuteBars(chunk.range.from_ms, 3 * 1440, 3000);
  for (const WriteStep step : {WriteStep::kBarsHalfWritten, WriteStep::kBeforeCommit}) {
    SCOPED_TRACE(static_cast<int>(step));
    std::fflush(nullptr);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      // The child writes with its own connection and is killed by SIGKILL mid-transaction.
      StoreOptions options;
      options.write_hook = [step](WriteStep at) -> Status {
        if (at == step) raise(SIGKILL);
        return Ok();
      };
      auto store = OpenStore(this->env_->Url(), options);
      if (!store) _exit(3);
      const ChunkWrite write{chunk, &bars, 1};
      (void)(*store)->CommitChunks({&write, 1});
      _exit(4);  // not reached when the hook fires
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
    EXPECT_EQ(WTERMSIG(status), SIGKILL);
    EXPECT_TRUE(this->ReadAll(series).empty());
    EXPECT_TRUE(this->Ledger(series).empty());
  }
  // Nothing is left locked: a normal write goes through.
  this->Commit(chunk, bars);
  EXPECT_EQ(this->ReadAll(series).size(), bars.size());
}

TYPED_TEST_P(StoreSuite, ConcurrentWritersOfOneChunkLeaveOneCopy) {
  const Series series = MakeSeries("X:BTCUSD", "1m");
  const Chunk chunk{series, TimeRange{Ms("2025-01-01"), Ms("2025-01-08")}};
  const BarBatch mine = MinuteBars(chunk.range.from_ms, 7 * 1440, 100);
  const BarBatch theirs = MinuteBars(chunk.range.from_ms + kMsPerMinute, 7 * 1440 - 1, 200);
  this->Commit(chunk, mine);
  constexpr int kRounds = 5;
  std::vector<Status> results;
  std::mutex mutex;
  const auto writer = [&](const BarBatch& bars) {
    auto store = this->Open();
    for (int i = 0; i < kRounds && store; ++i) {
      const ChunkWrite write{chunk, &bars, 1};
      Status status = store->CommitChunks({&write, 1});
      const std::lock_guard lock(mutex);
      results.push_back(std::move(status));
    }
  };
  std::thread a(writer, std::cref(mine));
  std::thread b(writer, std::cref(theirs));
  a.join();
  b.join();
  ASSERT_EQ(results.size(), 2u * kRounds);
  for (const Status& status : results) EXPECT_TRUE(status) << status.error().message;
  const std::vector<Bar> stored = this->ReadAll(series);
  EXPECT_TRUE(stored == this->AsBars(mine) || stored == this->AsBars(theirs))
      << stored.size() << " bars, a mix of both writers";
  EXPECT_EQ(this->Ledger(series).size(), 1u);
}

TYPED_TEST_P(StoreSuite, FailureNeverDowngradesADoneChunk) {
  const Series series = MakeSeries("AAPL", "1h");
  const Chunk chunk{series, TimeRange{Ms("2025-01-01"), Ms("2025-02-01")}};
  Error error(ErrorCode::kServerError, "bad gateway");
  error.http_status = 502;
  ASSERT_TRUE(this->store_->RecordFailure(chunk, error, 5));
  auto ledger = this->Ledger(series);
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0].state, ChunkState::kFailed);
  EXPECT_EQ(ledger[0].attempts, 5);
  EXPECT_EQ(ledger[0].rows, 0);
  EXPECT_EQ(ledger[0].last_error, "server_error: bad gateway (HTTP 502)");

  ASSERT_TRUE(this->store_->RecordFailure(chunk, Error(ErrorCode::kBadResponse, "truncated JSON"), 2));
  ledger = this->Ledger(series);
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0].attempts, 2);
  EXPECT_EQ(ledger[0].last_error, "bad_response: truncated JSON");

  const BarBatch bars = MinuteBars(chunk.range.from_ms, 3, 10);
  this->Commit(chunk, bars);
  ASSERT_TRUE(this->store_->RecordFailure(chunk, error, 1));
  ledger = this->Ledger(series);
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0].state, ChunkState::kDone);
  EXPECT_EQ(ledger[0].rows, 3);
  EXPECT_EQ(ledger[0].last_error, "");
}

TYPED_TEST_P(StoreSuite, DoneChunkReplacesTheLedgerRowsInsideIt) {
  const Series series = MakeSeries("AAPL", "1d");
  const Error error(ErrorCode::kTransport, "reset");
  const auto chunk = [&](std::string_view from, std::string_view to) {
    return Chunk{series, TimeRange{Ms(from), Ms(to)}};
  };
  ASSERT_TRUE(this->store_->RecordFailure(chunk("2025-01-01", "2025-02-01"), error, 1));
  ASSERT_TRUE(this->store_->RecordFailure(chunk("2025-02-01", "2025-03-01"), error, 1));
  ASSERT_TRUE(this->store_->RecordFailure(chunk("2025-02-15", "2025-04-01"), error, 1));
  ASSERT_TRUE(this->store_->RecordFailure(chunk("2025-05-01", "2025-06-01"), error, 1));
  this->Commit(chunk("2025-01-01", "2025-03-01"), MinuteBars(Ms("2025-01-02"), 2, 5));
  const auto ledger = this->Ledger(series);
  ASSERT_EQ(ledger.size(), 2u) << "the failures inside and the one it overlaps are superseded";
  EXPECT_EQ(ledger[0].range, chunk("2025-01-01", "2025-03-01").range);
  EXPECT_EQ(ledger[0].state, ChunkState::kDone);
  EXPECT_EQ(ledger[1].range, chunk("2025-05-01", "2025-06-01").range) << "apart from it: kept";
  EXPECT_EQ(ledger[1].state, ChunkState::kFailed);
}

TYPED_TEST_P(StoreSuite, PagesMergeIntoOneFinalRangeInAnyOrder) {
  const Series series = MakeSeries("X:BTCUSD", "1m");
  const auto page = [&](std::string_view from, std::string_view to, int n, int64_t base) {
    return std::make_pair(Chunk{series, TimeRange{Ms(from), Ms(to)}}, MinuteBars(Ms(from), n, 100.0 + static_cast<double>(base)));
  };
  const auto commit = [&](const std::pair<Chunk, BarBatch>& p, int64_t base_aggregates) {
    ChunkWrite write{p.first, &p.second, 1};
    write.requests = 1;
    write.base_aggregates = base_aggregates;
    ASSERT_TRUE(this->store_->CommitChunks({&write, 1}));
  };
  // Pages 1 and 2 in order, then 4 before 3 (two writers can commit out of order).
  commit(page("2025-01-01", "2025-01-02", 10, 1), 10);
  commit(page("2025-01-02", "2025-01-03", 20, 2), 20);
  auto ledger = this->Ledger(series);
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0].range, (TimeRange{Ms("2025-01-01"), Ms("2025-01-03")}));
  EXPECT_EQ(ledger[0].rows, 30);
  EXPECT_EQ(ledger[0].requests, 2);
  EXPECT_EQ(ledger[0].base_aggregates, 30);
  commit(page("2025-01-04", "2025-01-05", 5, 4), 5);
  ASSERT_EQ(this->Ledger(series).size(), 2u) << "a gap keeps them apart";
  commit(page("2025-01-03", "2025-01-04", 0, 3), 0);
  ledger = this->Ledger(series);
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0].range, (TimeRange{Ms("2025-01-01"), Ms("2025-01-05")}));
  EXPECT_EQ(ledger[0].state, ChunkState::kDone);
  EXPECT_EQ(ledger[0].rows, 35);
  EXPECT_EQ(ledger[0].requests, 4);
  EXPECT_EQ(ledger[0].base_aggregates, 35);
  EXPECT_EQ(this->ReadAll(series).size(), 35u);
  // A part whose base aggregates are unknown makes the sum unknown, never wrong.
  commit(page("2025-01-05", "2025-01-06", 1, 5), -1);
  ledger = this->Ledger(series);
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0].base_aggregates, -1);
}

TYPED_TEST_P(StoreSuite, ALiveRangeRecordsOnlyItsFinalPart) {
  const Series series = MakeSeries("AAPL", "1m");
  const Chunk range{series, TimeRange{Ms("2025-03-03"), Ms("2025-03-04")}};
  const BarBatch bars = MinuteBars(range.range.from_ms + 9 * kMsPerHour, 60, 10);
  ChunkWrite write{range, &bars, 1};
  // Fetched while the day was still running: final up to its last bar, which may still change.
  const int64_t last = bars.t.back();
  write.final_range = TimeRange{range.range.from_ms, last};
  ASSERT_TRUE(this->store_->CommitChunks({&write, 1}));
  auto ledger = this->Ledger(series);
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0].range, (TimeRange{range.range.from_ms, last}));
  EXPECT_EQ(ledger[0].rows, 59) << "the last bar is stored but not final";
  EXPECT_EQ(this->ReadAll(series).size(), 60u);
  // The next run fetches from the last bar on and the range becomes whole.
  const BarBatch rest = MinuteBars(last, 30, 11);
  this->Commit(Chunk{series, TimeRange{last, range.range.to_ms}}, rest);
  ledger = this->Ledger(series);
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0].range, range.range);
  EXPECT_EQ(ledger[0].rows, 89);
  EXPECT_EQ(this->ReadAll(series).size(), 89u) << "the old last bar was replaced, not duplicated";
  // A live page without bars records nothing.
  const BarBatch none;
  ChunkWrite empty{Chunk{series, TimeRange{Ms("2025-03-04"), Ms("2025-03-05")}}, &none, 1};
  empty.final_range = TimeRange{Ms("2025-03-04"), Ms("2025-03-04")};
  ASSERT_TRUE(this->store_->CommitChunks({&empty, 1}));
  EXPECT_EQ(this->Ledger(series).size(), 1u);
}

TYPED_TEST_P(StoreSuite, UpgradesASchema1DatabaseInOneTransaction) {
  this->store_.reset();
  this->env_->LoadSchema1Fixture();
  const Series aapl = MakeSeries("AAPL", "1h");
  const Series eth = MakeSeries("X:ETHUSD", "1d");
  const Series msft = MakeSeries("MSFT", "1h");
  // A reader leaves it alone and names the command that upgrades it.
  StoreOptions reader;
  reader.create = false;
  reader.upgrade = false;
  auto old = this->Open(reader);
  ASSERT_TRUE(old);
  const Status refused = old->Migrate();
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, ::testing::HasSubstr("schema version 1 found, this barfill uses " + std::to_string(store::kSchemaVersion) + ": upgrade it in place with `barfill migrate`"));
  old.reset();
  // A writer upgrades it and says so.
  auto store = this->Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Migrate());
  const auto notices = store->Notices();
  ASSERT_EQ(notices.size(), static_cast<size_t>(store::kSchemaVersion - 1)) << "one notice per step of the sequence";
  for (int from = 1; from < store::kSchemaVersion; ++from) {
    EXPECT_THAT(notices[from - 1], ::testing::HasSubstr("from schema version " + std::to_string(from) + " to " +
                                                        std::to_string(from + 1)));
  }
  EXPECT_THAT(notices[store::kWorkQueueFromVersion - 1], ::testing::HasSubstr("barfill_queue"));
  EXPECT_THAT(notices[3], ::testing::HasSubstr("to 5: corporate actions"));
  auto ledger = store->ReadLedger(aapl);
  ASSERT_TRUE(ledger);
  ASSERT_EQ(ledger->size(), 5u) << "done chunks stay done";
  for (const LedgerEntry& e : *ledger) {
    EXPECT_EQ(e.state, ChunkState::kDone);
    EXPECT_EQ(e.base_aggregates, -1) << "unknown for chunks of schema 1";
  }
  ledger = store->ReadLedger(eth);
  ASSERT_TRUE(ledger);
  EXPECT_TRUE(ledger->empty()) << "the chunk that reached into the present is fetched again";
  EXPECT_EQ(this->ReadWith(*store, eth).size(), 29u) << "its bars stay until then";
  ledger = store->ReadLedger(msft);
  ASSERT_TRUE(ledger);
  ASSERT_EQ(ledger->size(), 3u);
  EXPECT_EQ((*ledger)[0].state, ChunkState::kFailed);
  EXPECT_EQ(this->ReadWith(*store, aapl).size(), 2064u);
  // Once is enough.
  ASSERT_TRUE(store->Migrate());
  EXPECT_TRUE(store->Notices().empty());
}

// A day file is stored in one transaction however many calls its producer makes: every ticker and
// the file's row, or nothing; a later version of the file (new ETag) replaces its bars exactly once.
TYPED_TEST_P(StoreSuite, AFileCommitsAllItsTickersOrNothing) {
  const int64_t day = Ms("2025-03-04");
  const TimeRange range{day, day + kMsPerDay};
  constexpr int kTickers = 3000;  // more statements than one pipeline may hold unread
  std::vector<BarBatch> bars;
  for (int i = 0; i < kTickers; ++i) bars.push_back(MinuteBars(day + (i % 600) * kMsPerMinute, 2 + i % 3, 10 + i));
  const auto ticker = [](int i) { return "T" + std::to_string(i); };
  const auto produce_all = [&](double price_bump) {
    return [&, price_bump](const ChunkSink& sink) -> Status {
      std::vector<BarBatch> bumped = bars;
      for (BarBatch& b : bumped) {
        for (double& o : b.open) o += price_bump;
        for (double& h : b.high) h += price_bump;
        for (double& l : b.low) l += price_bump;
        for (double& c : b.close) c += price_bump;
      }
      std::vector<ChunkWrite> writes;
      for (int i = 0; i < kTickers; ++i) {
        writes.emplace_back(Chunk{MakeSeries(ticker(i), "1m", false), range}, &bumped[i]);
        if (writes.size() == 700) {  // several calls, as a streaming reader makes them
          BARFILL_TRY(sink(writes));
          writes.clear();
        }
      }
      return sink(writes);
    };
  };
  FileRecord file{"us_stocks_sip/minute_aggs_v1/2025/03/2025-03-04.csv.gz", "etag1", 1234, day + 40 * kMsPerHour};
  file.rows = 9000;
  file.tickers = kTickers;
  ASSERT_TRUE(this->store_->CommitFile(file, produce_all(0)));
  EXPECT_EQ(this->ReadAll(MakeSeries(ticker(17), "1m", false)), this->AsBars(bars[17]));
  const auto ledger = this->Ledger(MakeSeries(ticker(2999), "1m", false));
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0].range, range);
  EXPECT_EQ(ledger[0].rows, static_cast<int64_t>(bars[2999].size()));
  auto files = this->store_->ReadFiles("us_stocks_sip/minute_aggs_v1/");
  ASSERT_TRUE(files);
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].etag, "etag1");
  EXPECT_EQ((*files)[0].tickers, kTickers);
  EXPECT_TRUE(this->store_->ReadFiles("global_crypto/")->empty());

  // A producer that fails half-way (a gzip stream cut short) stores nothing of the new version.
  file.etag = "etag2";
  const Status failed = this->store_->CommitFile(file, [&](const ChunkSink& sink) -> Status {
    std::vector<BarBatch> other = {MinuteBars(day, 5, 99)};
    ChunkWrite write(Chunk{MakeSeries(ticker(17), "1m", false), range}, &other[0]);
    BARFILL_TRY(sink({&write, 1}));
    return Fail(ErrorCode::kBadResponse, "gzip stream cut short");
  });
  ASSERT_FALSE(failed);
  EXPECT_EQ(this->ReadAll(MakeSeries(ticker(17), "1m", false)), this->AsBars(bars[17])) << "the old version stays";
  EXPECT_EQ((*this->store_->ReadFiles(""))[0].etag, "etag1");

  // The replaced file, whole: its bars replace the old ones, once.
  ASSERT_TRUE(this->store_->CommitFile(file, produce_all(1)));
  const auto stored = this->ReadAll(MakeSeries(ticker(17), "1m", false));
  ASSERT_EQ(stored.size(), bars[17].size());
  EXPECT_EQ(stored[0].open, bars[17][0].open + 1);
  EXPECT_EQ((*this->store_->ReadFiles(""))[0].etag, "etag2");
  EXPECT_EQ(this->Ledger(MakeSeries(ticker(17), "1m", false)).size(), 1u);
}

// A database the schema-1 release wrote (tests/fixtures/schema-v1): a reader refuses it and names
// the fix, `barfill backfill` upgrades it, says so, and finishes a wider plan without asking for
// anything schema 1 had as done.
TYPED_TEST_P(StoreSuite, BackfillUpgradesASchema1DatabaseAndFinishesWithoutRefetching) {
  this->store_.reset();
  this->env_->LoadSchema1Fixture();
  const CommandResult refused = this->Barfill({"status"});
  EXPECT_EQ(refused.exit_code, 4);
  EXPECT_THAT(refused.err, ::testing::HasSubstr("upgrade it in place with `barfill migrate`"));

  sim::SimOptions options;  // the simulator the fixture was written against: seed 1
  options.seed = 1;
  auto sim = sim::SimServer::Start(options);
  ASSERT_TRUE(sim) << sim.error().message;
  const std::vector<std::string> plan_args = {"--tickers", "AAPL,X:BTCUSD,MSFT,X:ETHUSD", "--timeframes", "1h,1d",
                                              "--from", "2025-01-01", "--to", "2025-12-31"};
  std::vector<std::string> args = {"backfill", "--base-url", (*sim)->BaseUrl(), "--no-progress"};
  args.insert(args.end(), plan_args.begin(), plan_args.end());
  ChildEnv env;
  env.set["POLYGON_API_KEY"] = "k";
  args.insert(args.begin(), BarfillExe());
  args.push_back("--db");
  args.push_back(this->env_->Url());
  const CommandResult run = RunCommand(args, env);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.err, ::testing::HasSubstr("from schema version 1 to 2"));

  // Nothing schema 1 had done (AAPL and X:BTCUSD 1h and 1d, 2025-01-01..2025-06-30) is asked again.
  const MarketZone ny = MarketZone::NewYork();
  const MarketZone utc = MarketZone::Utc();
  std::vector<LedgerEntry> done_in_schema_1;
  const CalendarDay first = *CalendarDay::Parse("2025-01-01");
  const CalendarDay last = *CalendarDay::Parse("2025-06-30");
  for (const char* tf : {"1h", "1d"}) {
    for (const auto& [ticker, zone] : {std::pair{"AAPL", ny}, std::pair{"X:BTCUSD", utc}}) {
      LedgerEntry done;
      done.series = MakeSeries(ticker, tf);
      done.range = zone.DaysToRange(first, last);
      done_in_schema_1.push_back(done);
    }
  }
  const auto requests = SimRequests((*sim)->BaseUrl());
  EXPECT_EQ(RequestIntoDoneChunk(requests, done_in_schema_1), std::nullopt);
  // One request per 50,000 base minutes of each range left: the second half of 2025 for AAPL 1h
  // (3) and X:BTCUSD 1h (6), all of 2025 for MSFT 1h (5, its failed chunks included) and X:ETHUSD
  // 1h (11); one for each daily series (4, X:ETHUSD's live chunk included).
  EXPECT_EQ(std::count_if(requests.begin(), requests.end(), [](const auto& r) { return r.first.starts_with("/v2/aggs/"); }),
            29);
  auto store = this->Open(StoreOptions::ForReading());
  ASSERT_TRUE(store);
  const CalendarDay today = *CalendarDay::Parse("2026-11-29");
  const engine::Plan plan =
      *engine::ParsePlan(engine::PlanText{"", {"X:BTCUSD", "MSFT", "X:ETHUSD"}, {"1h", "1d"}, "2025-01-01", "2025-12-31"},
                         today);
  auto diffs = DiffStoreWithGroundTruth(*store, sim::Market{1}, plan);
  const engine::Plan aapl_fetched_now =
      *engine::ParsePlan(engine::PlanText{"", {"AAPL"}, {"1h", "1d"}, "2025-07-01", "2025-12-31"}, today);
  for (verify::SeriesDiff& d : DiffStoreWithGroundTruth(*store, sim::Market{1}, aapl_fetched_now)) diffs.push_back(std::move(d));
  EXPECT_TRUE(diffs.empty()) << Describe(diffs);

  // AAPL's first half stays as schema 1 stored it: the simulator of that release also served bars
  // on NYSE holidays, and a done range is not fetched again. Every bar of today's simulator is
  // there, equal; the only others lie on days the exchange was closed.
  const calendar::ExchangeCalendar& nyse = calendar::ExchangeCalendar::For(AssetClass::kStock);
  for (const char* tf : {"1h", "1d"}) {
    const Series aapl = MakeSeries("AAPL", tf);
    const TimeRange first_half = ny.DaysToRange(first, last);
    const BarBatch truth = sim::GroundTruth(1, aapl.ticker, aapl.timeframe, true, first_half);
    const std::vector<Bar> stored = this->ReadWith(*store, aapl, first_half);
    size_t matched = 0;
    std::set<std::string> closed_days;
    for (const Bar& bar : stored) {
      if (matched < truth.size() && bar.t == truth.t[matched]) {
        EXPECT_EQ(bar, truth[matched]) << tf << " t=" << FormatIsoUtc(bar.t);
        ++matched;
        continue;
      }
      const CalendarDay day = ny.DayOf(bar.t);
      const auto session = nyse.SessionOn(day);
      ASSERT_TRUE(session);
      EXPECT_FALSE(session->is_open()) << tf << ": extra bar on a trading day " << FormatIsoUtc(bar.t);
      closed_days.insert(day.ToString());
    }
    EXPECT_EQ(matched, truth.size()) << tf;
    EXPECT_EQ(closed_days, (std::set<std::string>{"2025-01-01", "2025-01-09", "2025-01-20", "2025-02-17", "2025-04-18",
                                                  "2025-05-26", "2025-06-19"}))
        << tf;
  }
}

TYPED_TEST_P(StoreSuite, RefusesOtherSchemaVersions) {
  const struct {
    std::string version;
    std::string says;
  } cases[] = {
      {std::to_string(store::kSchemaVersion + 1), "schema version " + std::to_string(store::kSchemaVersion + 1) +
                                                      " found, but this barfill knows only " +
                                                      std::to_string(store::kSchemaVersion) + "; upgrade barfill"},
      {"0", "unknown schema version '0' (barfill needs " + std::to_string(store::kSchemaVersion) + ")"},
      {"banana", "unknown schema version 'banana'"},
  };
  this->store_.reset();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.version);
    this->env_->ExecSql(std::string("UPDATE barfill_meta SET value = '") + c.version +
                        "' WHERE key = 'schema_version'");
    for (const bool create : {true, false}) {
      StoreOptions options;
      options.create = create;
      auto store = this->Open(options);
      ASSERT_TRUE(store);
      const Status status = store->Migrate();
      ASSERT_FALSE(status);
      EXPECT_EQ(status.error().code, ErrorCode::kDatabase);
      EXPECT_THAT(status.error().message, ::testing::HasSubstr(c.says));
      EXPECT_THAT(status.error().message, ::testing::StartsWith(store->Describe() + ": "));
      EXPECT_EQ(status.error().message.find('\n'), std::string::npos);
    }
  }
}

TYPED_TEST_P(StoreSuite, RefusesABarsTableWithIntegerVolume) {
  this->store_.reset();
  this->env_.reset();
  this->env_.emplace();
  this->env_->ExecSql(TypeParam::IntegerVolumeBarsDdl());
  auto store = this->Open();
  ASSERT_TRUE(store);
  const Status status = store->Migrate();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kDatabase);
  EXPECT_THAT(status.error().message, ::testing::HasSubstr("column bars.volume is "));
  EXPECT_THAT(status.error().message,
              ::testing::HasSubstr(TypeParam::kIsPostgres
                                       ? "barfill needs double precision"
                                       : "barfill needs REAL"));
  EXPECT_THAT(status.error().message, ::testing::HasSubstr("fractional"));
  if (TypeParam::kIsPostgres) {
    EXPECT_THAT(status.error().message,
                ::testing::HasSubstr("ALTER TABLE bars ALTER COLUMN volume TYPE double precision"));
  }
  // Refused, not changed: the barfill tables were not created beside it.
  const Status again = store->Migrate();
  EXPECT_FALSE(again);
}

TYPED_TEST_P(StoreSuite, MigrateIsIdempotentAndSafeWhenRacing) {
  ASSERT_TRUE(this->store_->Migrate());
  this->store_.reset();
  this->env_.reset();
  this->env_.emplace();
  constexpr int kRacers = 4;
  std::vector<std::unique_ptr<BarStore>> stores;
  for (int i = 0; i < kRacers; ++i) stores.push_back(this->Open());
  std::vector<Status> results(kRacers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRacers; ++i) {
    threads.emplace_back([&, i] { results[i] = stores[i]->Migrate(); });
  }
  for (auto& thread : threads) thread.join();
  for (const Status& status : results) EXPECT_TRUE(status) << status.error().message;
}

TYPED_TEST_P(StoreSuite, ReadersNeverCreateASchema) {
  this->store_.reset();
  this->env_.reset();
  this->env_.emplace();
  StoreOptions reader;
  reader.create = false;
  auto opened = OpenStore(this->env_->Url(), reader);
  if (!opened) {
    // SQLite: the file does not exist yet, and must not be created.
    EXPECT_FALSE(TypeParam::kIsPostgres) << opened.error().message;
    EXPECT_EQ(opened.error().code, ErrorCode::kDatabase);
    EXPECT_THAT(opened.error().message, ::testing::HasSubstr("does not exist"));
    EXPECT_FALSE(OpenStore(this->env_->Url(), reader)) << "the failed open created the file";
    return;
  }
  const Status status = (*opened)->Migrate();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kDatabase);
  EXPECT_THAT(status.error().message, ::testing::HasSubstr("no barfill tables here yet"));
  // A writer still finds the database empty and creates it.
  auto writer = this->Open();
  ASSERT_TRUE(writer);
  EXPECT_TRUE(writer->Migrate());
}

TYPED_TEST_P(StoreSuite, StatusSummarizesEverySeries) {
  const Series btc = MakeSeries("X:BTCUSD", "1h");
  const Series aapl = MakeSeries("AAPL", "1m", false);
  const BarBatch a = MinuteBars(Ms("2025-01-01"), 5, 1);
  const BarBatch b = MinuteBars(Ms("2025-01-03") + 3 * kMsPerHour, 7, 1);
  const BarBatch none;
  const ChunkWrite writes[] = {
      {Chunk{btc, TimeRange{Ms("2025-01-01"), Ms("2025-01-02")}}, &a, 1},
      {Chunk{btc, TimeRange{Ms("2025-01-02") + kMsPerHour, Ms("2025-01-03")}}, &none, 1},
      {Chunk{btc, TimeRange{Ms("2025-01-03") + kMsPerHour, Ms("2025-01-04")}}, &b, 1}};
  ASSERT_TRUE(this->store_->CommitChunks(writes));
  ASSERT_TRUE(this->store_->RecordFailure(Chunk{btc, TimeRange{Ms("2025-01-05"), Ms("2025-01-06")}},
                                          Error(ErrorCode::kBadRequest, "not found"), 1));
  ASSERT_TRUE(this->store_->RecordFailure(Chunk{aapl, TimeRange{Ms("2025-01-01"), Ms("2025-01-02")}},
                                          Error(ErrorCode::kTransport, "reset"), 5));
  auto status = this->store_->ReadStatus();
  ASSERT_TRUE(status) << status.error().message;
  ASSERT_EQ(status->size(), 2u);
  const SeriesStatus& first = (*status)[0];  // AAPL sorts before X:BTCUSD
  EXPECT_EQ(first.series, aapl);
  EXPECT_EQ(first.ranges_failed, 1);
  EXPECT_EQ(first.rows, 0);
  ASSERT_EQ(first.failed.size(), 1u);
  EXPECT_EQ(first.failed[0].last_error, "transport: reset");
  const SeriesStatus& second = (*status)[1];
  EXPECT_EQ(second.series, btc);
  EXPECT_EQ(second.ranges_done, 2);
  EXPECT_EQ(second.ranges_empty, 1);
  EXPECT_EQ(second.ranges_failed, 1);
  EXPECT_EQ(second.rows, 12);
  EXPECT_EQ(second.first_bar_ms, a.t[0]);
  EXPECT_EQ(second.last_bar_ms, b.t[6]);
}

TYPED_TEST_P(StoreSuite, StatusCommandPrintsATableAndJson) {
  const Series btc = MakeSeries("X:BTCUSD", "1m");
  const Series aapl = MakeSeries("AAPL", "5m");
  this->Commit(Chunk{btc, TimeRange{Ms("2025-01-01"), Ms("2025-01-02")}},
               MinuteBars(Ms("2025-01-01") + 90 * kMsPerMinute, 1440 - 90, 1));
  this->Commit(Chunk{btc, TimeRange{Ms("2025-01-02") + kMsPerHour, Ms("2025-01-03")}}, BarBatch{});
  ASSERT_TRUE(this->store_->RecordFailure(Chunk{btc, TimeRange{Ms("2025-01-03"), Ms("2025-01-04")}},
                                          Error(ErrorCode::kBadResponse, "truncated JSON"), 5));
  this->Commit(Chunk{aapl, TimeRange{Ms("2025-01-02"), Ms("2025-01-03")}},
               MinuteBars(Ms("2025-01-02") + 14 * kMsPerHour + 30 * kMsPerMinute, 3, 1));

  const CommandResult table = this->Barfill({"status"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(Lines(table.out),
              ::testing::ElementsAre(
                  this->store_->Describe(),
                  "series       done  failed  empty  stale  rows  first bar             last bar",
                  "AAPL 5m         1       0      0      0     3  2025-01-02T14:30:00Z  2025-01-02T14:32:00Z",
                  "X:BTCUSD 1m     1       1      1      0  1350  2025-01-01T01:30:00Z  2025-01-01T23:59:00Z",
                  "",
                  "failed ranges:",
                  "  X:BTCUSD 1m 2025-01-03T00:00:00Z..2025-01-04T00:00:00Z (5 attempts): "
                  "bad_response: truncated JSON"));

  const CommandResult json = this->Barfill({"status", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto lines = Lines(json.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], ::testing::StartsWith("{\"database\":\""));
  EXPECT_THAT(lines[0], ::testing::HasSubstr(
      "\"series\":[{\"ticker\":\"AAPL\",\"timeframe\":\"5m\",\"adjusted\":true,"
      "\"ranges\":{\"done\":1,\"failed\":0,\"empty\":0,\"stale\":0},\"rows\":3,"
      "\"first_bar\":\"2025-01-02T14:30:00Z\",\"last_bar\":\"2025-01-02T14:32:00Z\",\"failed\":[],\"stale\":[],"
      "\"derived\":{\"ranges\":0,\"bars\":0}},"
      "{\"ticker\":\"X:BTCUSD\",\"timeframe\":\"1m\",\"adjusted\":true,"
      "\"ranges\":{\"done\":1,\"failed\":1,\"empty\":1,\"stale\":0},\"rows\":1350,"
      "\"first_bar\":\"2025-01-01T01:30:00Z\",\"last_bar\":\"2025-01-01T23:59:00Z\","
      "\"failed\":[{\"from\":\"2025-01-03T00:00:00Z\",\"to\":\"2025-01-04T00:00:00Z\","
      "\"attempts\":5,\"error\":\"bad_response: truncated JSON\",\"updated_at\":\""));
  EXPECT_THAT(lines[0], ::testing::EndsWith("\"}],\"stale\":[],\"derived\":{\"ranges\":0,\"bars\":0}}],\"corporate_actions\":[]}"));
}

TYPED_TEST_P(StoreSuite, ExportCommandWritesExactCsvAndJsonLines) {
  const Series series = MakeSeries("X:BTCUSD", "1m");
  BarBatch bars;
  bars.push_back(Bar{Ms("2025-01-01"), 0.1 + 0.2, 1e21, 5e-324, 94000.5, 0.00012345, 94000.25, 17});
  bars.push_back(Bar{Ms("2025-01-01") + kMsPerMinute, 1, 2, 0.5, 1.5, 3, kNoVwap, kNoTrades});
  bars.push_back(Bar{Ms("2025-01-02") + 5 * kMsPerMinute, 2, 2, 2, 2, 0, 2, 0});
  this->Commit(Chunk{series, TimeRange{Ms("2025-01-01"), Ms("2025-01-03")}}, bars);

  const CommandResult csv = this->Barfill({"export", "--ticker", "X:BTCUSD", "--timeframe", "1m"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_THAT(Lines(csv.out),
              ::testing::ElementsAre("timestamp,open,high,low,close,volume,vwap,trades",
                                     "2025-01-01T00:00:00Z,0.30000000000000004,1e+21,5e-324,"
                                     "94000.5,0.00012345,94000.25,17",
                                     "2025-01-01T00:01:00Z,1,2,0.5,1.5,3,,",
                                     "2025-01-02T00:05:00Z,2,2,2,2,0,2,0"));
  EXPECT_EQ(csv.err, "");

  const CommandResult jsonl =
      this->Barfill({"export", "--ticker", "X:BTCUSD", "--timeframe", "1m", "--format", "jsonl",
                     "--timestamps", "ms", "--from", "2025-01-01", "--to", "2025-01-01"});
  ASSERT_EQ(jsonl.exit_code, 0) << jsonl.err;
  EXPECT_THAT(Lines(jsonl.out),
              ::testing::ElementsAre(
                  "{\"timestamp\":1735689600000,\"open\":0.30000000000000004,\"high\":1e+21,"
                  "\"low\":5e-324,\"close\":94000.5,\"volume\":0.00012345,\"vwap\":94000.25,"
                  "\"trades\":17}",
                  "{\"timestamp\":1735689660000,\"open\":1,\"high\":2,\"low\":0.5,\"close\":1.5,"
                  "\"volume\":3,\"vwap\":null,\"trades\":null}"));

  // Another series, or adjusted=false, has nothing: just the header.
  const CommandResult other = this->Barfill(
      {"export", "--ticker", "X:BTCUSD", "--timeframe", "1m", "--adjusted", "false"});
  ASSERT_EQ(other.exit_code, 0) << other.err;
  EXPECT_THAT(Lines(other.out), ::testing::ElementsAre("timestamp,open,high,low,close,volume,vwap,trades"));
}

TYPED_TEST_P(StoreSuite, ExportReadsDaysInTheMarketZoneAndWritesFiles) {
  // New York: 2025-03-10 begins at 04:00Z (EDT since the 9th); 2025-03-07 at 05:00Z (EST).
  const Series series = MakeSeries("AAPL", "1h");
  BarBatch bars;
  for (const int64_t t : {Ms("2025-03-08") + 4 * kMsPerHour, Ms("2025-03-08") + 5 * kMsPerHour,
                          Ms("2025-03-11") + 3 * kMsPerHour, Ms("2025-03-11") + 4 * kMsPerHour}) {
    bars.push_back(Bar{t, 1, 1, 1, 1, 1, kNoVwap, kNoTrades});
  }
  this->Commit(Chunk{series, TimeRange{Ms("2025-03-01"), Ms("2025-04-01")}}, bars);
  TempDir dir;
  const std::string file = dir.File("out.csv");
  const CommandResult result =
      this->Barfill({"export", "--ticker", "AAPL", "--timeframe", "1h", "--from", "2025-03-08",
                     "--to", "2025-03-10", "--output", file});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "exported 2 bars of AAPL 1h to " + file + "\n");
  std::ifstream in(file);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(Lines(text), ::testing::ElementsAre("timestamp,open,high,low,close,volume,vwap,trades",
                                                  "2025-03-08T05:00:00Z,1,1,1,1,1,,",
                                                  "2025-03-11T03:00:00Z,1,1,1,1,1,,"));
}

TYPED_TEST_P(StoreSuite, ExportRejectsBadFlagsWithOneErrorLine) {
  const struct {
    std::vector<std::string> args;
    const char* error;
  } cases[] = {
      {{"export", "--ticker", "aapl", "--timeframe", "1m"}, "error: --ticker: "},
      {{"export", "--ticker", "AAPL", "--timeframe", "7x"}, "error: --timeframe: "},
      {{"export", "--ticker", "AAPL", "--timeframe", "1m", "--from", "2024-13-01"},
       "error: --from 2024-13-01 is not a valid YYYY-MM-DD date"},
      {{"export", "--ticker", "AAPL", "--timeframe", "1m", "--from", "2025-02-01", "--to",
        "2025-01-01"},
       "error: --from must not be after --to"},
      {{"export", "--ticker", "AAPL", "--timeframe", "1m", "--adjusted", "yes"},
       "error: --adjusted must be true or false (got 'yes')"},
      {{"export", "--ticker", "AAPL", "--timeframe", "1m", "--format", "xml"}, "error: --format"},
      {{"export", "--timeframe", "1m"}, "error: --ticker is required"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.error);
    const CommandResult result = this->Barfill(c.args);
    EXPECT_EQ(result.exit_code, 2);
    EXPECT_EQ(result.out, "");
    const auto lines = Lines(result.err);
    ASSERT_EQ(lines.size(), 1u) << result.err;
    EXPECT_THAT(lines[0], ::testing::StartsWith(c.error));
  }
}

// A database the schema-6 release wrote (no barfill_derived, no barfill_files.timeframes; made by
// taking them out of a fresh one) is upgraded by the one step 6 -> 7; then derived bars (`backfill
// --derive`) are marked with their file, a file loaded again replaces its marks, and a vendor
// write over a derived range ends its mark.
TYPED_TEST_P(StoreSuite, UpgradesASchema6DatabaseAndMarksDerivedBars) {
  const int64_t day = Ms("2025-03-04");
  const TimeRange range{day, day + kMsPerDay};
  const BarBatch minutes = MinuteBars(day + 9 * kMsPerHour, 30, 5);
  const BarBatch five = MinuteBars(day + 9 * kMsPerHour, 6, 7);
  FileRecord file{"us_stocks_sip/minute_aggs_v1/2025/03/2025-03-04.csv.gz", "etag1", 1234, day + 40 * kMsPerHour};
  ASSERT_TRUE(this->store_->CommitFile(file, [&](const ChunkSink& sink) {
    ChunkWrite write(Chunk{MakeSeries("AAPL", "1m", false), range}, &minutes);
    return sink({&write, 1});
  }));
  this->store_.reset();
  this->env_->ExecSql("DROP TABLE barfill_derived");
  this->env_->ExecSql("ALTER TABLE barfill_files DROP COLUMN timeframes");
  this->env_->ExecSql("UPDATE barfill_meta SET value = '6' WHERE key = 'schema_version'");
  auto store = this->Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Migrate());
  const auto notices = store->Notices();
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_THAT(notices[0], ::testing::HasSubstr("from schema version 6 to 7: a table barfill_derived"));
  auto files = store->ReadFiles("");
  ASSERT_TRUE(files);
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].timeframes, "") << "a file loaded before: its own timeframe";
  EXPECT_EQ(this->ReadWith(*store, MakeSeries("AAPL", "1m", false)).size(), 30u);

  const auto derived_of = [&](std::string_view ticker, std::string_view tf) -> std::pair<int64_t, int64_t> {
    auto status = store->ReadStatus();
    EXPECT_TRUE(status);
    for (const SeriesStatus& s : *status) {
      if (s.series == MakeSeries(ticker, tf, false)) return {s.derived_ranges, s.derived_bars};
    }
    return {-1, -1};
  };
  file.etag = "etag2";
  file.timeframes = "1m,5m";
  const auto produce = [&](const ChunkSink& sink) -> Status {
    std::vector<ChunkWrite> writes;
    writes.emplace_back(Chunk{MakeSeries("AAPL", "1m", false), range}, &minutes);
    for (const char* ticker : {"AAPL", "MSFT"}) {
      writes.emplace_back(Chunk{MakeSeries(ticker, "5m", false), range}, &five);
      writes.back().derived_from = file.key;
    }
    return sink(writes);
  };
  for (int load = 0; load < 2; ++load) {
    SCOPED_TRACE(load);
    ASSERT_TRUE(store->CommitFile(file, produce));
    EXPECT_EQ(derived_of("AAPL", "5m"), (std::pair<int64_t, int64_t>{1, 6})) << "marked once, however often loaded";
    EXPECT_EQ(derived_of("MSFT", "5m"), (std::pair<int64_t, int64_t>{1, 6}));
    EXPECT_EQ(derived_of("AAPL", "1m"), (std::pair<int64_t, int64_t>{0, 0})) << "the file's own bars are vendor bars";
  }
  EXPECT_EQ((*store->ReadFiles(""))[0].timeframes, "1m,5m");
  // REST fetches MSFT's day again (a repair): vendor bars now, no longer marked.
  ChunkWrite rest(Chunk{MakeSeries("MSFT", "5m", false), range}, &five);
  ASSERT_TRUE(store->CommitChunks({&rest, 1}));
  EXPECT_EQ(derived_of("MSFT", "5m"), (std::pair<int64_t, int64_t>{0, 0}));
  EXPECT_EQ(derived_of("AAPL", "5m"), (std::pair<int64_t, int64_t>{1, 6}));
}

REGISTER_TYPED_TEST_SUITE_P(StoreSuite, RoundTripsEveryField,
                            StreamsInAscendingBatchesWithinTheRange, RecordsDoneAndEmptyChunks,
                            RerunReplacesTheRangeWithNewerValues, LaterChunkInOneCallWins,
                            ReplaceTouchesOnlyItsSeriesAndRange, InjectedFailureLeavesNothing,
                            KilledWriterLeavesNothing, ConcurrentWritersOfOneChunkLeaveOneCopy,
                            FailureNeverDowngradesADoneChunk,
                            DoneChunkReplacesTheLedgerRowsInsideIt, PagesMergeIntoOneFinalRangeInAnyOrder,
                            ALiveRangeRecordsOnlyItsFinalPart, UpgradesASchema1DatabaseInOneTransaction,
                            BackfillUpgradesASchema1DatabaseAndFinishesWithoutRefetching,
                            AFileCommitsAllItsTickersOrNothing, UpgradesASchema6DatabaseAndMarksDerivedBars,
                            RefusesOtherSchemaVersions,
                            RefusesABarsTableWithIntegerVolume,
                            MigrateIsIdempotentAndSafeWhenRacing, ReadersNeverCreateASchema,
                            StatusSummarizesEverySeries, StatusCommandPrintsATableAndJson,
                            ExportCommandWritesExactCsvAndJsonLines,
                            ExportReadsDaysInTheMarketZoneAndWritesFiles,
                            ExportRejectsBadFlagsWithOneErrorLine);

}  // namespace barfill::testing
