// Workers end to end, as users run them: `barfill enqueue` then several `barfill worker`
// processes against the simulator on loopback and a real PostgreSQL (scripts/with-postgres.sh).
// The database must equal the simulator's ground truth bar for bar, no page may be asked for
// twice, a worker paused past its lease must have its late commit refused, a worker killed with
// -9 must have its items finished by another, and the fleet must keep one shared rate.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "engine/plan.h"
#include "sim/sim_server.h"
#include "store/bar_store.h"
#include "store/store_env.h"
#include "store/work_queue.h"
#include "testing/ground_truth_check.h"
#include "testing/http_get.h"
#include "testing/sim_requests.h"
#include "testing/subprocess.h"

namespace barfill::engine {
namespace {

using testing::BackgroundCommand;
using testing::CommandResult;
using testing::PostgresEnv;

constexpr uint64_t kSeed = 7;
constexpr const char* kKey = "worker-key";

class WorkersEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    BARFILL_REQUIRE_DATABASE(PostgresEnv);
    env_ = std::make_unique<PostgresEnv>();
  }

  /// `max_page_limit` below 50,000 makes ranges span several pages (more commits per item).
  void StartSim(int64_t max_page_limit, int rate_limit_per_min = 0) {
    sim::SimOptions options;
    options.seed = kSeed;
    options.api_key = kKey;
    options.max_page_limit = max_page_limit;
    options.rate_limit_per_min = rate_limit_per_min;
    auto server = sim::SimServer::Start(options);
    ASSERT_TRUE(server) << server.error().message;
    sim_ = std::move(*server);
  }

  Plan TestPlan() const {
    return *ParsePlan(PlanText{"", SplitList(tickers_), SplitList(timeframes_), from_, to_}, TodayUtc());
  }

  std::vector<std::string> PlanArgs(const std::string& command) const {
    return {testing::BarfillExe(), command, "--tickers", tickers_, "--timeframes", timeframes_, "--from", from_,
            "--to", to_, "--db", DbUrl()};
  }

  std::vector<std::string> WorkerArgs(const std::string& rate, const std::string& lease = "30",
                                      bool exit_when_empty = true) const {
    std::vector<std::string> args = {testing::BarfillExe(), "worker", "--db", DbUrl(), "--base-url",
                                     sim_->BaseUrl(), "--rate", rate, "--concurrency", "2", "--lease", lease};
    if (exit_when_empty) args.push_back("--exit-when-empty");
    return args;
  }

  testing::ChildEnv Env() const { return {{{"POLYGON_API_KEY", kKey}}, {"BARFILL_DB", "MASSIVE_API_KEY"}}; }

  void Enqueue() {
    const CommandResult enqueued = testing::RunCommand(PlanArgs("enqueue"), Env());
    ASSERT_EQ(enqueued.exit_code, 0) << enqueued.err;
  }

  void ExpectDatabaseEqualsGroundTruth() {
    auto store = OpenStore(DbUrl());
    ASSERT_TRUE(store) << store.error().message;
    const auto diffs = testing::DiffStoreWithGroundTruth(**store, sim::Market{kSeed}, TestPlan());
    EXPECT_TRUE(diffs.empty()) << testing::Describe(diffs);
  }

  /// No range start asked twice of one series: no page was fetched again.
  void ExpectNoPageAskedTwice(size_t allowed_repeats = 0) {
    std::map<std::string, int> asked;
    size_t repeats = 0;
    for (const auto& [path, query] : testing::SimRequests(sim_->BaseUrl())) {
      if (++asked[path] > 1) ++repeats;
    }
    EXPECT_LE(repeats, allowed_repeats) << "pages asked for again beyond those in flight";
    EXPECT_FALSE(asked.empty());
  }

  store::QueueStatus QueueStatusNow() {
    auto queue = store::WorkQueue::Open(DbUrl(), "test");
    EXPECT_TRUE(queue) << queue.error().message;
    auto status = (*queue)->ReadStatus();
    EXPECT_TRUE(status) << status.error().message;
    return *status;
  }

