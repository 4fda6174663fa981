// The store suite on PostgreSQL, and what only a server has: lost connections, read-only
// databases, permissions, refused connections.
#include <atomic>
#include <cstdlib>
#include <thread>

#include "store/ledger.h"
#include "store/pg_connection.h"
#include "store_env.h"
#include "store_suite.h"
#include "verification_suite.h"

namespace barfill::testing {
namespace {

INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, StoreSuite, PostgresEnv);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, VerificationSuite, PostgresEnv);

class PostgresOnly : public StoreSuite<PostgresEnv> {};

TEST_F(PostgresOnly, ATerminatedBackendIsRetriedWithoutDuplicates) {
  const Series series = MakeSeries("X:BTCUSD", "1m");
  const Chunk chunk{series, TimeRange{Ms("2025-01-01"), Ms("2025-01-08")}};
  const BarBatch bars = MinuteBars(chunk.range.from_ms, 7 * 1440, 90000);
  for (const WriteStep step : {WriteStep::kBarsHalfWritten, WriteStep::kBeforeCommit}) {
    SCOPED_TRACE(static_cast<int>(step));
    std::atomic<int> kills = 0;
    StoreOptions options;
    options.write_hook = [&, step](WriteStep at) -> Status {
      if (at == step && kills == 0) kills += env_->TerminateOtherBackends();
      return Ok();
    };
    auto store = Open(options);
    ASSERT_TRUE(store);
    const ChunkWrite write{chunk, &bars, 1};
    const Status status = store->CommitChunks({&write, 1});
    ASSERT_TRUE(status) << status.error().message;
    EXPECT_GE(kills.load(), 1);
    EXPECT_EQ(ReadAll(series), AsBars(bars));
    ASSERT_EQ(Ledger(series).size(), 1u);
  }
}

TEST_F(PostgresOnly, ADeadlockIsRetried) {
  const Series series = MakeSeries("AAPL", "1m");
  const Chunk a{series, TimeRange{Ms("2025-03-03"), Ms("2025-03-04")}};
  const Chunk b{series, TimeRange{Ms("2025-03-04"), Ms("2025-03-05")}};
  Commit(a, MinuteBars(a.range.from_ms + 10 * kMsPerHour, 10, 1));
  Commit(b, MinuteBars(b.range.from_ms + 10 * kMsPerHour, 10, 1));

  // Another session locks b's bars first and waits long before it checks for deadlocks, so
  // barfill's transaction (deadlock_timeout 1 s) is the one PostgreSQL cancels with 40P01.
  auto blocker = store::PgConnection::Open(env_->Url(), std::chrono::seconds(10));
  ASSERT_TRUE(blocker);
  ASSERT_TRUE((*blocker)->Run("BEGIN; SET LOCAL deadlock_timeout = '10s'", "begin"));
  ASSERT_TRUE(store::DeleteBarsInRange(**blocker, b));

  std::atomic<int> attempts = 0;
  StoreOptions options;
  options.first_retry_delay = std::chrono::milliseconds(10);
  options.write_hook = [&](WriteStep at) {
    if (at == WriteStep::kBegun) ++attempts;
    return Ok();
  };
  auto writer = Open(options);
  ASSERT_TRUE(writer);
  const BarBatch new_a = MinuteBars(a.range.from_ms + 11 * kMsPerHour, 5, 50);
  const BarBatch new_b = MinuteBars(b.range.from_ms + 11 * kMsPerHour, 5, 60);
  const ChunkWrite writes[] = {{a, &new_a, 1}, {b, &new_b, 1}};
  Status result = Ok();
  std::thread thread([&] { result = writer->CommitChunks(writes); });

  auto watcher = store::PgConnection::Open(env_->Url(), std::chrono::seconds(10));
  ASSERT_TRUE(watcher);
  int64_t waiting = 0;
  for (int i = 0; i < 500 && waiting == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_TRUE((*watcher)->Query(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
        "wait_event_type = 'Lock'",
        {}, [&](const store::SqlRow& row) {
          waiting = row.Int(0);
          return Ok();
        }));
  }
  ASSERT_EQ(waiting, 1) << "barfill's writer never waited for the blocker's lock";
  ASSERT_TRUE(store::DeleteBarsInRange(**blocker, a));  // closes the cycle
  ASSERT_TRUE((*blocker)->Run("ROLLBACK", "rollback"));
  thread.join();
  ASSERT_TRUE(result) << result.error().message;
  // At least one retry. Under load the retry can take a's rows back before the woken blocker
  // does, and deadlock with it once more: then a third attempt commits.
  EXPECT_GE(attempts.load(), 2);
  BarBatch expected = new_a;
  expected.Append(new_b);
  EXPECT_EQ(ReadAll(series), AsBars(expected));
}

