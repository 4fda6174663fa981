// Bad inputs (docs/fault-model.md §8) that tests/engine/bad_input_test.cpp does not cover: the status,
// export and sim commands, database URLs, database state (schema version, column types, roles),
// dates in the future, and answers of the API that must stop a chunk or the run. Each gets the
// exact one-line message and exit code, and the database is checked unchanged afterwards (the
// bytes of a SQLite file; every table's rows for PostgreSQL).
#include <chrono>
#include <string>
#include <cstdlib>
#include <filesystem>

#include "store/schema.h"
#include "chaos/chaos_harness.h"
#include "core/market_time.h"
#include "store/store_env.h"
#include "testing/http_get.h"

namespace barfill::testing {
namespace {

/// A database that already holds a finished small run; bad inputs must leave it as it is.
class BadInputs : public ChaosTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgresql") {
      BARFILL_REQUIRE_DATABASE(PostgresEnv);
      UsePostgres();
    }
    StartSim();
    tickers_ = "AAPL";
    timeframes_ = "1d";
    from_ = "2025-01-02";
    to_ = "2025-01-31";
    const CommandResult seeded = Run();
    ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
    Snapshot();
  }

  void Snapshot() {
    snapshot_ = DatabaseSnapshot();
    data_requests_ = sim_->Stats().data_requests;
  }

  /// `barfill args...` with the database flag appended where the command takes one.
  CommandResult Barfill(std::vector<std::string> args) {
    args.insert(args.begin(), BarfillExe());
    return RunCommand(args, Env());
  }

  /// The run failed with exactly "error: <message>\n", wrote nothing to stdout, left the database
  /// as it was and asked the API nothing.
  void ExpectRefused(const CommandResult& r, int exit_code, const std::string& message) {
    EXPECT_EQ(r.exit_code, exit_code) << r.err;
    EXPECT_EQ(r.err, "error: " + message + "\n");
    EXPECT_EQ(r.out, "");
    EXPECT_TRUE(DatabaseSnapshot() == snapshot_) << "the database must be left as it was";
    EXPECT_EQ(sim_->Stats().data_requests, data_requests_) << "nothing may be downloaded";
  }

  std::string snapshot_;
  int64_t data_requests_ = 0;
};

TEST_P(BadInputs, SchemaVersionMismatchIsRefusedByEveryCommand) {
  const std::string where = DescribeDatabase();
  const struct {
    const char* version;
    std::string says;
  } cases[] = {
      {"99", "schema version 99 found, but this barfill knows only " + std::to_string(store::kSchemaVersion) + "; upgrade barfill"},
      {"0", "unknown schema version '0' (barfill needs " + std::to_string(store::kSchemaVersion) + "); use another database, or drop barfill's tables"},
      {"banana", "unknown schema version 'banana' (barfill needs " + std::to_string(store::kSchemaVersion) + "); use another database, or drop barfill's tables"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.version);
    ExecSql(std::string("UPDATE barfill_meta SET value = '") + c.version + "' WHERE key = 'schema_version'");
    Snapshot();
    const std::string message = where + ": " + c.says;
    ExpectRefused(Run(), 4, message);
    ExpectRefused(Barfill({"status", "--db", db_url_}), 4, message);
    ExpectRefused(Barfill({"export", "--ticker", "AAPL", "--timeframe", "1d", "--db", db_url_}), 4, message);
  }
}

TEST_P(BadInputs, IntegerVolumeColumnIsRefused) {
  UseFreshDatabase();
  ExecSql(postgres() ? PostgresEnv::IntegerVolumeBarsDdl() : SqliteEnv::IntegerVolumeBarsDdl());
  Snapshot();
  const std::string fix = postgres() ? "bigint, barfill needs double precision (crypto (and since 2026 stock) volume is "
                                       "fractional); ALTER TABLE bars ALTER COLUMN volume TYPE double precision"
                                     : "INTEGER, barfill needs REAL (crypto (and since 2026 stock) volume is "
                                       "fractional); recreate the table";
  ExpectRefused(Run(), 4, DescribeDatabase() + ": column bars.volume is " + fix + ", or use another database");
}

