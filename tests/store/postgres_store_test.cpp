// The store suite on PostgreSQL, and what only a server has: lost connections, read-only
// databases, permissions, refused connections.
#include <atomic>

#include "store_env.h"
#include "store_suite.h"

namespace barfill::testing {
namespace {

INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, StoreSuite, PostgresEnv);

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
                                      "is a standby\\): point --db at a writable primary"));
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
  EXPECT_EQ(store.error().code, ErrorCode::kDatabase);
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
