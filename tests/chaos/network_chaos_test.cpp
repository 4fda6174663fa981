// Network faults (docs/fault-model.md §7 N1-N18) end to end: `barfill backfill` against the simulator's
// HTTP faults, or through the fault proxy for the TCP ones, into a SQLite file. Every scenario
// ends with the database equal to the ground truth bar for bar and a report that agrees with it
// and with the simulator's (and proxy's) counters.
#include <signal.h>

#include <chrono>
#include <thread>

#include "chaos/chaos_harness.h"
#include "testing/ground_truth_check.h"
#include "testing/http_get.h"

namespace barfill::testing {
namespace {

using namespace std::chrono_literals;

class NetworkChaos : public ChaosTest {
 protected:
  /// Small pages: about 80 requests for the default plan, so that a fault rate of about 0.15
  /// hits a dozen of them, later pages of next_url chains included. A higher rate would make a
  /// page fail all its 6 attempts now and then (0.3^6 x 80 pages = 6% of runs), which is right
  /// (the chunk fails, a re-run resumes it) but not what these scenarios are about.
  static sim::SimOptions SmallPages(int64_t limit = 2000) {
    sim::SimOptions options;
    options.max_page_limit = limit;
    options.fault_seed = 17;
    return options;
  }

  /// Runs once; the run must finish everything in one go despite the faults.
  ReportJson RunOnceExpectingDone() {
    const CommandResult run = Run();
    EXPECT_EQ(run.exit_code, 0) << run.err << run.out;
    EXPECT_EQ(run.err.find(kChaosKey), std::string::npos) << "the API key never appears in output";
    ExpectComplete();
    return ReadReportJson(report_path_);
  }
};

// N1 + N3: 429s, half of them with Retry-After: 1, and 502/503/504 with HTML or empty bodies.
TEST_F(NetworkChaos, Http429AndServerErrorsAreWaitedOut) {
  sim::SimOptions options = SmallPages();
  options.faults.http429 = 0.08;
  options.faults.http5xx = 0.08;
  StartSim(options);
  const ReportJson report = RunOnceExpectingDone();
  ExpectReportAgrees(report, 0);
  const sim::SimStats stats = sim_->Stats();
  EXPECT_GT(stats.http429, 0);
  EXPECT_GT(stats.http5xx, 0);
  EXPECT_EQ(report.retried, stats.http429 + stats.http5xx) << "each fault cost exactly one retry";
}

// N2: a server limit below the client's configured rate, for the whole run. The limiter must
// adapt (AIMD) so that 429s become rare after the first seconds, and nothing is lost.
TEST_F(NetworkChaos, SustainedRateLimitIsLearned) {
  sim::SimOptions options = SmallPages(1500);
  options.rate_limit_per_min = 1200;  // 20 per second...
  options.rate_limit_window_ms = 1000;  // ...in any 1 s window
  StartSim(options);
  rate_ = "60/s";
  auto run = Start();
  // 429s seen by the simulator, sampled every 100 ms.
  std::vector<int64_t> samples;
  while (!ProcessExited(run->pid())) {
    samples.push_back(sim_->Stats().rate_limited);
    std::this_thread::sleep_for(100ms);
  }
  const CommandResult done = run->Wait();
  ASSERT_EQ(done.exit_code, 0) << done.err;
  ExpectComplete();
  const ReportJson report = ReadReportJson(report_path_);
  ExpectReportAgrees(report, 0);
  const sim::SimStats stats = sim_->Stats();
  EXPECT_GT(stats.rate_limited, 0) << "the client started above the server's limit";
  EXPECT_LE(stats.rate_limited * 5, stats.data_requests) << "429s stay a small share of the requests";
  ASSERT_GE(samples.size(), 4u);
  const int64_t first_half = samples[samples.size() / 2];
  const int64_t second_half = samples.back() - first_half;
  EXPECT_LE(second_half, first_half) << "the 429s fall once the limiter has learned the rate; samples: "
                                     << ::testing::PrintToString(samples);
}

// N6 + N7 from the server: headers and half a body, then an RST; or a short body, then a FIN.
TEST_F(NetworkChaos, ServerResetsAndTruncatedBodies) {
  sim::SimOptions options = SmallPages();
  options.faults.reset = 0.07;
  options.faults.truncate = 0.07;
  StartSim(options);
  const ReportJson report = RunOnceExpectingDone();
  ExpectReportAgrees(report, 0);
  const sim::SimStats stats = sim_->Stats();
  EXPECT_GT(stats.reset, 0);
  EXPECT_GT(stats.truncate, 0);
  EXPECT_EQ(report.transport_errors, stats.reset + stats.truncate) << "each broken body is one transport error";
}

// N6 + N7 at the TCP level: reset_peer after 700 bytes, limit_data after 900 bytes.
TEST_F(NetworkChaos, ProxyResetPeerAndLimitData) {
  StartSim(SmallPages());
  StartProxy();
  Toxics toxics;
  toxics.downstream.reset_after_bytes = 700;
  toxics.downstream.reset_probability = 0.07;
  toxics.downstream.limit_bytes = 900;
  toxics.downstream.limit_probability = 0.07;
  proxy_->SetToxics(toxics);
  const ReportJson report = RunOnceExpectingDone();
  ExpectReportAgrees(report, 0);
  const ProxyStats stats = proxy_->Stats();
  EXPECT_GT(stats.resets, 0);
  EXPECT_GT(stats.limits, 0);
  EXPECT_EQ(report.transport_errors, stats.resets + stats.limits);
}

// N16: a 200 whose JSON stops in the middle.
TEST_F(NetworkChaos, InvalidJsonBodies) {
  sim::SimOptions options = SmallPages();
  options.faults.badjson = 0.15;
  StartSim(options);
  const ReportJson report = RunOnceExpectingDone();
  ExpectReportAgrees(report, 0);
  EXPECT_GT(sim_->Stats().badjson, 0);
  EXPECT_EQ(report.bad_responses, sim_->Stats().badjson);
}

// N16: resultsCount that disagrees with the results array (the proxy changes one digit, so the
// body keeps its length and stays valid JSON).
TEST_F(NetworkChaos, ResultCountMismatch) {
  StartSim(SmallPages());
  StartProxy();
  Toxics toxics;
  toxics.downstream.corrupt_marker = "\"resultsCount\":";
  toxics.downstream.corrupt_probability = 0.15;
  proxy_->SetToxics(toxics);
  const ReportJson report = RunOnceExpectingDone();
  ExpectReportAgrees(report, 0);
  EXPECT_GT(proxy_->Stats().corruptions, 0);
  EXPECT_EQ(report.bad_responses, proxy_->Stats().corruptions) << "every lying count was caught";
}

// N8: the first answers vanish into a black hole (the connection stays open, nothing arrives).
// The low-speed limit (--stall-timeout 3) must fire and the page be fetched again.
TEST_F(NetworkChaos, BlackHoledAnswersTimeOutAndAreAskedAgain) {
  tickers_ = "AAPL,MSFT";
  extra_args_ = {"--stall-timeout", "3"};
  StartSim();
  StartProxy();
  Toxics toxics;
  toxics.downstream.black_hole_probability = 1;
  proxy_->SetToxics(toxics);
  concurrency_ = 2;
  const auto start = std::chrono::steady_clock::now();
  auto run = Start();
  ASSERT_TRUE(WaitUntil([&] { return proxy_->Stats().black_holes >= 2; }, 10s));
  proxy_->SetToxics(Toxics{});  // later exchanges go through; the swallowed ones stay silent
  auto [done, in_time] = WaitAtMost(*run, 60s);
  ASSERT_TRUE(in_time) << "the run hung on a black-holed connection";
  ASSERT_EQ(done.exit_code, 0) << done.err;
  EXPECT_GE(std::chrono::steady_clock::now() - start, 2500ms) << "the answers really were swallowed";
  ExpectComplete();
  const ReportJson report = ReadReportJson(report_path_);
  ExpectReportAgrees(report, 0);
  EXPECT_EQ(report.transport_errors, proxy_->Stats().black_holes) << "each swallowed answer timed out once";
}

// N9 + N10: a slow, high-latency link that delivers in small fragments, both ways.
TEST_F(NetworkChaos, SlowFragmentedLinkCompletesWithoutFalseTimeouts) {
  StartSim();
  StartProxy();
  Toxics toxics;
  toxics.downstream.latency = 40ms;
  toxics.downstream.jitter = 20ms;
  toxics.downstream.bandwidth_bytes_per_s = 400'000;
  toxics.downstream.slice_bytes = 64;
  toxics.downstream.slice_variation = 32;
  toxics.downstream.slice_delay = 50us;
  toxics.upstream.latency = 10ms;
  toxics.upstream.slice_bytes = 8;
  toxics.upstream.slice_variation = 4;
  toxics.upstream.slice_delay = 20us;
  proxy_->SetToxics(toxics);
  const ReportJson report = RunOnceExpectingDone();
  ExpectReportAgrees(report, 0);
  EXPECT_EQ(report.transport_errors, 0) << "a slow link above the low-speed floor is not an error";
  EXPECT_EQ(report.retried, 0);
  EXPECT_GT(proxy_->Stats().bytes_downstream, 100'000);
}

// N12: keep-alive connections that a middlebox forgot while they sat idle: the next request on
// one is answered with a reset. The process must survive (no SIGPIPE, exit never 141).
TEST_F(NetworkChaos, StaleKeepAliveConnectionsAreNotFatal) {
  tickers_ = "AAPL";
  StartSim(SmallPages(8000));
  StartProxy();
  Toxics toxics;
  toxics.stale_after_idle = 100ms;
  proxy_->SetToxics(toxics);
  rate_ = "5/s";  // 200 ms between requests: every reused connection has gone stale
  concurrency_ = 1;
  const CommandResult run = Run();
  ASSERT_NE(run.exit_code, 128 + SIGPIPE);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.err.find("Broken pipe"), std::string::npos) << run.err;
  ExpectComplete();
  ExpectReportAgrees(ReadReportJson(report_path_), 0, /*every_request_reached_the_server=*/false);
  EXPECT_GT(proxy_->Stats().stale_resets, 0);
}

// N12 from the server side: it closes keep-alive connections idle for 100 ms.
TEST_F(NetworkChaos, ServerIdleTimeoutOnKeepAlive) {
  tickers_ = "AAPL";
  sim::SimOptions options = SmallPages(8000);
  options.idle_timeout_ms = 100;
  StartSim(options);
  rate_ = "5/s";
  concurrency_ = 1;
  const CommandResult run = Run();
  ASSERT_NE(run.exit_code, 128 + SIGPIPE);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ExpectComplete();
  const ReportJson report = ReadReportJson(report_path_);
  ExpectReportAgrees(report, 0);
  EXPECT_GT(sim_->Stats().connections, 1) << "the idle connections really were closed";
}

// N17: every range spans several pages (next_url), and some later pages (requests with a cursor)
// are reset mid-body. Each page commits with its progress once it is whole, and a failed later
// page is fetched again alone, without starting the range over.
TEST_F(NetworkChaos, LaterPageOfANextUrlChainFails) {
  StartSim(SmallPages(2000));
  StartProxy();
  Toxics toxics;
  toxics.downstream.reset_after_bytes = 600;
  // Low enough that no page fails all its attempts (0.15^6 per page), high enough for about a
  // dozen resets over some 70 later pages.
  toxics.downstream.reset_probability = 0.15;
  toxics.downstream.only_if_request_contains = "cursor=";
  proxy_->SetToxics(toxics);
  const ReportJson report = RunOnceExpectingDone();
  ExpectReportAgrees(report, 0);
  EXPECT_GT(proxy_->Stats().conditional_hits, 0);
  EXPECT_EQ(report.transport_errors, proxy_->Stats().resets);
  int64_t first_pages = 0;
  int64_t later_pages = 0;
  for (const auto& [path, query] : SimRequests()) (query.find("cursor=") == std::string::npos ? first_pages : later_pages)++;
  EXPECT_EQ(first_pages, report.ranges_total) << "no range started over because a later page failed";
  EXPECT_GT(later_pages, report.ranges_total) << "the ranges really span several pages";
}

// N18: Retry-After: 86400. The wait is capped, the run can be stopped (SIGTERM) while it waits
// and resumed later against a healthy server.
TEST_F(NetworkChaos, HugeServerDelayIsCappedAndTheRunStaysStoppable) {
  sim::SimOptions options = SmallPages(4000);
  options.faults.http429 = 1;  // every answer is a 429; about half say Retry-After: 86400
  options.retry_after_s = 86400;
  StartSim(options);
  auto run = Start();
  // Everyone pauses: the simulator stops hearing from the client for a while.
  int64_t last = -1;
  const bool paused = WaitUntil(
      [&] {
        const int64_t now = sim_->Stats().requests;
        if (now == 0 || now != last) {
          last = now;
          std::this_thread::sleep_for(1500ms);
          return false;
        }
        return true;
      },
      20s);
  EXPECT_TRUE(paused) << "the client kept sending during a Retry-After of a day";
  EXPECT_FALSE(ProcessExited(run->pid())) << "a long Retry-After is not a failure";
  run->Kill(SIGTERM);
  auto [stopped, in_time] = WaitAtMost(*run, 5s);
  ASSERT_TRUE(in_time) << "SIGTERM must interrupt the wait";
  EXPECT_EQ(stopped.exit_code, 130) << stopped.err;
  EXPECT_NE(stopped.err.find("interrupted"), std::string::npos) << stopped.err;
  EXPECT_NE(stopped.err.find("Retry-After"), std::string::npos)
      << "N18: the server's Retry-After (86400 s) and the cap should be reported:\n" << stopped.err;
  EXPECT_TRUE(LedgerProblems().empty());

  sim_.reset();
  StartSim(SmallPages(4000));
  const CommandResult resumed = Run();
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  ExpectComplete();
  ExpectReportAgrees(ReadReportJson(report_path_), 0);
}

// The seed's crypto failure: large intraday bodies keep breaking ("Broken pipe"), daily bars come
// through. With --fallback-daily the failed intraday series get daily bars instead, the run says
// they are degraded, and the failed chunks stay retryable: once the link is healthy a re-run
// fills them in and the database equals the ground truth.
TEST_F(NetworkChaos, FallbackDailyDegradesIntradaySeriesThatKeepFailing) {
  tickers_ = "AAPL";  // a stock: 6 attempts per page, so giving up takes seconds, not tens
  timeframes_ = "1h";
  extra_args_ = {"--fallback-daily"};
  StartSim();
  StartProxy();
  Toxics toxics;
  toxics.downstream.reset_after_bytes = 2000;
  toxics.downstream.reset_probability = 1;
  toxics.downstream.only_if_request_contains = "/range/1/hour/";
  proxy_->SetToxics(toxics);
  const CommandResult degraded = Run();
  EXPECT_EQ(degraded.exit_code, 5) << "the network gave up on the hourly chunks\n" << degraded.err;
  EXPECT_NE(degraded.out.find("Degraded:        AAPL 1h (daily bars stored instead)"), std::string::npos)
      << degraded.out;
  EXPECT_NE(degraded.out.find("1 degraded"), std::string::npos) << degraded.out;
  // The daily bars of the whole range are there, exactly.
  auto store = OpenForReading();
  ASSERT_TRUE(store);
  engine::Plan daily = TestPlan();
  daily.timeframes = {Timeframe(1, Timespan::kDay)};
  const auto diffs = DiffStoreWithGroundTruth(*store, sim::Market{kChaosSeed}, daily);
  EXPECT_TRUE(diffs.empty()) << Describe(diffs);
  store.reset();

  proxy_->SetToxics(Toxics{});
  extra_args_.clear();
  const CommandResult healed = Run();
  ASSERT_EQ(healed.exit_code, 0) << healed.err;
  ExpectComplete();
}

// N11, short: the upstream refuses connections for half a second, then comes back.
TEST_F(NetworkChaos, ShortOutageIsRidden) {
  StartSim(SmallPages(8000));
  StartProxy();
  ASSERT_TRUE(proxy_->SetDown(true));
  auto run = Start();
  std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(proxy_->SetDown(false));
  auto [done, in_time] = WaitAtMost(*run, 60s);
  ASSERT_TRUE(in_time);
  ASSERT_EQ(done.exit_code, 0) << done.err;
  ExpectComplete();
  const ReportJson report = ReadReportJson(report_path_);
  ExpectReportAgrees(report, 0, /*every_request_reached_the_server=*/false);
  EXPECT_GT(report.transport_errors, 0) << "the refused connections were seen";
}

// N11, long: the upstream stays down; the run gives up with exit 5 (docs/design.md §11: "network gave
// up, run incomplete, resumable") and a clear message, commits nothing, and the next run
// finishes once it is back. One chunk only: each chunk spends its attempts (about 4 s) first.
TEST_F(NetworkChaos, LongOutageExits5AndResumes) {
  tickers_ = "AAPL";
  timeframes_ = "1d";
  StartSim(SmallPages(8000));
  StartProxy();
  ASSERT_TRUE(proxy_->SetDown(true));
  const CommandResult down = Run();
  EXPECT_EQ(down.exit_code, 5) << down.err;
  EXPECT_NE(down.err.find("error: "), std::string::npos) << down.err;
  EXPECT_EQ(StoredBars(), 0);
  EXPECT_TRUE(DoneChunks().empty());
  const ReportJson gave_up = ReadReportJson(report_path_);
  EXPECT_TRUE(gave_up.parsed);
  EXPECT_EQ(gave_up.exit_code, 5);
  EXPECT_EQ(sim_->Stats().requests, 0);

  ASSERT_TRUE(proxy_->SetDown(false));
  const CommandResult resumed = Run();
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  ExpectComplete();
  ExpectReportAgrees(ReadReportJson(report_path_), 0);
}

}  // namespace
}  // namespace barfill::testing
