// barfill: backfill OHLCV bars from the Polygon.io / Massive aggregates API.
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>

#include "cli/commands.h"

int main(int argc, char** argv) {
  // A peer that resets a connection must never kill the process (libcurl runs with NOSIGNAL).
  std::signal(SIGPIPE, SIG_IGN);

  CLI::App app{"barfill: backfill OHLCV bars from the Polygon.io / Massive aggregates API into "
               "PostgreSQL or SQLite"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "barfill 0.1.0");

  barfill::cli::CommandMain run;
  barfill::cli::AddBackfillCommand(app, &run);
  barfill::cli::AddStatusCommand(app, &run);
  barfill::cli::AddExportCommand(app, &run);
  barfill::cli::AddSimCommand(app, &run);
  barfill::cli::AddDemoCommand(app, &run);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "error: %s (see barfill --help)\n", e.what());
    return barfill::cli::kExitUsage;
  }
  if (!run) return barfill::cli::kExitUsage;
  return run();
}
