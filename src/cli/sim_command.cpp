// `barfill sim`: runs the Polygon-compatible simulator in the foreground until SIGINT/SIGTERM.
#include <CLI/CLI.hpp>

#include <pthread.h>
#include <signal.h>

#include <charconv>
#include <cstdio>
#include <memory>
#include <string>
#include <tuple>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "flatfiles/s3_wire.h"
#include "sim/sim_server.h"

namespace barfill::cli {
namespace {

struct SimFlags {
  std::string host = "127.0.0.1";
  int port = 0;
  uint64_t seed = 1;
  std::string api_key;
  std::string rate_limit;
  std::string faults;
  std::string action_faults;
  uint64_t fault_seed = 1;
  std::vector<std::string> forbid;
  std::string liquidity = "dense";
  std::string thin;
  bool no_gzip = false;
  // Data events (--faults hole=..,halt=..,revise=..).
  std::vector<std::string> event_tickers;
  int hole_fill_visits = 1;
  double hole_fill_after_s = 0;
  int revise_sessions = 2;
  // The flat-file bucket (S3).
  std::string s3_access_key;
  std::string s3_secret_key;
  std::vector<std::string> s3_tickers;
  std::string s3_from;
  std::string s3_to;
  std::string s3_now;
  std::vector<std::string> s3_entitled;
  int s3_history_days = 0;
  int s3_missing_status = 404;
  double s3_reset_rate = 0;
  double s3_slowdown_rate = 0;
  int s3_cache_mb = 256;
};

/// The S3 side's options from the flags.
Result<sim::S3SimOptions> S3Options(const SimFlags& flags) {
  sim::S3SimOptions s3;
  if (flags.s3_access_key.empty() != flags.s3_secret_key.empty()) {
    return Fail(ErrorCode::kUsage, "--s3-access-key and --s3-secret-key go together (neither: any signed request passes)");
  }
  s3.signing.access_key_id = flags.s3_access_key;
  s3.signing.secret_access_key = flags.s3_secret_key;
  for (const std::string& symbol : flags.s3_tickers) {
    auto ticker = Ticker::Parse(symbol);
    if (!ticker) return Fail(ErrorCode::kUsage, "--s3-tickers: " + ticker.error().message);
    s3.universe.push_back(*ticker);
  }
  for (const auto& [text, day, flag] : {std::tuple{flags.s3_from, &s3.first_day, "--s3-from"},
                                        std::tuple{flags.s3_to, &s3.last_day, "--s3-to"}}) {
    if (text.empty()) continue;
    auto parsed = CalendarDay::Parse(text);
    if (!parsed) return Fail(ErrorCode::kUsage, std::string(flag) + ": " + parsed.error().message);
    *day = *parsed;
  }
  if (s3.last_day < s3.first_day) return Fail(ErrorCode::kUsage, "--s3-to is before --s3-from");
  if (!flags.s3_now.empty()) {
    std::optional<int64_t> now = flatfiles::ParseIsoTimeMs(flags.s3_now);
    if (const auto day = CalendarDay::Parse(flags.s3_now); !now && day) now = day->DaysSinceEpoch() * kMsPerDay;
    if (!now) {
      return Fail(ErrorCode::kUsage, "--s3-now '" + flags.s3_now + "' must look like 2025-06-30 or 2025-06-30T15:00:00Z");
    }
    s3.now_ms = [ms = *now] { return ms; };
  }
  s3.entitled_assets = flags.s3_entitled;
  s3.history_days = flags.s3_history_days;
  s3.missing_key_status = flags.s3_missing_status;
  s3.reset_rate = flags.s3_reset_rate;
  s3.slowdown_rate = flags.s3_slowdown_rate;
  s3.cache_bytes = static_cast<size_t>(flags.s3_cache_mb) << 20;
  return s3;
}

/// "150/min" or "150" -> 150; "0" turns the limit off.
Result<int> ParseRateLimit(const std::string& text) {
  std::string_view number = text;
  constexpr std::string_view kPerMinute = "/min";
  if (number.size() > kPerMinute.size() && number.substr(number.size() - kPerMinute.size()) == kPerMinute) {
    number.remove_suffix(kPerMinute.size());
  }
  int value = -1;
  const auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || ptr != number.data() + number.size() || value < 0) {
    return Fail(ErrorCode::kUsage, "--rate-limit '" + text + "' must look like 5/min (requests per minute)");
  }
  return value;
}

int RunSim(const SimFlags& flags) {
  sim::SimOptions options;
  options.host = flags.host;
  options.port = flags.port;
  options.seed = flags.seed;
  options.api_key = flags.api_key;
  options.fault_seed = flags.fault_seed;
  options.forbidden_tickers = flags.forbid;
  options.gzip = !flags.no_gzip;
  options.event_tickers = flags.event_tickers;
  options.hole_fill_visits = flags.hole_fill_visits;
  options.hole_fill_after_ms = static_cast<int64_t>(flags.hole_fill_after_s * 1000);
  options.revise_sessions = flags.revise_sessions;
  if (!flags.rate_limit.empty()) {
    const auto limit = ParseRateLimit(flags.rate_limit);
    if (!limit) return ReportError(limit.error());
    options.rate_limit_per_min = *limit;
  }
  const auto faults = sim::FaultRates::Parse(flags.faults);
  if (!faults) return ReportError(faults.error());
  options.faults = *faults;
  const auto action_faults = sim::ActionFaults::Parse(flags.action_faults);
  if (!action_faults) return ReportError(action_faults.error());
  options.action_faults = *action_faults;
  if (flags.liquidity != "dense" && flags.liquidity != "skewed") {
    return ReportError(Error(ErrorCode::kUsage, "--liquidity must be dense or skewed (got '" + flags.liquidity + "')"));
  }
  options.liquidity = flags.liquidity == "skewed" ? sim::Liquidity::kSkewed : sim::Liquidity::kDense;
  auto thin = sim::Market::ParseActivity(flags.thin);
  if (!thin) return ReportError(Error(ErrorCode::kUsage, "--thin: " + thin.error().message));
  options.activity = std::move(*thin);
  auto s3 = S3Options(flags);
  if (!s3) return ReportError(s3.error());
  options.s3 = std::move(*s3);

  // Block the stop signals before any thread starts, so every thread inherits the mask and only
  // sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto server = sim::SimServer::Start(options);
  if (!server) return ReportError(server.error());
  std::printf("listening on %s\n", (*server)->BaseUrl().c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "flat files: S3 endpoint %s, bucket %s, region %s (SigV4, path-style)\n",
               (*server)->BaseUrl().c_str(), options.s3.bucket.c_str(), options.s3.signing.region.c_str());

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  (*server)->Stop();
  const sim::SimStats stats = (*server)->Stats();
  std::fprintf(stderr, "stopped: %lld requests, %lld bars served\n", static_cast<long long>(stats.requests),
               static_cast<long long>(stats.bars_served));
  return kExitOk;
}

}  // namespace

