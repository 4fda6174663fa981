// The work queue and the shared rate limit against a real PostgreSQL (scripts/with-postgres.sh):
// claims skip what others hold, expired leases are reclaimed with a new generation, a commit
// fenced by a lease that was taken over stores nothing, enqueueing twice adds nothing, and one
// worker's 429 pauses every other worker of the key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "core/market_time.h"
#include "store/bar_store.h"
#include "store/pg_connection.h"
#include "store/shared_rate.h"
#include "store/store_env.h"
#include "store/work_queue.h"

namespace barfill::store {
namespace {

using testing::PostgresEnv;

Series Aapl1m() { return Series{*Ticker::Parse("AAPL"), *Timeframe::Parse("1m"), true}; }

class WorkQueuePg : public ::testing::Test {
 protected:
  void SetUp() override {
    BARFILL_REQUIRE_DATABASE(PostgresEnv);
    env_ = std::make_unique<PostgresEnv>();
    auto store = OpenStore(env_->Url());
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE((*store)->Migrate());
    store_ = std::move(*store);
    queue_ = Queue();
  }

  std::unique_ptr<WorkQueue> Queue() {
    auto queue = WorkQueue::Open(env_->Url(), "test");
    EXPECT_TRUE(queue) << queue.error().message;
    return queue ? std::move(*queue) : nullptr;
  }

  /// Three consecutive days of AAPL 1m as items.
  std::vector<QueueItem> Items() const {
    std::vector<QueueItem> items;
    const int64_t day = 86'400'000;
    const int64_t start = 1'740'960'000'000;  // 2025-03-03T00:00:00Z
    for (int i = 0; i < 3; ++i) items.push_back(QueueItem{0, Aapl1m(), TimeRange{start + i * day, start + (i + 1) * day}});
    return items;
  }

  std::unique_ptr<PostgresEnv> env_;
  std::unique_ptr<BarStore> store_;
  std::unique_ptr<WorkQueue> queue_;
};

TEST_F(WorkQueuePg, EnqueueingTwiceAddsNothing) {
  auto first = queue_->Enqueue(Items());
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->added, 3);
  auto second = queue_->Enqueue(Items());
  ASSERT_TRUE(second);
  EXPECT_EQ(second->added, 0);
  EXPECT_EQ(second->already, 3);
  auto status = queue_->ReadStatus();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->pending, 3);
}

TEST_F(WorkQueuePg, ClaimsSkipWhatOthersHoldAndReclaimExpiredLeases) {
  ASSERT_TRUE(queue_->Enqueue(Items()));
  auto a = queue_->RegisterWorker("host-a", 1);
  auto b = queue_->RegisterWorker("host-b", 2);
  ASSERT_TRUE(a && b);
  auto mine = queue_->Claim(*a, 2, std::chrono::milliseconds(300));
  ASSERT_TRUE(mine);
  ASSERT_EQ(mine->size(), 2u);
  auto theirs = queue_->Claim(*b, 5, std::chrono::seconds(30));
  ASSERT_TRUE(theirs);
  ASSERT_EQ(theirs->size(), 1u) << "only the item nobody holds";
  EXPECT_NE(theirs->front().item.id, (*mine)[0].item.id);
  EXPECT_NE(theirs->front().item.id, (*mine)[1].item.id);

  // a's leases run out without a heartbeat: b reclaims them, one generation up.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  auto reclaimed = queue_->Claim(*b, 5, std::chrono::seconds(30));
  ASSERT_TRUE(reclaimed);
  ASSERT_EQ(reclaimed->size(), 2u);
  for (const Lease& l : *reclaimed) {
    EXPECT_TRUE(l.reclaimed);
    EXPECT_EQ(l.fence.generation, 2);
  }
  // a's heartbeat extends nothing: both items are lost to it.
  auto held = queue_->Heartbeat(*a, std::chrono::seconds(30), std::nullopt);
  ASSERT_TRUE(held);
  EXPECT_TRUE(held->empty());

  // a's late commit is refused by the fence, and stores nothing.
  BarBatch bars;
  Bar bar;
  bar.t = (*mine)[0].item.range.from_ms;
  bar.open = 1;
  bar.high = 2;
  bar.low = 0.5;
  bar.close = 1.5;
  bar.volume = 10;
  bars.push_back(bar);
  const ChunkWrite write{Chunk{Aapl1m(), (*mine)[0].item.range}, &bars};
  const Status late = store_->CommitFenced({&write, 1}, (*mine)[0].fence);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, ErrorCode::kLeaseLost);
  EXPECT_THAT(late.error().message, ::testing::HasSubstr("taken over by another worker"));
  auto ledger = store_->ReadLedger(Aapl1m());
  ASSERT_TRUE(ledger);
  EXPECT_TRUE(ledger->empty());
  int64_t stored = 0;
  ASSERT_TRUE(store_->ReadBars(Aapl1m(), (*mine)[0].item.range, [&](const BarBatch& b) {
    stored += static_cast<int64_t>(b.size());
    return Ok();
  }));
  EXPECT_EQ(stored, 0);
  EXPECT_FALSE(queue_->Finish((*mine)[0].fence, false, "", 0)) << "a cannot finish it either";

  // b's commit, with the current generation, goes through.
  const Lease& current = *std::find_if(reclaimed->begin(), reclaimed->end(),
                                       [&](const Lease& l) { return l.item.id == (*mine)[0].item.id; });
  ASSERT_TRUE(store_->CommitFenced({&write, 1}, current.fence));
  ASSERT_TRUE(queue_->Finish(current.fence, false, "", 1));
  auto status = queue_->ReadStatus();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->done, 1);
  EXPECT_EQ(status->leased, 2);
}