TEST_P(BadInputs, ReadersRefuseADatabaseWithoutBarfillTables) {
  UseFreshDatabase();
  if (!postgres()) {
    // SQLite: the file does not exist, and reading must not create it.
    const std::string message = "SQLite database " + SqlitePath() +
                                " does not exist (nothing was backfilled into it yet); check the database URL";
    for (const auto& args : {std::vector<std::string>{"status", "--db", db_url_},
                             std::vector<std::string>{"export", "--ticker", "AAPL", "--timeframe", "1d", "--db", db_url_}}) {
      const CommandResult r = Barfill(args);
      EXPECT_EQ(r.exit_code, 4);
      EXPECT_EQ(r.err, "error: " + message + "\n");
      EXPECT_FALSE(std::filesystem::exists(SqlitePath())) << "a reader created the database file";
    }
    return;
  }
  Snapshot();
  const std::string message = DescribeDatabase() +
                              ": no barfill tables here yet (nothing was backfilled into this database); check "
                              "the database URL";
  ExpectRefused(Barfill({"status", "--db", db_url_}), 4, message);
  ExpectRefused(Barfill({"export", "--ticker", "AAPL", "--timeframe", "1d", "--db", db_url_}), 4, message);
}

TEST_P(BadInputs, StatusAndExportFlagErrors) {
  const struct {
    std::vector<std::string> args;
    std::string message;
  } cases[] = {
      {{"status", "--bogus"}, "The following argument was not expected: --bogus (see barfill --help)"},
      {{"status", "--db"}, "--db: 1 required TEXT missing (see barfill --help)"},
      {{"export", "--timeframe", "1d"}, "--ticker is required (see barfill --help)"},
      {{"export", "--ticker", "AAPL", "--timeframe", "minutes"},
       "--timeframe: unknown timeframe 'minutes': use N followed by s, m, h, d, w, mo, q or y (e.g. 1m, 5m, 15m, 1h, "
       "1d, 1mo)"},
      {{"export", "--ticker", "BTCUSD", "--timeframe", "1d"}, "--ticker: crypto tickers look like X:BTCUSD (got BTCUSD)"},
      {{"export", "--ticker", "AAPL", "--timeframe", "1d", "--format", "xml"},
       "--format: xml not in {csv,jsonl} (see barfill --help)"},
      {{"export", "--ticker", "AAPL", "--timeframe", "1d", "--from", "2025-13-01"},
       "--from 2025-13-01 is not a valid YYYY-MM-DD date"},
      {{"export", "--ticker", "AAPL", "--timeframe", "1d", "--from", "2025-03-01", "--to", "2025-01-01"},
       "--from must not be after --to"},
      {{"export", "--ticker", "AAPL", "--timeframe", "1d", "--adjusted", "maybe"},
       "--adjusted must be true or false (got 'maybe')"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.message);
    std::vector<std::string> args = c.args;
    if (args.back() != "--db") {
      args.push_back("--db");
      args.push_back(db_url_);
    }
    ExpectRefused(Barfill(args), 2, c.message);
  }
}

TEST_P(BadInputs, UnknownDatabaseSchemeIsRefusedWithoutItsPassword) {
  const std::string message =
      "unsupported database URL 'mysql://…@db.example/bars': use sqlite:PATH, "
      "postgresql://[user@]host[:port]/database, or a libpq key=value conninfo";
  const std::string url = "mysql://me:secret@db.example/bars";
  for (const auto& args : {std::vector<std::string>{"status", "--db", url},
                           std::vector<std::string>{"export", "--ticker", "AAPL", "--timeframe", "1d", "--db", url}}) {
    ExpectRefused(Barfill(args), 2, message);
  }
  // A usage error like every other bad flag (exit 2), not a database error.
  const std::string db = db_url_;
  db_url_ = url;
  ExpectRefused(Run(), 2, message);
  db_url_ = db;
}