void AddSimCommand(CLI::App& app, CommandMain* run) {
  auto flags = std::make_shared<SimFlags>();
  CLI::App* cmd = app.add_subcommand(
      "sim", "Run the Polygon-compatible simulator (deterministic synthetic bars) until SIGINT/SIGTERM");
  cmd->add_option("--host", flags->host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", flags->port, "Port; 0 picks a free one")->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--seed", flags->seed, "Data seed: bars are a pure function of (seed, ticker, t)")->capture_default_str();
  cmd->add_option("--api-key", flags->api_key, "Accept only this key (default: any non-empty key)");
  cmd->add_option("--rate-limit", flags->rate_limit, "Requests per minute per key, e.g. 5/min (sliding window)");
  cmd->add_option("--faults", flags->faults,
                  "Fault probabilities, e.g. reset=0.05,http429=0.02 "
                  "(per request: http429, http5xx, reset, truncate, badjson, slow, delayed, expvol; "
                  "per ticker and session: hole, halt, revise)");
  cmd->add_option("--action-faults", flags->action_faults,
                  "Corporate-actions data faults: conflict=T1+T2 (a second split row with another ratio), "
                  "exponent=T1+T2 (ratios in exponent form), v3disagree (v3 leaves out each latest split)");
  cmd->add_option("--fault-seed", flags->fault_seed, "Seed of the fault dice")->capture_default_str();
  cmd->add_option("--forbid", flags->forbid, "Tickers answered with 403 NOT_AUTHORIZED")->delimiter(',');
  cmd->add_option("--liquidity", flags->liquidity,
                  "dense: every ticker trades nearly every minute; skewed: like the real market, most tickers are thin")
      ->capture_default_str();
  cmd->add_option("--thin", flags->thin, "Tickers that trade in only a share of the minutes, e.g. XYZ=0.01,ABC=0.2");
  cmd->add_flag("--no-gzip", flags->no_gzip, "Serve identity bodies even to clients that accept gzip");
  cmd->add_option("--event-tickers", flags->event_tickers,
                  "Only these tickers get holes, halts and revisions (default: every ticker)")
      ->delimiter(',');
  cmd->add_option("--hole-fill-visits", flags->hole_fill_visits,
                  "A hole is served empty on each series' first N visits to its day, then filled (0: never)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--hole-fill-after", flags->hole_fill_after_s,
                  "Seconds after which every hole is filled (0: never by time)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--revise-sessions", flags->revise_sessions,
                  "Revisions touch the last N sessions that had ended when the simulator started")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--s3-access-key", flags->s3_access_key, "Flat files: the only S3 access key id accepted");
  cmd->add_option("--s3-secret-key", flags->s3_secret_key, "Flat files: its secret (signatures are checked)");
  cmd->add_option("--s3-tickers", flags->s3_tickers, "Flat files and grouped daily: the universe every day file and grouped day holds (REST spelling)")
      ->delimiter(',');
  cmd->add_option("--s3-from", flags->s3_from, "Flat files: the first session date with files (default 2024-01-01)");
  cmd->add_option("--s3-to", flags->s3_to, "Flat files: the last session date with files (default 2026-12-31)");
  cmd->add_option("--s3-now", flags->s3_now,
                  "Flat files: a fixed publication clock, e.g. 2025-06-30T15:00:00Z (default: the system clock)");
  cmd->add_option("--s3-entitled", flags->s3_entitled,
                  "Flat files: asset folders a GET may read, e.g. us_stocks_sip (default all; listings show all)")
      ->delimiter(',');
  cmd->add_option("--s3-history-days", flags->s3_history_days, "Flat files: GETs only this many days back (0 = all)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--s3-missing-status", flags->s3_missing_status, "Flat files: status for a missing key")
      ->check(CLI::IsMember({403, 404}))
      ->capture_default_str();
  cmd->add_option("--s3-reset-rate", flags->s3_reset_rate, "Flat files: probability a GET is cut by a reset")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--s3-slowdown-rate", flags->s3_slowdown_rate, "Flat files: probability of a 503 SlowDown")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--s3-cache-mb", flags->s3_cache_mb, "Flat files: memory for generated objects")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->callback([run, flags] { *run = [flags] { return RunSim(*flags); }; });
}

}  // namespace barfill::cli
