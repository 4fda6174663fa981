// `barfill sim`: runs the Polygon-compatible simulator in the foreground until SIGINT/SIGTERM.
#include <CLI/CLI.hpp>

#include <pthread.h>
#include <signal.h>

#include <charconv>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/exit_codes.h"
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
  uint64_t fault_seed = 1;
  std::vector<std::string> forbid;
  std::string liquidity = "dense";
  std::string thin;
  bool no_gzip = false;
};

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
  if (!flags.rate_limit.empty()) {
    const auto limit = ParseRateLimit(flags.rate_limit);
    if (!limit) return ReportError(limit.error());
    options.rate_limit_per_min = *limit;
  }
  const auto faults = sim::FaultRates::Parse(flags.faults);
  if (!faults) return ReportError(faults.error());
  options.faults = *faults;
  if (flags.liquidity != "dense" && flags.liquidity != "skewed") {
    return ReportError(Error(ErrorCode::kUsage, "--liquidity must be dense or skewed (got '" + flags.liquidity + "')"));
  }
  options.liquidity = flags.liquidity == "skewed" ? sim::Liquidity::kSkewed : sim::Liquidity::kDense;
  auto thin = sim::Market::ParseActivity(flags.thin);
  if (!thin) return ReportError(Error(ErrorCode::kUsage, "--thin: " + thin.error().message));
  options.activity = std::move(*thin);

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
                  "(http429, http5xx, reset, truncate, badjson, slow, delayed, expvol)");
  cmd->add_option("--fault-seed", flags->fault_seed, "Seed of the fault dice")->capture_default_str();
  cmd->add_option("--forbid", flags->forbid, "Tickers answered with 403 NOT_AUTHORIZED")->delimiter(',');
  cmd->add_option("--liquidity", flags->liquidity,
                  "dense: every ticker trades nearly every minute; skewed: like the real market, most tickers are thin")
      ->capture_default_str();
  cmd->add_option("--thin", flags->thin, "Tickers that trade in only a share of the minutes, e.g. XYZ=0.01,ABC=0.2");
  cmd->add_flag("--no-gzip", flags->no_gzip, "Serve identity bodies even to clients that accept gzip");
  cmd->callback([run, flags] { *run = [flags] { return RunSim(*flags); }; });
}

}  // namespace barfill::cli