TEST_F(WorkQueuePg, ASessionHoldingAnExpiredLeaseWhileWaitingOnItsClientIsEndedAndTheItemReclaimed) {
  const std::vector<QueueItem> items = Items();
  ASSERT_TRUE(queue_->Enqueue({items.data(), 1}));
  auto a = queue_->RegisterWorker("host-a", 1);
  auto b = queue_->RegisterWorker("host-b", 2);
  ASSERT_TRUE(a && b);
  auto mine = queue_->Claim(*a, 1, std::chrono::milliseconds(500));
  ASSERT_TRUE(mine);
  ASSERT_EQ(mine->size(), 1u);
  // Worker a's commit, frozen after its fence: the session holds the item's lock and waits.
  auto frozen = PgConnection::Open(env_->Url(), std::chrono::seconds(10));
  ASSERT_TRUE(frozen) << frozen.error().message;
  ASSERT_TRUE((*frozen)->Run("BEGIN", "BEGIN"));
  ASSERT_TRUE(CheckLease(**frozen, mine->front().fence));
  auto too_early = queue_->EndStalledSessions();
  ASSERT_TRUE(too_early) << too_early.error().message;
  EXPECT_TRUE(too_early->empty()) << "the lease still holds";

  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  auto none = queue_->Claim(*b, 1, std::chrono::seconds(30));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty()) << "expired, but locked: the claim skips it";
  auto ended = queue_->EndStalledSessions();
  ASSERT_TRUE(ended) << ended.error().message;
  ASSERT_EQ(ended->size(), 1u);
  EXPECT_EQ(ended->front().item, mine->front().item.id);
  EXPECT_EQ(ended->front().worker, *a);
  EXPECT_EQ(ended->front().backend_pid, PQbackendPID((*frozen)->get()));

  std::vector<Lease> reclaimed;
  for (int i = 0; i < 100 && reclaimed.empty(); ++i) {
    auto claimed = queue_->Claim(*b, 1, std::chrono::seconds(30));
    ASSERT_TRUE(claimed) << claimed.error().message;
    reclaimed = *claimed;
    if (reclaimed.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(reclaimed.size(), 1u) << "the ended session's lock is gone";
  EXPECT_TRUE(reclaimed.front().reclaimed);
  const Status late = (*frozen)->Run("COMMIT", "COMMIT");
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, ErrorCode::kDatabaseRetryable) << late.error().message;
}

