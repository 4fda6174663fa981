// What every chaos scenario shares: the simulator (and the fault proxy in front of it), a
// database (a SQLite file or a fresh PostgreSQL database), `barfill backfill` runs of a small
// plan, and the final checks: the database equals the ground truth bar for bar, the ledger agrees
// with the bars chunk by chunk, and the report agrees with the database and the simulator.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chaos/fault_proxy.h"
#include "engine/plan.h"
#include "sim/sim_server.h"
#include "store/bar_store.h"
#include "store/store_env.h"
#include "testing/report_json.h"
#include "testing/subprocess.h"

namespace barfill::testing {

inline constexpr uint64_t kChaosSeed = 29;
inline constexpr const char* kChaosKey = "chaos-key";


/// True when the process has exited (it may still wait to be reaped).
bool ProcessExited(pid_t pid);

/// Waits up to `limit` for `command` to exit on its own; kills it with SIGKILL after that.
/// Returns the result and whether it exited in time.
std::pair<CommandResult, bool> WaitAtMost(BackgroundCommand& command, std::chrono::milliseconds limit);

/// Polls `condition` every few milliseconds until it holds or `limit` passes.
bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds limit);

/// One libpq connection for tests that watch or poke the server while barfill runs.
class PgSession {
 public:
  explicit PgSession(const std::string& conninfo);
  ~PgSession();
  PgSession(const PgSession&) = delete;
  PgSession& operator=(const PgSession&) = delete;
  /// Runs `sql` and returns the first column of the first row ("" when none); throws on error.
  std::string Value(const std::string& sql);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The stores a scenario runs against, as test parameters: "sqlite" and "postgresql".
inline const std::vector<std::string> kStoreKinds = {"sqlite", "postgresql"};
inline std::string StoreKindName(const ::testing::TestParamInfo<std::string>& param_info) { return param_info.param; }

/// The base fixture of the scenarios: by default a SQLite file; UsePostgres() switches to a fresh
/// PostgreSQL database (call it after BARFILL_REQUIRE_DATABASE(PostgresEnv)).
class ChaosTest : public ::testing::Test {
 protected:
  /// Starts the simulator with `options` (seed and key are the chaos ones).
  void StartSim(sim::SimOptions options = {});
  /// A plan for interrupting: two months of minute and hour bars of a stock and a crypto pair in
  /// pages of 5000 minutes (8 chunks, about 70 requests) at 25 requests/s. A run lasts about 3 s,
  /// so a kill lands mid-run, and each chunk commits on its own. Starts the simulator.
  void StartInterruptiblePlan();
  /// Puts the fault proxy in front of the simulator; runs then go through it.
  void StartProxy(uint64_t seed = 5);
  void UsePostgres();
  /// An empty database of the same kind as now.
  void UseFreshDatabase();
  bool postgres() const { return pg_ != nullptr; }

  std::string BaseUrl() const { return proxy_ ? proxy_->BaseUrl() : sim_->BaseUrl(); }
  engine::Plan TestPlan() const;
  std::vector<std::string> BackfillArgs() const;
  ChildEnv Env(const std::map<std::string, std::string>& extra = {}) const;
  CommandResult Run(const std::map<std::string, std::string>& extra_env = {});
  std::unique_ptr<BackgroundCommand> Start(const std::map<std::string, std::string>& extra_env = {});

  /// Resumes (runs again) until a run exits 0, at most `max_runs` times; every exit code on the
  /// way must be one of `allowed`. Returns the last run.
  CommandResult RunUntilDone(int max_runs, const std::vector<int>& allowed);

  /// The database equals the ground truth bar for bar, and the ledger agrees with the bars.
  void ExpectComplete();
  /// Problems with atomicity: a bar outside every done chunk, or a done chunk whose bars differ
  /// from the ground truth or from its ledger row count. Empty = consistent. Holds after any
  /// crash, not only at the end.
  std::vector<std::string> LedgerProblems();
  std::vector<LedgerEntry> DoneChunks();
  int64_t StoredBars();
  int64_t TruthBars() const;
  /// The report of a run that finished everything: its counts agree with the database
  /// (`bars_before` = bars stored before the run) and with the simulator's counters.
  void ExpectReportAgrees(const ReportJson& report, int64_t bars_before, bool every_request_reached_the_server = true);
  /// Data requests of the simulator's log since its last reset: (path, query).
  std::vector<std::pair<std::string, std::string>> SimRequests() const;
  /// A data request whose range starts inside one of `done` (a done chunk fetched again).
  std::optional<std::string> RequestIntoDoneChunk(const std::vector<LedgerEntry>& done) const;
  /// A text that changes whenever anything in the database changes.
  std::string DatabaseSnapshot();
  /// Runs SQL on the database directly (to break it on purpose).
  void ExecSql(const std::string& sql);
  /// "SQLite database PATH" or "PostgreSQL database "x" at host:port", as barfill names it.
  std::string DescribeDatabase();

  std::unique_ptr<BarStore> OpenForReading();
  std::string SqlitePath() const { return sqlite_->Path(); }

  TempDir dir_;
  std::unique_ptr<SqliteEnv> sqlite_ = std::make_unique<SqliteEnv>();
  std::unique_ptr<PostgresEnv> pg_;
  std::string db_url_ = sqlite_->Url();
  std::string report_path_ = dir_.File("report.json");
  std::string tickers_ = "AAPL,X:BTCUSD";
  std::string timeframes_ = "1h,1d";
  std::string from_ = "2025-03-01";
  std::string to_ = "2025-04-30";
  std::string rate_ = "1000/s";
  int concurrency_ = 4;
  std::vector<std::string> extra_args_;
  std::unique_ptr<sim::SimServer> sim_;
  std::unique_ptr<FaultProxy> proxy_;
};

}  // namespace barfill::testing