  /// The tests that stop or restart PostgreSQL run on a cluster of their own: the plan is
  /// enqueued there, against a simulator that pages every 2,000 bars.
  void EnqueueOnPrivateCluster(const testing::PrivateCluster& cluster) {
    ASSERT_TRUE(cluster.error().empty()) << cluster.error();
    db_url_ = cluster.Conninfo();
    StartSim(2000);
    Enqueue();
  }

  void ExpectEveryItemDoneAndTheGroundTruth() {
    const store::QueueStatus status = QueueStatusNow();
    EXPECT_GT(status.total(), 0);
    EXPECT_EQ(status.done, status.total());
    ExpectDatabaseEqualsGroundTruth();
  }

  /// Waits until the worker with `pid` has committed at least one page of its current item.
  bool WaitForProgress(pid_t pid, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      for (const store::WorkerRow& w : QueueStatusNow().workers) {
        if (w.pid == pid && w.rows > 0) return true;
      }
      auto store = OpenStore(DbUrl());
      if (store) {
        auto status = (*store)->ReadStatus();
        if (status) {
          for (const SeriesStatus& s : *status) {
            if (s.rows > 0) return true;
          }
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  void ExpectTakeoverAndRefusal(BackgroundCommand& paused, CommandResult* survivor_result = nullptr);

  /// Waits until the process `pid` is stopped (SIGSTOP): its state in /proc is 'T'.
  static bool WaitUntilStopped(pid_t pid, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string stat = testing::ReadFileBytes("/proc/" + std::to_string(pid) + "/stat");
      const size_t end_of_name = stat.rfind(')');
      if (end_of_name != std::string::npos && end_of_name + 2 < stat.size() && stat[end_of_name + 2] == 'T') return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  /// The test's database: a fresh one on the shared cluster, or a private cluster's.
  std::string DbUrl() const { return db_url_.empty() ? env_->Url() : db_url_; }

  std::unique_ptr<PostgresEnv> env_;
  std::string db_url_;
  std::unique_ptr<sim::SimServer> sim_;
  std::string tickers_ = "AAPL,BRK.B,X:BTCUSD,X:ETHUSD";
  std::string timeframes_ = "1m,1h,1d";
  std::string from_ = "2025-02-20";
  std::string to_ = "2025-04-10";  // across the 2025-03-09 DST change
};

TEST_F(WorkersEndToEnd, ThreeWorkersStoreEveryBarOnceAndEnqueueingTwiceAddsNothing) {
  StartSim(5000);
  Enqueue();
  const CommandResult again = testing::RunCommand(PlanArgs("enqueue"), Env());
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, ::testing::HasSubstr(" 0 new items"));
  const int64_t items = QueueStatusNow().pending;
  EXPECT_GE(items, 12);

  std::vector<std::unique_ptr<BackgroundCommand>> workers;
  for (int i = 0; i < 3; ++i) workers.push_back(std::make_unique<BackgroundCommand>(WorkerArgs("200/s"), Env()));
  int64_t done_by_all = 0;
  for (auto& w : workers) {
    const CommandResult r = w->Wait();
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.err, ::testing::Not(::testing::HasSubstr(kKey))) << "the API key is never printed";
  }
  const store::QueueStatus status = QueueStatusNow();
  EXPECT_EQ(status.done, items);
  EXPECT_EQ(status.pending + status.leased + status.failed, 0);
  for (const store::WorkerRow& w : status.workers) {
    EXPECT_EQ(w.state, "stopped");
    done_by_all += w.items_done;
  }
  EXPECT_EQ(done_by_all, items) << "each item done by exactly one worker";
  ExpectDatabaseEqualsGroundTruth();
  ExpectNoPageAskedTwice();

  // Everything is done: a third enqueue adds nothing, and a worker finds nothing to do.
  const CommandResult third = testing::RunCommand(PlanArgs("enqueue"), Env());
  EXPECT_THAT(third.out, ::testing::HasSubstr(" 0 new items"));
  const CommandResult idle = testing::RunCommand(WorkerArgs("200/s"), Env());
  EXPECT_EQ(idle.exit_code, 0) << idle.err;
  EXPECT_THAT(idle.err, ::testing::HasSubstr("0 items done"));
}

TEST_F(WorkersEndToEnd, AWorkerPausedPastItsLeaseCannotCommitAfterAnotherTookOver) {
  // One slow worker (5 requests/s, pages of 2,000 minutes): an item takes seconds. The pause
  // lands wherever the worker is: fetching, between two statements of a commit, or in the
  // middle of a COPY (the last one is pinned down by the test below).
  tickers_ = "AAPL";
  timeframes_ = "1m";
  StartSim(2000);
  Enqueue();
  BackgroundCommand paused(WorkerArgs("5/s", "2"), Env());
  ASSERT_TRUE(WaitForProgress(paused.pid(), std::chrono::seconds(20))) << "the first worker never committed";
  kill(paused.pid(), SIGSTOP);
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));  // past its 2 s lease
  ExpectTakeoverAndRefusal(paused);
}

