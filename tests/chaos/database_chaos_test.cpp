// PostgreSQL faults (docs/fault-model.md §7 D1, D2, D4) while `barfill backfill` writes: the backend
// killed in the middle of a COPY, the server restarted mid-run, a read-only database. These need
// the throwaway cluster of scripts/with-postgres.sh; they fail (not skip) when CI=true without it.
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "chaos/chaos_harness.h"
#include "testing/http_get.h"

namespace barfill::testing {
namespace {

using namespace std::chrono_literals;

class PgChaos : public ChaosTest {
 protected:
  void SetUp() override {
    BARFILL_REQUIRE_DATABASE(PostgresEnv);
    UsePostgres();
  }
};

// D1: pg_terminate_backend on barfill's connection while it is inside COPY. The store reconnects
// and retries the whole transaction; nothing is lost or doubled, and the run still exits 0.
TEST_F(PgChaos, BackendTerminatedMidCopyIsRetried) {
  // Minute bars of two crypto pairs for two months: COPYs of ~45,000 rows, long enough to catch.
  tickers_ = "X:BTCUSD,X:ETHUSD";
  timeframes_ = "1m";
  from_ = "2025-01-01";
  to_ = "2025-02-28";
  StartSim();
  PgSession watcher("dbname=postgres");
  int64_t terminated = 0;
  CommandResult run;
  for (int attempt = 0; attempt < 8 && terminated == 0; ++attempt) {
    if (attempt > 0) UsePostgres();  // missed every COPY: start over on a fresh database
    HttpGetText(sim_->BaseUrl() + "/__reset");
    auto background = Start();
    const std::string kill_copy =
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '" + pg_->database() +
        "' AND state = 'active' AND query LIKE 'COPY%'";
    // One kill per run: the store must ride out a lost connection, not an endless series of them.
    while (terminated == 0 && !ProcessExited(background->pid())) terminated += std::stoll(watcher.Value(kill_copy));
    run = background->Wait();
  }
  ASSERT_GT(terminated, 0) << "never caught barfill inside a COPY";
  EXPECT_EQ(run.exit_code, 0) << "a terminated backend is retried, not fatal:\n" << run.err;
  ExpectComplete();
  if (run.exit_code == 0) ExpectReportAgrees(ReadReportJson(report_path_), 0);
}

// D2: the server restarts (pg_ctl restart -m fast) while the run is writing. In-flight
// transactions roll back and are retried on a new connection.
TEST_F(PgChaos, ServerRestartMidRun) {
  PrivateCluster cluster;
  ASSERT_TRUE(cluster.error().empty()) << cluster.error();
  db_url_ = cluster.Conninfo();
  StartInterruptiblePlan();
  auto run = Start();
  PgSession watcher(db_url_);
  const auto committed = [&] {
    try {
      return watcher.Value("SELECT count(*) FROM barfill_ledger") != "0";
    } catch (const std::exception&) {
      return false;  // the schema is not there yet
    }
  };
  ASSERT_TRUE(WaitUntil(committed, 20s)) << "no chunk committed before the restart";
  const CommandResult restarted = cluster.Restart();
  ASSERT_EQ(restarted.exit_code, 0) << restarted.err << restarted.out;
  EXPECT_FALSE(ProcessExited(run->pid())) << "the restart came after the run had finished";
  auto [done, in_time] = WaitAtMost(*run, 60s);
  ASSERT_TRUE(in_time);
  EXPECT_EQ(done.exit_code, 0) << "the store reconnects after a restart:\n" << done.err;
  if (done.exit_code != 0) RunUntilDone(2, {});
  ExpectComplete();
  if (done.exit_code == 0) ExpectReportAgrees(ReadReportJson(report_path_), 0);
}

// D4: a read-only database. The run stops with exit 4 and one clear line before any download,
// the database is left exactly as it was, and once writable again a resume finishes.
TEST_F(PgChaos, ReadOnlyDatabaseExits4AndResumesWhenWritable) {
  StartSim();
  const std::string full_tickers = tickers_;
  tickers_ = "AAPL";
  timeframes_ = "1d";
  ASSERT_EQ(Run().exit_code, 0);  // an earlier, finished run
  const std::string before = DatabaseSnapshot();
  tickers_ = full_tickers;
  timeframes_ = "1h,1d";
  PostgresEnv::ExecAdminSql("ALTER DATABASE " + pg_->database() + " SET default_transaction_read_only = on");
  HttpGetText(sim_->BaseUrl() + "/__reset");
  const CommandResult refused = Run();
  EXPECT_EQ(refused.exit_code, 4) << refused.err;
  EXPECT_EQ(refused.err.rfind("error: ", 0), 0u) << refused.err;
  EXPECT_EQ(std::count(refused.err.begin(), refused.err.end(), '\n'), 1) << refused.err;
  EXPECT_NE(refused.err.find("read-only"), std::string::npos) << refused.err;
  EXPECT_EQ(sim_->Stats().requests, 0) << "refused before any download";
  EXPECT_TRUE(DatabaseSnapshot() == before) << "the database must be left as it was";

  PostgresEnv::ExecAdminSql("ALTER DATABASE " + pg_->database() + " SET default_transaction_read_only = off");
  const int64_t bars_before = StoredBars();
  const CommandResult resumed = Run();
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  ExpectComplete();
  const ReportJson report = ReadReportJson(report_path_);
  ExpectReportAgrees(report, bars_before);
  EXPECT_EQ(report.series_up_to_date, 1) << "AAPL 1d was done before";
}

// docs/fault-model.md §8: synchronous_commit=off may lose the last commits on a server crash (data
// and checkpoint together, so still consistent); barfill should say so at start-up.
TEST_F(PgChaos, AsynchronousCommitIsWarnedAbout) {
  StartSim();
  tickers_ = "AAPL";
  timeframes_ = "1d";
  PostgresEnv::ExecAdminSql("ALTER DATABASE " + pg_->database() + " SET synchronous_commit = off");
  const CommandResult run = Run();
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("warning: "), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("synchronous_commit"), std::string::npos)
      << "expected a start-up warning about synchronous_commit=off:\n" << run.err;
  ExpectComplete();
}

}  // namespace
}  // namespace barfill::testing