/// A small tmpfs the server can write to, unmounted however the test ends.
class TinyMount {
 public:
  explicit TinyMount(const std::string& path) : path_(path) {
    mounted_ = std::system(("mkdir -p " + path + " && chmod 755 " + path + "/.. && mount -t tmpfs "
                            "-o size=3m tmpfs " + path + " 2>/dev/null && chown postgres " + path +
                            " 2>/dev/null")
                               .c_str()) == 0;
  }
  ~TinyMount() { std::system(("umount " + path_ + " 2>/dev/null").c_str()); }
  bool mounted() const { return mounted_; }

 private:
  std::string path_;
  bool mounted_ = false;
};

TEST_F(PostgresOnly, AFullDiskIsAClearDatabaseError) {
  // A 3 MB tmpfs as the tablespace of bars: COPY runs out of space after a few thousand rows.
  TempDir dir;
  const TinyMount mount(dir.File("full"));
  if (!mount.mounted()) {
    // Under CI=true nothing may be skipped: a machine that cannot mount fails the test loudly.
    if (RequireAllServices()) FAIL() << "cannot mount a 3 MB tmpfs (needs root) (CI=true: this test may not be skipped)";
    GTEST_SKIP() << "needs root to mount a small tmpfs for the server";
  }
  const std::string tablespace = env_->database() + "_full";
  PostgresEnv::ExecAdminSql("CREATE TABLESPACE " + tablespace + " LOCATION '" + dir.File("full") + "'");
  env_->ExecSql("ALTER TABLE bars SET TABLESPACE " + tablespace);

  const Series series = MakeSeries("X:BTCUSD", "1m");
  const Chunk chunk{series, TimeRange{Ms("2025-01-01"), Ms("2025-03-01")}};
  const BarBatch bars = MinuteBars(chunk.range.from_ms, 59 * 1440, 100);
  const ChunkWrite write{chunk, &bars, 1};
  const Status status = store_->CommitChunks({&write, 1});

  store_.reset();
  env_.reset();  // drops the database, so the tablespace can go
  PostgresEnv::ExecAdminSql("DROP TABLESPACE " + tablespace);

  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kDatabase);
  EXPECT_THAT(status.error().message, ::testing::HasSubstr("No space left on device"));
  EXPECT_THAT(status.error().message,
              ::testing::EndsWith("(SQLSTATE 53100); the server's disk is full: free space, then re-run"));
}

TEST_F(PostgresOnly, StagingMergeKeepsTheReplaceSemantics) {
  StoreOptions options;
  options.pg_write_method = PgWriteMethod::kStagingMerge;
  auto store = Open(options);
  ASSERT_TRUE(store);
  const Series series = MakeSeries("AAPL", "1m");
  const Series other = MakeSeries("AAPL", "1m", false);
  const Chunk chunk{series, TimeRange{Ms("2025-03-03"), Ms("2025-03-04")}};
  const BarBatch old_bars = MinuteBars(chunk.range.from_ms + 9 * kMsPerHour, 20, 100);
  const ChunkWrite first[] = {{chunk, &old_bars, 1}, {Chunk{other, chunk.range}, &old_bars, 1}};
  ASSERT_TRUE(store->CommitChunks(first));
  ASSERT_TRUE(store->CommitChunks({first, 1}));
  EXPECT_EQ(ReadAll(series), AsBars(old_bars));

  BarBatch revised;
  for (size_t i = 0; i < old_bars.size(); ++i) {
    if (i == 7) continue;
    Bar bar = old_bars[i];
    if (i == 5) bar.trades = kNoTrades;
    if (i == 6) bar.close = 1e-9;
    revised.push_back(bar);
  }
  // In one call, a later overlapping write of the same chunk wins.
  const ChunkWrite second[] = {{chunk, &old_bars, 1}, {chunk, &revised, 2}};
  ASSERT_TRUE(store->CommitChunks(second));
  EXPECT_EQ(ReadAll(series), AsBars(revised));
  EXPECT_EQ(ReadAll(other), AsBars(old_bars));
  const auto ledger = Ledger(series);
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0].rows, 19);
  EXPECT_EQ(ledger[0].attempts, 2);
}