TEST_F(WorkersEndToEnd, AWorkerPausedInTheMiddleOfACopyHasItsSessionEndedAndItsCommitRefused) {
  // The pause lands inside a fenced commit, with half of a page's rows sent by COPY. The server
  // applies neither statement_timeout nor idle_in_transaction_session_timeout to a session that
  // waits for its client's COPY data, so that session keeps the item locked (claims skip it)
  // until the second worker finds the item expired yet locked and ends the session. Before that,
  // the second worker waited for the item for as long as the pause lasted: the test hung.
  tickers_ = "AAPL";
  timeframes_ = "1m";
  StartSim(2000);
  Enqueue();
  testing::ChildEnv env = Env();
  env.set["BARFILL_STOP_AT"] = "bars_half_written:2";  // the worker stops itself in its 2nd COPY
  BackgroundCommand paused(WorkerArgs("5/s", "2"), env);
  ASSERT_TRUE(WaitUntilStopped(paused.pid(), std::chrono::seconds(30))) << "the first worker never stopped";
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));  // past its 2 s lease
  CommandResult survivor;
  ExpectTakeoverAndRefusal(paused, &survivor);
  EXPECT_THAT(survivor.err, ::testing::HasSubstr("ended the database session"));
}

/// With `paused` stopped past its lease: a second worker finishes everything (ending the paused
/// worker's session if it stalled inside a commit), then the paused one, resumed, is refused.
void WorkersEndToEnd::ExpectTakeoverAndRefusal(BackgroundCommand& paused, CommandResult* survivor_result) {
  const CommandResult survivor = testing::RunCommand(WorkerArgs("50/s", "30"), Env(), std::chrono::seconds(60));
  if (survivor_result != nullptr) *survivor_result = survivor;
  kill(paused.pid(), SIGCONT);
  ASSERT_FALSE(survivor.timed_out) << "the second worker could not take the item over:\n" << survivor.err;
  ASSERT_EQ(survivor.exit_code, 0) << survivor.err;
  EXPECT_THAT(survivor.err, ::testing::HasSubstr("reclaimed after its lease expired"));
  const CommandResult late = paused.Wait(std::chrono::seconds(30));
  ASSERT_FALSE(late.timed_out) << "the resumed worker did not exit:\n" << late.err;
  EXPECT_EQ(late.exit_code, 0) << late.err;
  EXPECT_THAT(late.err, ::testing::HasSubstr("lease lost"));
  const store::QueueStatus status = QueueStatusNow();
  int64_t losses = 0;
  for (const store::WorkerRow& w : status.workers) {
    if (w.pid == paused.pid()) {
      losses = w.lease_losses;
      EXPECT_EQ(w.items_done, 0) << "its late finish was refused too";
    }
  }
  EXPECT_EQ(losses, 1) << "the takeover is counted";
  EXPECT_EQ(status.done, status.total());
  ExpectDatabaseEqualsGroundTruth();
  // The survivor asked only for what the paused worker had not committed; the paused worker's
  // page in flight when it stopped may be asked for again (once).
  ExpectNoPageAskedTwice(1);
}

