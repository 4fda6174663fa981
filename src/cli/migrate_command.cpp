// barfill migrate: upgrades a database written by an older barfill to this one's schema, in one
// transaction, without fetching anything (a backfill does the same before it starts).
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/api_flags.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "store/bar_store.h"

namespace barfill::cli {
namespace {

int RunMigrate(const std::string& db) {
  StoreOptions options;
  options.create = false;  // an upgrade, never a new database
  auto store = OpenStore(ResolveDbUrl(db), options);
  if (!store) return ReportError(store.error());
  if (auto migrated = (*store)->Migrate(); !migrated) return ReportError(migrated.error());
  const std::vector<std::string> notices = (*store)->Notices();
  for (const std::string& line : notices) std::printf("%s\n", line.c_str());
  if (notices.empty()) std::printf("%s is up to date: nothing to upgrade\n", (*store)->Describe().c_str());
  return kExitOk;
}

}  // namespace

void AddMigrateCommand(CLI::App& app, CommandMain* run) {
  auto db = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("migrate", "Upgrade a database written by an older barfill (a backfill does this too)");
  AddDbFlag(cmd, db.get());
  cmd->callback([db, run] { *run = [db] { return RunMigrate(*db); }; });
}

}  // namespace barfill::cli