TEST_F(PostgresOnly, GivesUpOnAServerThatStaysAwayWithADatabaseError) {
  StoreOptions options;
  options.max_transaction_attempts = 3;
  options.first_retry_delay = std::chrono::milliseconds(1);
  options.write_hook = [&](WriteStep) -> Status {
    env_->TerminateOtherBackends();
    return Ok();
  };
  auto store = Open(options);
  ASSERT_TRUE(store);
  const BarBatch bars = MinuteBars(Ms("2025-01-01"), 10, 1);
  const ChunkWrite write{Chunk{MakeSeries("AAPL", "1m"), TimeRange{Ms("2025-01-01"), Ms("2025-01-02")}},
                         &bars, 1};
  const Status status = store->CommitChunks({&write, 1});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kDatabase);
  EXPECT_THAT(status.error().message, ::testing::StartsWith(store->Describe() + ": "));
  EXPECT_THAT(status.error().message, ::testing::EndsWith("(gave up after 3 attempts)"));
}

TEST_F(PostgresOnly, AReadOnlyDatabaseIsRefusedAtOpen) {
  store_.reset();
  env_->ExecSql("ALTER DATABASE " + env_->database() + " SET default_transaction_read_only = on");
  auto store = OpenStore(env_->Url());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::kDatabase);
  EXPECT_THAT(store.error().message,
              ::testing::MatchesRegex("PostgreSQL database \"barfill_t_[0-9a-f]+\" at .+:[0-9]+ is "
                                      "read-only \\(default_transaction_read_only is on, or this "
                                      "is a standby\\): point the database URL at a writable primary"));
  // Readers still work on it.
  const CommandResult status = RunCommand({BarfillExe(), "status", "--db", env_->Url()});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  // The CLI maps the writer's refusal to exit 4.
  const CommandResult backfill =
      RunCommand({BarfillExe(), "backfill", "--tickers", "AAPL", "--timeframes", "1d", "--from",
                  "2025-01-02", "--to", "2025-01-03", "--api-key", "k", "--db", env_->Url(),
                  "--no-progress"});
  EXPECT_EQ(backfill.exit_code, 4) << backfill.err;
  EXPECT_THAT(backfill.err, ::testing::HasSubstr("is read-only"));
}

TEST_F(PostgresOnly, AUserWithoutPrivilegesIsRefusedBeforeAnyWrite) {
  const std::string role = env_->database() + "_reader";
  PostgresEnv::ExecAdminSql("CREATE ROLE " + role + " LOGIN");
  auto store = OpenStore(env_->Url() + " user=" + role);
  ASSERT_TRUE(store) << store.error().message;
  const Status status = (*store)->Migrate();
  store->reset();
  PostgresEnv::ExecAdminSql("DROP ROLE " + role);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kDatabase);
  EXPECT_THAT(status.error().message, ::testing::HasSubstr("permission denied"));
}

TEST(PostgresConnect, ARefusedConnectionNamesHostPortDatabaseAndReason) {
  auto store = OpenStore("postgresql://barfill@127.0.0.1:1/market");
  ASSERT_FALSE(store);
  // Nothing listens there now; that may pass (a restart), so a worker may wait and try again.
  EXPECT_EQ(store.error().code, ErrorCode::kDatabaseRetryable);
  EXPECT_THAT(store.error().message,
              ::testing::StartsWith("cannot connect to PostgreSQL database \"market\" at 127.0.0.1:1: "));
  EXPECT_THAT(store.error().message, ::testing::HasSubstr("Connection refused"));
  EXPECT_EQ(store.error().message.find('\n'), std::string::npos);

  const CommandResult result =
      RunCommand({BarfillExe(), "status", "--db", "postgresql://barfill:pw@127.0.0.1:1/market"});
  EXPECT_EQ(result.exit_code, 4);
  EXPECT_THAT(result.err, ::testing::StartsWith("error: cannot connect to PostgreSQL database "
                                                "\"market\" at 127.0.0.1:1: "));
  EXPECT_EQ(result.err.find("pw"), std::string::npos);
}

TEST(PostgresConnect, AMissingDatabaseIsAClearError) {
  BARFILL_REQUIRE_DATABASE(PostgresEnv);
  auto store = OpenStore("dbname=barfill_no_such_db");
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::kDatabase);
  EXPECT_THAT(store.error().message, ::testing::HasSubstr("database \"barfill_no_such_db\" does not exist"));
}

}  // namespace
}  // namespace barfill::testing