TEST_F(WorkersEndToEnd, Kill9OfTwoWorkersReclaimsTheirItemsAfterTheLeaseAndANewWorkerFinishesThem) {
  StartSim(5000);
  Enqueue();
  BackgroundCommand first(WorkerArgs("20/s", "2"), Env());
  BackgroundCommand second(WorkerArgs("20/s", "2"), Env());
  for (BackgroundCommand* killed : {&first, &second}) {
    ASSERT_TRUE(WaitForProgress(killed->pid(), std::chrono::seconds(20)));
    killed->Kill(SIGKILL);
    EXPECT_EQ(killed->Wait().exit_code, 128 + SIGKILL);
  }
  const store::QueueStatus before = QueueStatusNow();
  EXPECT_GT(before.leased, 0) << "the killed worker held items";
  const CommandResult survivor = testing::RunCommand(WorkerArgs("200/s", "30"), Env());
  ASSERT_EQ(survivor.exit_code, 0) << survivor.err;
  EXPECT_THAT(survivor.err, ::testing::HasSubstr("reclaimed after its lease expired"));
  const store::QueueStatus after = QueueStatusNow();
  EXPECT_EQ(after.done, after.total());
  ExpectDatabaseEqualsGroundTruth();
  ExpectNoPageAskedTwice(4);  // the killed workers' two fetchers each: pages in flight
}

TEST_F(WorkersEndToEnd, SigtermDrainsReleasesItsItemsAndExitsZero) {
  StartSim(2000);
  Enqueue();
  BackgroundCommand worker(WorkerArgs("10/s", "30", /*exit_when_empty=*/false), Env());
  ASSERT_TRUE(WaitForProgress(worker.pid(), std::chrono::seconds(20)));
  worker.Kill(SIGTERM);
  const CommandResult drained = worker.Wait();
  EXPECT_EQ(drained.exit_code, 0) << drained.err;
  EXPECT_THAT(drained.err, ::testing::HasSubstr("released"));
  const store::QueueStatus status = QueueStatusNow();
  EXPECT_EQ(status.leased, 0) << "nothing stays leased to a drained worker";
  EXPECT_GT(status.pending, 0);
  // Another worker picks the released items up at once (no lease to wait for).
  const auto start = std::chrono::steady_clock::now();
  const CommandResult rest = testing::RunCommand(WorkerArgs("200/s"), Env());
  ASSERT_EQ(rest.exit_code, 0) << rest.err;
  EXPECT_THAT(rest.err, ::testing::Not(::testing::HasSubstr("reclaimed")));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(25));
  ExpectDatabaseEqualsGroundTruth();
}