// A database barfill cannot open for writing: a SQLite file in a directory that does not exist,
// or a PostgreSQL role that does not exist. Exit 4 before any download, naming the place.
TEST_P(BadInputs, UnopenableDatabaseExit4) {
  const std::string db = db_url_;
  std::string message;
  if (postgres()) {
    const std::string host = std::getenv("PGHOST");
    const std::string port = std::getenv("PGPORT");
    db_url_ = "dbname=" + pg_->database() + " user=nosuchrole";
    message = "cannot connect to PostgreSQL database \"" + pg_->database() + "\" at " + host + ":" + port +
              ": connection to server on socket \"" + host + "/.s.PGSQL." + port +
              "\" failed: FATAL:  role \"nosuchrole\" does not exist";
  } else {
    db_url_ = "sqlite:/nonexistent-dir/x.db";
    message = "SQLite database /nonexistent-dir/x.db: directory /nonexistent-dir does not exist; create it first";
  }
  ExpectRefused(Run(), 4, message);
  db_url_ = db;
}

INSTANTIATE_TEST_SUITE_P(Stores, BadInputs, ::testing::ValuesIn(kStoreKinds), StoreKindName);

/// Inputs that do not depend on the database kind.
class BadCommandLine : public ChaosTest {};

TEST_F(BadCommandLine, ServerCommandFlagErrorsExit2) {
  const struct {
    std::vector<std::string> args;
    std::string message;
  } cases[] = {
      {{"sim", "--rate-limit", "fast"}, "--rate-limit 'fast' must look like 5/min (requests per minute)"},
      {{"sim", "--faults", "bogus=1"},
       "--faults: unknown fault 'bogus': use http429, http5xx, reset, truncate, badjson, slow, delayed, expvol, hole, halt or revise"},
      {{"sim", "--faults", "reset=2"}, "--faults: reset needs a probability from 0 to 1, got '2'"},
      {{"sim", "--faults", "reset"}, "--faults: 'reset' must look like name=probability"},
      {{"sim", "--faults", "reset=0.6,http429=0.6"},
       "--faults: http429, http5xx, reset, truncate, badjson and slow exclude each other, so their probabilities "
       "must add up to at most 1"},
      {{"sim", "--port", "70000"}, "--port: Value 70000 not in range 0 to 65535 (see barfill --help)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args.back());
    std::vector<std::string> args = c.args;
    args.insert(args.begin(), BarfillExe());
    const CommandResult r = RunCommand(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err, "error: " + c.message + "\n");
    EXPECT_EQ(r.out, "") << "no 'listening on' line for a server that did not start";
  }
}

TEST_F(BadCommandLine, UnknownCommandExit2) {
  const CommandResult r = RunCommand({BarfillExe(), "frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

// §8: --to in the future is clamped to today (UTC) with a warning, and the run goes on.
TEST_F(BadCommandLine, FutureToIsClampedWithAWarning) {
  StartSim();
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const CalendarDay today = MarketZone::Utc().DayOf(now_ms);
  tickers_ = "X:BTCUSD";
  timeframes_ = "1d";
  from_ = today.AddDays(-5).ToString();
  to_ = today.AddDays(30).ToString();
  const CommandResult run = Run();
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.err.rfind("warning: --to " + to_ + " is in the future; clamped to " + today.ToString() + " (UTC)\n", 0), 0u)
      << run.err;
  to_ = today.ToString();
  ExpectComplete();
  EXPECT_EQ(StoredBars(), TruthBars()) << "no bar after today";
}

/// Answers of the API that must fail a chunk or stop the run, with a clear message (§8 "API").
class BadApiAnswers : public ChaosTest {
 protected:
  void SetUp() override {
    tickers_ = "AAPL";
    timeframes_ = "1d";
    from_ = "2025-01-02";
    to_ = "2025-03-31";
  }
};

// 403 NOT_AUTHORIZED for one ticker: the run stops with exit 3 and one error line; that ticker's
// chunk stays pending (nothing burned), and the key never appears.
TEST_F(BadApiAnswers, PlanRefusedForATickerExit3) {
  sim::SimOptions options;
  options.forbidden_tickers = {"X:BTCUSD"};
  StartSim(options);
  tickers_ = "X:BTCUSD";
  const CommandResult run = Run();
  EXPECT_EQ(run.exit_code, 3) << run.err;
  const size_t error_at = run.err.find("error: X:BTCUSD 1d ");
  EXPECT_NE(run.err.find("API refused the key or plan: "), std::string::npos) << run.err;
  ASSERT_NE(error_at, std::string::npos) << run.err;
  EXPECT_EQ(std::count(run.err.begin() + static_cast<long>(error_at), run.err.end(), '\n'), 1) << run.err;
  EXPECT_NE(run.err.find("(HTTP 403)"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find(kChaosKey), std::string::npos);
  EXPECT_TRUE(DoneChunks().empty());
  EXPECT_EQ(StoredBars(), 0);
  const ReportJson report = ReadReportJson(report_path_);
  EXPECT_EQ(report.exit_code, 3);
  EXPECT_EQ(report.ranges_failed, 0) << "the refused range stays pending, not failed";
}

// Invalid JSON on every attempt: the chunk fails (exit 1) with a message naming it and the
// attempts; nothing of it is stored; a later run against a healthy API finishes it.
TEST_F(BadApiAnswers, PermanentlyInvalidJsonFailsTheChunkClearly) {
  sim::SimOptions options;
  options.faults.badjson = 1;
  StartSim(options);
  const CommandResult run = Run();
  EXPECT_EQ(run.exit_code, 1) << run.err;
  const ReportJson report = ReadReportJson(report_path_);
  ASSERT_EQ(report.failure_errors.size(), 1u);
  const std::string& error = report.failure_errors[0];
  EXPECT_NE(error.find("AAPL 1d 2025-01-02"), std::string::npos) << error;
  EXPECT_NE(error.find("6 attempts"), std::string::npos) << error;
  EXPECT_EQ(StoredBars(), 0);
  EXPECT_TRUE(DoneChunks().empty());
  EXPECT_EQ(sim_->Stats().badjson, 6);

  sim_.reset();
  StartSim();
  ASSERT_EQ(Run().exit_code, 0);
  ExpectComplete();
}

// Invalid bars (low above high, made by the proxy raising every low's first digit): the chunk is
// rejected at once, not retried and not stored; once the API is right again a run finishes it.
TEST_F(BadApiAnswers, InvalidBarsRejectTheChunk) {
  StartSim();
  StartProxy();
  Toxics toxics;
  toxics.downstream.corrupt_marker = "\"l\":";
  toxics.downstream.corrupt_probability = 1;
  proxy_->SetToxics(toxics);
  const CommandResult run = Run();
  EXPECT_EQ(run.exit_code, 1) << run.err;
  const ReportJson report = ReadReportJson(report_path_);
  ASSERT_EQ(report.failure_errors.size(), 1u);
  EXPECT_NE(report.failure_errors[0].find("t="), std::string::npos) << report.failure_errors[0];
  EXPECT_EQ(report.requests, 1) << "invalid data is not retried";
  EXPECT_EQ(StoredBars(), 0);
  const auto failed = LedgerProblems();
  EXPECT_TRUE(failed.empty());

  proxy_->SetToxics(Toxics{});
  ASSERT_EQ(Run().exit_code, 0);
  ExpectComplete();
}

// status "DELAYED" (a plan with delayed data): the data is accepted, and the run says so.
TEST_F(BadApiAnswers, DelayedDataIsAcceptedAndMentioned) {
  sim::SimOptions options;
  options.faults.delayed = 1;
  StartSim(options);
  const CommandResult run = Run();
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ExpectComplete();
  const std::string all = run.out + run.err;
  EXPECT_TRUE(all.find("DELAYED") != std::string::npos || all.find("delayed") != std::string::npos)
      << "§8: status DELAYED should give an info line:\n" << all;
}

}  // namespace
}  // namespace barfill::testing