TEST_F(WorkQueuePg, ALockTakenAfterTheLeaseExpiredIsNotAStalledCommit) {
  // Another worker claiming the expired item holds its lock too, briefly: it is left alone.
  const std::vector<QueueItem> items = Items();
  ASSERT_TRUE(queue_->Enqueue({items.data(), 1}));
  auto a = queue_->RegisterWorker("host-a", 1);
  ASSERT_TRUE(a);
  auto mine = queue_->Claim(*a, 1, std::chrono::milliseconds(100));
  ASSERT_TRUE(mine);
  ASSERT_EQ(mine->size(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto claimer = PgConnection::Open(env_->Url(), std::chrono::seconds(10));
  ASSERT_TRUE(claimer) << claimer.error().message;
  ASSERT_TRUE((*claimer)->Run("BEGIN", "BEGIN"));
  ASSERT_TRUE((*claimer)->Run("SELECT id FROM barfill_queue FOR UPDATE", "locking"));
  auto ended = queue_->EndStalledSessions();
  ASSERT_TRUE(ended) << ended.error().message;
  EXPECT_TRUE(ended->empty());
  EXPECT_TRUE((*claimer)->Run("COMMIT", "COMMIT"));
}

TEST_F(WorkQueuePg, SqliteIsRefusedWithOneLineNamingPostgres) {
  auto queue = WorkQueue::Open("sqlite:/tmp/never.db", "barfill worker");
  ASSERT_FALSE(queue);
  EXPECT_EQ(queue.error().code, ErrorCode::kUsage);
  EXPECT_THAT(queue.error().message, ::testing::StartsWith("barfill worker needs PostgreSQL"));
  EXPECT_EQ(queue.error().message.find('\n'), std::string::npos);
}

SharedRateSettings TenPerSecond(const std::string& key) {
  SharedRateSettings s;
  s.key_hash = RateKeyHash(key);
  s.min_interval_us = 100'000;
  s.max_interval_us = 5'000'000;
  s.burst = 1;
  return s;
}

TEST_F(WorkQueuePg, TwoWorkersShareOneRateAndOne429PausesBoth) {
  EXPECT_EQ(RateKeyHash("secret").find("secret"), std::string::npos);
  auto a = SharedRateRow::Open(env_->Url(), TenPerSecond("k"));
  auto b = SharedRateRow::Open(env_->Url(), TenPerSecond("k"));
  ASSERT_TRUE(a && b);
  // Reservations of both interleave on one timeline: 8 slots at 10/s span 0.7 s, whoever asks.
  std::vector<int64_t> offsets;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 4; ++i) {
    for (SharedRateRow* row : {a->get(), b->get()}) {
      auto slots = row->Reserve(1, 0);
      ASSERT_TRUE(slots) << slots.error().message;
      const int64_t asked_us =
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
      offsets.push_back(asked_us + slots->SlotUs(0));
    }
  }
  // Offsets are the database's, placed on this test's clock when the answer came: a round trip of
  // jitter (tens of ms on a loaded machine) blurs each step, not the span.
  for (size_t i = 1; i < offsets.size(); ++i) {
    EXPECT_GE(offsets[i] - offsets[i - 1], 60'000) << "slot " << i << " comes an interval after the one before";
  }
  EXPECT_GE(offsets.back() - offsets.front(), 7 * 100'000 - 40'000) << "8 slots span 7 intervals";
  // a sees a 429 and pauses for 1 s: b's next slot comes after the pause.
  ASSERT_TRUE((*a)->Pause(1'000'000));
  auto after = (*b)->Reserve(1, 0);
  ASSERT_TRUE(after);
  EXPECT_GE(after->SlotUs(0), 900'000);
  auto state = (*b)->Read();
  ASSERT_TRUE(state);
  EXPECT_EQ(state->rate_limited, 1);
  EXPECT_EQ(state->decreases, 1);
  EXPECT_NEAR(state->rate_per_s, 5.0, 0.01) << "the rate halves once per episode";
  // Another key has its own row, untouched.
  auto other = SharedRateRow::Open(env_->Url(), TenPerSecond("other"));
  ASSERT_TRUE(other);
  auto free_slot = (*other)->Reserve(1, 0);
  ASSERT_TRUE(free_slot);
  EXPECT_LT(free_slot->SlotUs(0), 100'000);
}

}  // namespace
}  // namespace barfill::store