TEST_F(WorkersEndToEnd, FourWorkersTogetherStayWithinTheSharedRate) {
  // The simulator allows 20 requests/s per key over a 60 s window; four workers each given
  // --rate 20/s would send 80/s alone, together they must keep 20/s.
  StartSim(2000, 1200);
  Enqueue();
  std::atomic<bool> done{false};
  std::deque<std::pair<std::chrono::steady_clock::time_point, int64_t>> samples;
  std::thread sampler([&] {
    while (!done.load()) {
      samples.emplace_back(std::chrono::steady_clock::now(), sim_->Stats().data_requests);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  std::vector<std::unique_ptr<BackgroundCommand>> workers;
  for (int i = 0; i < 4; ++i) workers.push_back(std::make_unique<BackgroundCommand>(WorkerArgs("20/s"), Env()));
  for (auto& w : workers) {
    const CommandResult r = w->Wait();
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  done.store(true);
  sampler.join();
  const sim::SimStats stats = sim_->Stats();
  EXPECT_EQ(stats.rate_limited, 0) << "the simulator rejected nothing";
  EXPECT_GE(stats.data_requests, 60) << "enough requests to measure a rate";
  // Requests in any 2 s window: at most 2 s of the rate plus the burst.
  int64_t most = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    for (size_t j = i; j < samples.size() && samples[j].first - samples[i].first <= std::chrono::seconds(2); ++j) {
      most = std::max(most, samples[j].second - samples[i].second);
    }
  }
  EXPECT_LE(most, 2 * 20 + 4) << "the fleet kept 20/s";
  const double seconds = std::chrono::duration<double>(samples.back().first - samples.front().first).count();
  EXPECT_GE(seconds, (static_cast<double>(stats.data_requests) - 4) / 20.0 * 0.95) << "not faster than the rate";
  ExpectDatabaseEqualsGroundTruth();
}

// PostgreSQL restarts (pg_ctl restart -m fast, a private cluster) while four workers run: every
// worker reconnects (the queue, the heartbeat, the shared rate limit and its fetchers' sessions)
// and the plan finishes, each bar once.
TEST_F(WorkersEndToEnd, AServerRestartUnderFourWorkersLosesNothing) {
  testing::PrivateCluster cluster;
  ASSERT_NO_FATAL_FAILURE(EnqueueOnPrivateCluster(cluster));
  std::vector<std::unique_ptr<BackgroundCommand>> workers;
  for (int i = 0; i < 4; ++i) workers.push_back(std::make_unique<BackgroundCommand>(WorkerArgs("60/s"), Env()));
  ASSERT_TRUE(WaitForProgress(workers.front()->pid(), std::chrono::seconds(20)));
  const CommandResult restarted = cluster.Restart();
  ASSERT_EQ(restarted.exit_code, 0) << restarted.err << restarted.out;
  for (auto& w : workers) {
    const CommandResult r = w->Wait();
    EXPECT_EQ(r.exit_code, 0) << "a worker reconnects after a restart:\n" << r.err;
  }
  ExpectEveryItemDoneAndTheGroundTruth();
}

// A worker started while its server is down (a fleet restarted together, a failover) waits for
// the server and then does its work; with --wait-for-db 0 it gives up at once, exit 4.
TEST_F(WorkersEndToEnd, AWorkerStartedWhileTheServerIsDownWaitsForIt) {
  testing::PrivateCluster cluster;
  ASSERT_NO_FATAL_FAILURE(EnqueueOnPrivateCluster(cluster));
  const CommandResult stopped = cluster.Stop();
  ASSERT_EQ(stopped.exit_code, 0) << stopped.err << stopped.out;

  std::vector<std::string> at_once = WorkerArgs("60/s");
  at_once.insert(at_once.end(), {"--wait-for-db", "0"});
  const CommandResult gave_up = testing::RunCommand(at_once, Env());
  EXPECT_EQ(gave_up.exit_code, 4);
  EXPECT_THAT(gave_up.err, ::testing::StartsWith("error: cannot connect to PostgreSQL database"));

  BackgroundCommand waiting(WorkerArgs("60/s"), Env());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const CommandResult started = cluster.Start();
  ASSERT_EQ(started.exit_code, 0) << started.err << started.out;
  const CommandResult r = waiting.Wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, ::testing::HasSubstr("PostgreSQL is not available yet (cannot connect to PostgreSQL database"));
  ExpectEveryItemDoneAndTheGroundTruth();
}

// --metrics-port: a long-running worker (no --exit-when-empty) serves Prometheus metrics that
// agree with the database; SIGTERM with nothing in hand exits 0.
TEST_F(WorkersEndToEnd, MetricsAgreeWithTheDatabase) {
  tickers_ = "AAPL,X:BTCUSD";
  StartSim(50000);
  Enqueue();
  const int64_t items = QueueStatusNow().pending;
  const std::string port = std::to_string(30000 + ::getpid() % 20000);
  std::vector<std::string> args = WorkerArgs("200/s", "30", /*exit_when_empty=*/false);
  args.insert(args.end(), {"--metrics-port", port});
  BackgroundCommand worker(args, Env());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::string metrics;
  const auto value = [&](const std::string& name) -> int64_t {
    const size_t at = metrics.find("\n" + name + " ");
    return at == std::string::npos ? -1 : static_cast<int64_t>(std::stod(metrics.substr(at + name.size() + 2)));
  };
  while (std::chrono::steady_clock::now() < deadline) {
    metrics = "\n" + testing::HttpGetText("http://127.0.0.1:" + port + "/metrics");
    if (value("barfill_items_done_total") == items && value("barfill_queue_pending") == 0 &&
        value("barfill_queue_leased") == 0 && value("barfill_rate_enforced_per_second") > 0) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(value("barfill_items_done_total"), items) << metrics;
  EXPECT_EQ(value("barfill_rows_written_total"), testing::GroundTruthBars(kSeed, TestPlan())) << metrics;
  EXPECT_EQ(value("barfill_requests_total"), sim_->Stats().data_requests) << metrics;
  EXPECT_EQ(value("barfill_lease_losses_total"), 0);
  EXPECT_GT(value("barfill_rate_enforced_per_second"), 150) << "the shared 200/s, less the safety margin";
  worker.Kill(SIGTERM);
  const CommandResult stopped = worker.Wait();
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  ExpectDatabaseEqualsGroundTruth();
}

TEST_F(WorkersEndToEnd, SqliteIsRefusedWithOneLineAndExit2) {
  StartSim(50000);
  testing::TempDir dir;
  const std::string sqlite = "sqlite:" + dir.File("bars.db");
  const CommandResult worker = testing::RunCommand(
      {testing::BarfillExe(), "worker", "--db", sqlite, "--base-url", sim_->BaseUrl()}, Env());
  EXPECT_EQ(worker.exit_code, 2);
  EXPECT_EQ(worker.err,
            "error: barfill worker needs PostgreSQL: the work queue, the leases and the shared rate limit live there; "
            "give --db postgresql://... (SQLite serves one process: use barfill backfill)\n");
  std::vector<std::string> enqueue = PlanArgs("enqueue");
  enqueue.back() = sqlite;
  const CommandResult enqueued = testing::RunCommand(enqueue, Env());
  EXPECT_EQ(enqueued.exit_code, 2);
  EXPECT_THAT(enqueued.err, ::testing::StartsWith("error: barfill enqueue needs PostgreSQL"));
  EXPECT_FALSE(std::filesystem::exists(dir.File("bars.db"))) << "nothing created";
  std::vector<std::string> all = PlanArgs("enqueue");
  all[3] = "all";
  const CommandResult all_tickers = testing::RunCommand(all, Env());
  EXPECT_EQ(all_tickers.exit_code, 2);
  EXPECT_THAT(all_tickers.err, ::testing::StartsWith("error: --tickers all takes the flat files' tickers"));
  const CommandResult bad_lease = testing::RunCommand(
      {testing::BarfillExe(), "worker", "--db", DbUrl(), "--lease", "0"}, Env());
  EXPECT_EQ(bad_lease.exit_code, 2);
  EXPECT_THAT(bad_lease.err, ::testing::StartsWith("error: --lease must be 1 to 3600 seconds"));
  // A PostgreSQL database nobody enqueued into has no queue yet: said in one line, exit 4.
  const CommandResult no_queue = testing::RunCommand(
      {testing::BarfillExe(), "worker", "--db", DbUrl(), "--base-url", sim_->BaseUrl()}, Env());
  EXPECT_EQ(no_queue.exit_code, 4);
  EXPECT_THAT(no_queue.err, ::testing::HasSubstr("no barfill tables here yet"));
}

}  // namespace
}  // namespace barfill::engine
