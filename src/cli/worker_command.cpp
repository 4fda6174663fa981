// barfill worker: claims ranges from the work queue in PostgreSQL and fetches them under the
// rate limit all workers of the key share, committing each page only while its lease holds
// (docs/workers.md). SIGTERM/Ctrl-C drains: no new claims, items in flight released, exit 0.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/metrics_server.h"
#include "cli/run_flags.h"
#include "cli/stop_signals.h"
#include "cli/test_hooks.h"
#include "core/json.h"
#include "core/market_time.h"
#include "engine/worker.h"

namespace barfill::cli {
namespace {

struct WorkerFlags {
  RunFlags run;
  double lease_s = 30;
  bool exit_when_empty = false;
  std::string log_format = "text";
  int metrics_port = 0;
  double wait_for_db_s = 60;
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// One line per event on stderr: for people, or one JSON object for log shippers.
void PrintEvent(const engine::WorkerEvent& e, bool json) {
  if (json) {
    std::string line = "{\"ts\":" + JsonQuote(FormatIsoUtc(NowMs())) + ",\"event\":" + JsonQuote(e.kind) +
                       ",\"worker\":" + std::to_string(e.worker);
    if (e.item != 0) line += ",\"item\":" + std::to_string(e.item) + ",\"series\":" + JsonQuote(e.series);
    if (e.rows != 0) line += ",\"rows\":" + std::to_string(e.rows);
    line += ",\"message\":" + JsonQuote(e.message) + "}\n";
    std::fputs(line.c_str(), stderr);
    return;
  }
  std::string line = "barfill worker: " + e.kind;
  if (e.item != 0) line += " item " + std::to_string(e.item) + " (" + e.series + ")";
  if (e.rows != 0) line += ", " + std::to_string(e.rows) + " rows";
  if (!e.message.empty() && e.message != e.kind) line += ": " + e.message;
  std::fprintf(stderr, "%s\n", line.c_str());
}

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

int RunWorkerCommand(const WorkerFlags& flags) {
  if (flags.log_format != "text" && flags.log_format != "json") {
    return ReportError(Error(ErrorCode::kUsage, "--log-format must be text or json (got '" + flags.log_format + "')"));
  }
  if (!std::isfinite(flags.lease_s) || flags.lease_s < 1 || flags.lease_s > 3600) {
    return ReportError(Error(ErrorCode::kUsage, "--lease must be 1 to 3600 seconds (how long a claim holds an item "
                                                "without a heartbeat; default 30)"));
  }
  if (!std::isfinite(flags.wait_for_db_s) || flags.wait_for_db_s < 0 || flags.wait_for_db_s > 86400) {
    return ReportError(Error(ErrorCode::kUsage, "--wait-for-db must be 0 to 86400 seconds (how long a starting worker "
                                                "waits for a PostgreSQL that refuses connections; default 60)"));
  }
  auto settings = SettingsFromFlags(flags.run);
  if (!settings) return ReportError(settings.error());
  settings->run.source = "rest";
  auto config = ResolveSettings(*settings, /*with_plan=*/false);
  if (!config) return ReportError(config.error());
  const bool json = flags.log_format == "json";
  engine::WorkerOptions options;
  options.lease = std::chrono::milliseconds(static_cast<int64_t>(flags.lease_s * 1000));
  options.exit_when_empty = flags.exit_when_empty;
  options.start_wait = std::chrono::milliseconds(static_cast<int64_t>(flags.wait_for_db_s * 1000));
  options.host = HostName();
  options.pid = getpid();
  options.cancel = &InstallStopSignals();
  options.on_event = [json, quiet = settings->no_progress](const engine::WorkerEvent& e) {
    // --no-progress keeps what matters: the start, the end, lost leases, failures, warnings.
    if (quiet && (e.kind == "claimed" || e.kind == "done" || e.kind == "released")) return;
    PrintEvent(e, json);
  };
  std::unique_ptr<MetricsServer> metrics;
  if (flags.metrics_port != 0) {
    auto started = MetricsServer::Start(flags.metrics_port);
    if (!started) return ReportError(started.error());
    metrics = std::move(*started);
    options.on_metrics = [server = metrics.get()](const engine::WorkerMetrics& m) { server->Update(m); };
  }
  StoreOptions store_options;
  store_options.write_hook = CrashHooksFromEnvironment().write_hook;  // tests only
  auto report = engine::RunWorker(*config, options, store_options);
  if (!report) return ReportError(report.error());
  if (!report->error.empty()) std::fprintf(stderr, "error: %s\n", report->error.c_str());
  return ExitCodeFor(report->outcome);
}

}  // namespace

void AddWorkerCommand(CLI::App& app, CommandMain* run) {
  auto flags = std::make_shared<WorkerFlags>();
  CLI::App* cmd = app.add_subcommand(
      "worker", "Claim ranges from the work queue (PostgreSQL) and fetch them, with any number of other workers");
  AddFetchFlags(cmd, flags->run);
  cmd->add_option("--lease", flags->lease_s, "Seconds a claim holds an item without a heartbeat (default 30)");
  cmd->add_flag("--exit-when-empty", flags->exit_when_empty, "Exit once no item is pending or leased (batch jobs)");
  cmd->add_option("--wait-for-db", flags->wait_for_db_s,
                  "Seconds a starting worker waits for a PostgreSQL that refuses connections for now (restarting, "
                  "in recovery, not listening yet) before it exits with the error; 0 = at once (default 60)");
  cmd->add_option("--log-format", flags->log_format, "text (default) or json: one JSON object per event on stderr");
  cmd->add_option("--metrics-port", flags->metrics_port,
                  "Serve Prometheus metrics at http://0.0.0.0:PORT/metrics (requests, 429s, retries, rows, bytes, "
                  "items, lease losses, queue depth, rate enforced)");
  cmd->callback([flags, run] { *run = [flags] { return RunWorkerCommand(*flags); }; });
}

}  // namespace barfill::cli
