// Process faults (docs/fault-model.md §7 P1-P4, P6) for both stores: kill -9 while fetching, inside the
// write transaction (half the bars sent, or all of them but not committed), right after a commit,
// and SIGTERM. After each crash the database is consistent (no partial chunk: every bar lies in a
// done chunk whose bars equal the ground truth); a resume finishes the plan without fetching a
// done chunk again; one more run changes nothing.
#include <signal.h>

#include <chrono>
#include <thread>

#include "chaos/chaos_harness.h"
#include "testing/http_get.h"

namespace barfill::testing {
namespace {

using namespace std::chrono_literals;

class CrashChaos : public ChaosTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgresql") {
      BARFILL_REQUIRE_DATABASE(PostgresEnv);
      UsePostgres();
    }
    StartInterruptiblePlan();
  }

  /// After a crash: nothing partial, and the resume (against a fresh request log) finishes
  /// without asking for any chunk that was already done.
  void ExpectConsistentThenResume(int expected_complete = -1) {
    const auto problems = LedgerProblems();
    ASSERT_TRUE(problems.empty()) << problems.front();
    const std::vector<LedgerEntry> done_before = DoneChunks();
    const int64_t bars_before = StoredBars();
    HttpGetText(sim_->BaseUrl() + "/__reset");
    rate_ = "1000/s";
    const CommandResult resumed = Run();
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    ExpectComplete();
    const ReportJson report = ReadReportJson(report_path_);
    ExpectReportAgrees(report, bars_before);
    if (expected_complete >= 0) {
      EXPECT_EQ(report.series_up_to_date, expected_complete);
    }
    const auto refetched = RequestIntoDoneChunk(done_before);
    EXPECT_FALSE(refetched.has_value()) << "a committed page was fetched again: " << *refetched;
    ExpectAnotherRunChangesNothing();
  }

  /// P6: recovery is idempotent: one more run asks the API nothing and leaves the data as is.
  void ExpectAnotherRunChangesNothing() {
    const std::string before = DatabaseSnapshot();
    HttpGetText(sim_->BaseUrl() + "/__reset");
    const CommandResult again = Run();
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(sim_->Stats().data_requests, 0);
    const ReportJson report = ReadReportJson(report_path_);
    EXPECT_EQ(report.records, 0);
    EXPECT_EQ(report.ranges_total, 0);
    EXPECT_EQ(report.series_up_to_date, static_cast<int64_t>(TestPlan().SeriesCount()));
    EXPECT_TRUE(DatabaseSnapshot() == before) << "a run with nothing to do changed the database";
  }
};

// P1: kill -9 twice while pages are being fetched, then resume.
TEST_P(CrashChaos, Kill9WhilePagesAreComing) {
  for (const int64_t after_requests : {12, 40}) {
    auto run = Start();
    ASSERT_TRUE(WaitUntil([&] { return sim_->Stats().data_requests >= after_requests || ProcessExited(run->pid()); }, 20s));
    run->Kill(SIGKILL);
    const CommandResult killed = run->Wait();
    ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << "finished before the kill:\n" << killed.err;
    EXPECT_FALSE(ReadReportJson(report_path_).parsed);
    const auto problems = LedgerProblems();
    ASSERT_TRUE(problems.empty()) << problems.front();
  }
  EXPECT_FALSE(DoneChunks().empty()) << "the second kill came after some commits";
  ExpectConsistentThenResume();
}

// P2: kill -9 inside the second write transaction, with half its bars sent (SQLite INSERTs,
// PostgreSQL COPY) or with everything written but COMMIT not sent. One writer, so that "the
// second transaction" starts only after the first committed.
TEST_P(CrashChaos, Kill9InsideTheWriteTransaction) {
  extra_args_ = {"--writers", "1"};
  for (const char* step : {"bars_half_written:2", "before_commit:2"}) {
    SCOPED_TRACE(step);
    UseFreshDatabase();
    HttpGetText(sim_->BaseUrl() + "/__reset");
    rate_ = "25/s";
    const CommandResult crashed = Run({{"BARFILL_CRASH_AT", step}});
    ASSERT_EQ(crashed.exit_code, 128 + SIGKILL) << crashed.err;
    EXPECT_FALSE(DoneChunks().empty()) << "the first transaction committed";
    EXPECT_LT(StoredBars(), TruthBars()) << "the second did not";
    ExpectConsistentThenResume();
  }
}

// P3: kill -9 right after the second commit: its pages are durable and never fetched again.
TEST_P(CrashChaos, Kill9JustAfterACommit) {
  const CommandResult crashed = Run({{"BARFILL_CRASH_AFTER_COMMITS", "2"}});
  ASSERT_EQ(crashed.exit_code, 128 + SIGKILL) << crashed.err;
  EXPECT_FALSE(DoneChunks().empty()) << "both commits are durable";
  EXPECT_GT(StoredBars(), 0);
  ExpectConsistentThenResume();
}

// P4: SIGTERM stops the run promptly with exit 130 and a report; the next run resumes.
TEST_P(CrashChaos, SigtermStopsCleanlyAndResumes) {
  auto run = Start();
  ASSERT_TRUE(WaitUntil([&] { return sim_->Stats().data_requests >= 15; }, 20s));
  run->Kill(SIGTERM);
  auto [stopped, in_time] = WaitAtMost(*run, 10s);
  ASSERT_TRUE(in_time) << "SIGTERM did not stop the run within 10 s";
  ASSERT_EQ(stopped.exit_code, 130) << stopped.err;
  EXPECT_NE(stopped.err.find("error: interrupted"), std::string::npos) << stopped.err;
  const ReportJson report = ReadReportJson(report_path_);
  ASSERT_TRUE(report.parsed) << "an interrupted run still writes its report";
  EXPECT_EQ(report.exit_code, 130);
  EXPECT_GT(report.ranges_pending, 0);
  EXPECT_EQ(report.records, StoredBars()) << "the report counts what was committed";
  ExpectConsistentThenResume();
}

// D5: two runs of the same plan at once on the same database. PostgreSQL: both finish, and every
// bar is there exactly once. SQLite allows one writer: a run may instead be refused with exit 4
// and a message saying so (it then resumes later), but nothing may be lost or doubled.
TEST_P(CrashChaos, TwoRunsOfThePlanAtOnce) {
  rate_ = "50/s";
  auto first = Start();
  const std::string first_report = report_path_;
  report_path_ = dir_.File("second.json");
  auto second = Start();
  auto [a, a_in_time] = WaitAtMost(*first, 60s);
  auto [b, b_in_time] = WaitAtMost(*second, 60s);
  ASSERT_TRUE(a_in_time && b_in_time);
  for (const CommandResult* r : {&a, &b}) {
    const bool refused_sqlite_writer =
        !postgres() && r->exit_code == 4 && r->err.find("(only one barfill may write a SQLite file at a time)") != std::string::npos;
    EXPECT_TRUE(r->exit_code == 0 || refused_sqlite_writer) << r->err;
  }
  if (a.exit_code == 0 && b.exit_code == 0) {
    EXPECT_GE(ReadReportJson(first_report).records + ReadReportJson(report_path_).records, TruthBars())
        << "together they stored everything (some chunks twice)";
  } else {
    RunUntilDone(1, {});
  }
  ExpectComplete();
  ExpectAnotherRunChangesNothing();
}

INSTANTIATE_TEST_SUITE_P(Stores, CrashChaos, ::testing::ValuesIn(kStoreKinds), StoreKindName);

}  // namespace
}  // namespace barfill::testing
