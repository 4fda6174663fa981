#include "chaos/chaos_harness.h"

#include "testing/sim_requests.h"

#include <libpq-fe.h>
#include <signal.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "sim/market_data.h"
#include "testing/ground_truth_check.h"
#include "testing/http_get.h"

namespace barfill::testing {
namespace {

// Wide enough for every plan of the scenarios: 1970..2100.
constexpr TimeRange kAllTime{0, 4'102'444'800'000};

/// Bars of `series` in `range`, read through the store.
BarBatch ReadAllBars(BarStore& store, const Series& series, TimeRange range, std::string* error) {
  BarBatch all;
  const Status read = store.ReadBars(series, range, [&](const BarBatch& batch) {
    for (size_t i = 0; i < batch.size(); ++i) all.push_back(batch[i]);
    return Ok();
  });
  if (!read) *error = read.error().message;
  return all;
}

}  // namespace

bool ProcessExited(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const size_t paren = line.rfind(')');
  return paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] == 'Z';
}

bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

std::pair<CommandResult, bool> WaitAtMost(BackgroundCommand& command, std::chrono::milliseconds limit) {
  const bool in_time = WaitUntil([&] { return ProcessExited(command.pid()); }, limit);
  if (!in_time) command.Kill(SIGKILL);
  return {command.Wait(), in_time};
}

struct PgSession::Impl {
  PGconn* conn = nullptr;
};

PgSession::PgSession(const std::string& conninfo) : impl_(std::make_unique<Impl>()) {
  impl_->conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(impl_->conn) != CONNECTION_OK) {
    const std::string message = PQerrorMessage(impl_->conn);
    PQfinish(impl_->conn);
    impl_->conn = nullptr;
    throw std::runtime_error("test connection failed: " + message);
  }
  PQsetNoticeProcessor(impl_->conn, [](void*, const char*) {}, nullptr);
}

PgSession::~PgSession() {
  if (impl_->conn != nullptr) PQfinish(impl_->conn);
}

std::string PgSession::Value(const std::string& sql) {
  std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(impl_->conn, sql.c_str()), &PQclear);
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error("test SQL failed: " + sql + ": " + PQresultErrorMessage(result.get()));
  }
  if (status != PGRES_TUPLES_OK || PQntuples(result.get()) == 0) return "";
  return PQgetvalue(result.get(), 0, 0);
}

void ChaosTest::StartSim(sim::SimOptions options) {
  options.seed = kChaosSeed;
  options.api_key = kChaosKey;
  auto server = sim::SimServer::Start(options);
  ASSERT_TRUE(server) << server.error().message;
  sim_ = std::move(*server);
}

void ChaosTest::StartInterruptiblePlan() {
  tickers_ = "AAPL,X:BTCUSD";
  timeframes_ = "1m,1h";
  from_ = "2025-02-01";
  to_ = "2025-03-31";
  rate_ = "25/s";
  sim::SimOptions options;
  options.max_page_limit = 5000;
  StartSim(options);
}

void ChaosTest::StartProxy(uint64_t seed) {
  auto proxy = FaultProxy::Start("127.0.0.1", sim_->Port(), seed);
  ASSERT_TRUE(proxy) << proxy.error().message;
  proxy_ = std::move(*proxy);
}

void ChaosTest::UsePostgres() {
  pg_ = std::make_unique<PostgresEnv>();
  db_url_ = pg_->Url();
}

void ChaosTest::UseFreshDatabase() {
  if (pg_) {
    UsePostgres();
  } else {
    sqlite_ = std::make_unique<SqliteEnv>();
    db_url_ = sqlite_->Url();
  }
}

engine::Plan ChaosTest::TestPlan() const {
  return *engine::ParsePlan(engine::PlanText{"", engine::SplitList(tickers_), engine::SplitList(timeframes_), from_, to_}, TodayUtc());
}

std::vector<std::string> ChaosTest::BackfillArgs() const {
  std::vector<std::string> args = {BarfillExe(), "backfill",       "--tickers",   tickers_,
                                   "--timeframes", timeframes_,    "--from",      from_,
                                   "--to",         to_,            "--db",        db_url_,
                                   "--base-url",   BaseUrl(),      "--rate",      rate_,
                                   "--concurrency", std::to_string(concurrency_), "--no-progress",
                                   "--report-json", report_path_,
                                   // The bars' faults, counted request by request; corporate actions have
                                   // their own suite (tests/engine/actions_suite.h).
                                   "--skip-actions"};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  return args;
}

ChildEnv ChaosTest::Env(const std::map<std::string, std::string>& extra) const {
  ChildEnv env;
  env.set["POLYGON_API_KEY"] = kChaosKey;
  for (const auto& [k, v] : extra) env.set[k] = v;
  env.unset = {"BARFILL_DB", "MASSIVE_API_KEY", "BARFILL_CRASH_AT", "BARFILL_CRASH_AFTER_COMMITS"};
  for (const auto& [k, v] : extra) env.unset.erase(std::remove(env.unset.begin(), env.unset.end(), k), env.unset.end());
  return env;
}

CommandResult ChaosTest::Run(const std::map<std::string, std::string>& extra_env) {
  std::remove(report_path_.c_str());
  return RunCommand(BackfillArgs(), Env(extra_env));
}

std::unique_ptr<BackgroundCommand> ChaosTest::Start(const std::map<std::string, std::string>& extra_env) {
  std::remove(report_path_.c_str());
  return std::make_unique<BackgroundCommand>(BackfillArgs(), Env(extra_env));
}

CommandResult ChaosTest::RunUntilDone(int max_runs, const std::vector<int>& allowed) {
  CommandResult last;
  for (int i = 0; i < max_runs; ++i) {
    last = Run();
    if (last.exit_code == 0) return last;
    EXPECT_NE(std::find(allowed.begin(), allowed.end(), last.exit_code), allowed.end())
        << "run " << i + 1 << " exited " << last.exit_code << ":\n" << last.err;
  }
  ADD_FAILURE() << "not done after " << max_runs << " runs; last:\n" << last.err << last.out;
  return last;
}

std::unique_ptr<BarStore> ChaosTest::OpenForReading() {
  auto store = OpenStore(db_url_, StoreOptions::ForReading());
  if (!store) {
    ADD_FAILURE() << store.error().message;
    return nullptr;
  }
  return std::move(*store);
}

void ChaosTest::ExpectComplete() {
  auto store = OpenForReading();
  ASSERT_NE(store, nullptr);
  const auto diffs = DiffStoreWithGroundTruth(*store, sim::Market{kChaosSeed}, TestPlan());
  EXPECT_TRUE(diffs.empty()) << Describe(diffs);
  const auto problems = LedgerProblems();
  EXPECT_TRUE(problems.empty()) << problems.front();
  for (const Ticker& t : TestPlan().tickers) {
    for (const Timeframe& tf : TestPlan().timeframes) {
      auto ledger = store->ReadLedger(Series{t, tf, true});
      ASSERT_TRUE(ledger);
      for (const LedgerEntry& e : *ledger) {
        EXPECT_TRUE(e.state == ChunkState::kDone || e.state == ChunkState::kEmpty)
            << Chunk{e.series, e.range}.Describe() << " is " << ChunkStateName(e.state) << ": " << e.last_error;
      }
    }
  }
}

std::vector<std::string> ChaosTest::LedgerProblems() {
  std::vector<std::string> problems;
  auto store = OpenForReading();
  if (!store) return {"cannot open the store"};
  const engine::Plan plan = TestPlan();
  for (const Ticker& ticker : plan.tickers) {
    for (const Timeframe& tf : plan.timeframes) {
      const Series series{ticker, tf, plan.adjusted};
      auto ledger = store->ReadLedger(series);
      if (!ledger) return {ledger.error().message};
      std::string error;
      const BarBatch stored = ReadAllBars(*store, series, kAllTime, &error);
      if (!error.empty()) return {error};
      // Bars of the last days may be a range's live tail: stored, but not final until a later run.
      const int64_t live_from = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch()).count() - 2 * kMsPerDay;
      for (size_t i = 0; i < stored.size(); ++i) {
        if (stored.t[i] >= live_from) continue;
        const bool covered = std::any_of(ledger->begin(), ledger->end(), [&](const LedgerEntry& e) {
          return (e.state == ChunkState::kDone || e.state == ChunkState::kEmpty) && e.range.Contains(stored[i].t);
        });
        if (!covered) {
          problems.push_back(series.Describe() + ": bar t=" + std::to_string(stored[i].t) +
                             " is outside every final ledger range (a page was committed without its progress)");
          break;
        }
      }
      for (const LedgerEntry& e : *ledger) {
        if (e.state != ChunkState::kDone && e.state != ChunkState::kEmpty) continue;
        const std::string chunk = Chunk{series, e.range}.Describe();
        const BarBatch truth = sim::GroundTruth(kChaosSeed, ticker, tf, plan.adjusted, e.range);
        const BarBatch in_chunk = ReadAllBars(*store, series, e.range, &error);
        if (static_cast<int64_t>(in_chunk.size()) != e.rows) {
          problems.push_back(chunk + ": the ledger says " + std::to_string(e.rows) + " rows, the table holds " +
                             std::to_string(in_chunk.size()));
        }
        bool same = in_chunk.size() == truth.size();
        for (size_t i = 0; same && i < truth.size(); ++i) same = in_chunk[i] == truth[i];
        if (!same) {
          problems.push_back(chunk + ": " + std::to_string(in_chunk.size()) + " bars differ from the " +
                             std::to_string(truth.size()) + " of the ground truth");
        }
      }
    }
  }
  return problems;
}

std::vector<LedgerEntry> ChaosTest::DoneChunks() {
  std::vector<LedgerEntry> done;
  auto store = OpenForReading();
  if (!store) return done;
  const engine::Plan plan = TestPlan();
  for (const Ticker& t : plan.tickers) {
    for (const Timeframe& tf : plan.timeframes) {
      auto ledger = store->ReadLedger(Series{t, tf, plan.adjusted});
      if (!ledger) continue;
      for (const LedgerEntry& e : *ledger) {
        if (e.state == ChunkState::kDone || e.state == ChunkState::kEmpty) done.push_back(e);
      }
    }
  }
  return done;
}

int64_t ChaosTest::StoredBars() {
  auto store = OpenForReading();
  if (!store) return -1;
  const engine::Plan plan = TestPlan();
  int64_t total = 0;
  for (const Ticker& t : plan.tickers) {
    for (const Timeframe& tf : plan.timeframes) {
      std::string error;
      total += static_cast<int64_t>(ReadAllBars(*store, Series{t, tf, plan.adjusted}, kAllTime, &error).size());
    }
  }
  return total;
}

int64_t ChaosTest::TruthBars() const { return GroundTruthBars(kChaosSeed, TestPlan()); }

void ChaosTest::ExpectReportAgrees(const ReportJson& report, int64_t bars_before, bool every_request_reached_the_server) {
  ASSERT_TRUE(report.parsed) << "no report at " << report_path_;
  EXPECT_EQ(report.exit_code, 0);
  EXPECT_EQ(report.records, TruthBars() - bars_before) << "the report counts exactly the bars this run stored";
  EXPECT_EQ(report.ranges_failed, 0);
  EXPECT_EQ(report.ranges_pending, 0);
  EXPECT_EQ(report.ranges_done, report.ranges_total);
  const sim::SimStats stats = sim_->Stats();
  if (every_request_reached_the_server) {
    EXPECT_EQ(report.requests, stats.requests) << "every request the simulator saw, and no other, is counted";
    EXPECT_EQ(report.rate_limited, stats.http429 + stats.rate_limited) << "every 429 is counted";
    EXPECT_EQ(report.server_errors, stats.http5xx);
  } else {
    EXPECT_GE(report.requests, stats.requests);
    EXPECT_LE(report.rate_limited, stats.http429 + stats.rate_limited);
    EXPECT_LE(report.server_errors, stats.http5xx);
  }
}

std::vector<std::pair<std::string, std::string>> ChaosTest::SimRequests() const {
  return testing::SimRequests(sim_->BaseUrl());
}

std::optional<std::string> ChaosTest::RequestIntoDoneChunk(const std::vector<LedgerEntry>& done) const {
  return testing::RequestIntoDoneChunk(SimRequests(), done);
}

std::string ChaosTest::DescribeDatabase() {
  auto store = OpenStore(db_url_);
  return store ? (*store)->Describe() : store.error().message;
}

void ChaosTest::ExecSql(const std::string& sql) {
  if (pg_) {
    pg_->ExecSql(sql);
  } else {
    sqlite_->ExecSql(sql);
  }
}

std::string ChaosTest::DatabaseSnapshot() {
  if (!pg_) {
    const std::string path = SqlitePath();
    return ReadFileBytes(path) + "|wal:" + ReadFileBytes(path + "-wal");
  }
  PgSession session(pg_->Url());
  std::string snapshot;
  std::stringstream tables(session.Value(
      "SELECT string_agg(table_name, ' ' ORDER BY table_name) FROM information_schema.tables WHERE table_schema = "
      "'public'"));
  std::string table;
  while (tables >> table) {
    snapshot += table + "=" +
                session.Value("SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') FROM " +
                              table + " t") +
                ";";
  }
  return snapshot;
}

}  // namespace barfill::testing
