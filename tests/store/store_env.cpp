#include "store_env.h"

#include <libpq-fe.h>
#include <pwd.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <random>
#include <stdexcept>

namespace barfill::testing {
namespace {

void RunPg(const std::string& conninfo, const std::string& sql, std::string* first_value = nullptr) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    const std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("test connection failed: " + message);
  }
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  PGresult* result = PQexec(conn, sql.c_str());
  const ExecStatusType status = PQresultStatus(result);
  const std::string message = PQresultErrorMessage(result);
  if (first_value != nullptr && status == PGRES_TUPLES_OK && PQntuples(result) > 0) {
    *first_value = PQgetvalue(result, 0, 0);
  }
  PQclear(result);
  PQfinish(conn);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error("test SQL failed: " + sql + ": " + message);
  }
}

}  // namespace

bool RequireAllServices() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

void SqliteEnv::ExecSql(const std::string& sql) const {
  sqlite3* db = nullptr;
  sqlite3_open(Path().c_str(), &db);
  char* message = nullptr;
  const int code = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  const std::string text = message != nullptr ? message : "";
  sqlite3_free(message);
  sqlite3_close(db);
  if (code != SQLITE_OK) throw std::runtime_error("test SQL failed: " + sql + ": " + text);
}

std::string SqliteEnv::IntegerVolumeBarsDdl() {
  return "CREATE TABLE bars (ticker TEXT NOT NULL, timeframe TEXT NOT NULL, adjusted INTEGER NOT "
         "NULL, ts INTEGER NOT NULL, open REAL, high REAL, low REAL, close REAL, volume INTEGER, "
         "vwap REAL, trades INTEGER, PRIMARY KEY (ticker, timeframe, adjusted, ts)) WITHOUT ROWID";
}

namespace {

std::string Schema1Fixture(const char* file) {
  return std::string(BARFILL_SOURCE_DIR) + "/tests/fixtures/schema-v1/" + file;
}

}  // namespace

void SqliteEnv::LoadSchema1Fixture() const {
  gzFile in = gzopen(Schema1Fixture("v1.sqlite.gz").c_str(), "rb");
  if (in == nullptr) throw std::runtime_error("cannot open the schema-1 fixture");
  std::FILE* out = std::fopen(Path().c_str(), "wb");
  char buffer[1 << 16];
  int n = 0;
  while (out != nullptr && (n = gzread(in, buffer, sizeof buffer)) > 0) std::fwrite(buffer, 1, static_cast<size_t>(n), out);
  gzclose(in);
  if (out == nullptr || std::fclose(out) != 0 || n < 0) throw std::runtime_error("cannot write the schema-1 fixture");
  for (const char* suffix : {"-wal", "-shm"}) std::remove((Path() + suffix).c_str());
}

void PostgresEnv::LoadSchema1Fixture() const {
  // Everything a fresh barfill created (later schemas add corporate-action tables and views on bars,
  // barfill_files, whose schema-7 column a step adds, and barfill_derived).
  ExecSql("DROP VIEW IF EXISTS bars_split_adjusted, bars_total_return");
  ExecSql("DROP TABLE IF EXISTS bars, barfill_ledger, barfill_meta, splits, dividends, split_overrides, "
          "barfill_actions_sync, barfill_adjustment_factors, barfill_files, barfill_derived");
  const std::string command = "gunzip -c '" + Schema1Fixture("v1-postgres.sql.gz") +
                              "' | psql -q -v ON_ERROR_STOP=1 -d " + database_ + " >/dev/null";
  if (std::system(command.c_str()) != 0) throw std::runtime_error("cannot load the schema-1 dump: " + command);
}

bool PostgresEnv::Available(std::string* why) {
  const char* host = std::getenv("PGHOST");
  if (host != nullptr && *host != '\0') return true;
  *why = "PGHOST is not set: run these tests through scripts/with-postgres.sh";
  return false;
}

PostgresEnv::PostgresEnv() {
  std::random_device random;
  char name[32];
  std::snprintf(name, sizeof name, "barfill_t_%08x%04x", random(), random() & 0xffff);
  database_ = name;
  ExecAdminSql("CREATE DATABASE " + database_);
}

PostgresEnv::~PostgresEnv() {
  try {
    ExecAdminSql("DROP DATABASE IF EXISTS " + database_ + " WITH (FORCE)");
  } catch (const std::exception&) {
    // A leftover database in a throwaway cluster harms nothing.
  }
}

void PostgresEnv::ExecSql(const std::string& sql) const { RunPg(Url(), sql); }

void PostgresEnv::ExecAdminSql(const std::string& sql) { RunPg("", sql); }

int PostgresEnv::TerminateOtherBackends() const {
  std::string count;
  RunPg(Url(),
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = "
        "current_database() AND pid <> pg_backend_pid()",
        &count);
  return std::atoi(count.c_str());
}

std::string PostgresEnv::IntegerVolumeBarsDdl() {
  return "CREATE TABLE bars (ticker text, timeframe text, adjusted boolean, ts timestamptz, "
         "open double precision, high double precision, low double precision, close double "
         "precision, volume bigint, vwap double precision, trades bigint, PRIMARY KEY (ticker, "
         "timeframe, adjusted, ts))";
}

PrivateCluster::PrivateCluster() {
  const char* pg_ctl = std::getenv("BARFILL_PG_CTL");
  if (pg_ctl == nullptr) {
    error_ = "BARFILL_PG_CTL is not set: run through scripts/with-postgres.sh";
    return;
  }
  std::istringstream words(pg_ctl);
  for (std::string word; words >> word;) runas_.push_back(word);
  pg_bin_ = runas_.back().substr(0, runas_.back().rfind('/'));
  runas_.pop_back();  // what is left runs a command as the cluster's owner ("runuser -u postgres --")
  if (!runas_.empty()) runas_[0] = OnPath(runas_[0]);  // the test runs programs with execv
  char pattern[] = "/tmp/barfill-pgchaos.XXXXXX";
  dir_ = mkdtemp(pattern);
  ::chmod(dir_.c_str(), 0755);
  if (!runas_.empty()) {
    if (const passwd* owner = getpwnam("postgres")) {
      if (::chown(dir_.c_str(), owner->pw_uid, owner->pw_gid) != 0) error_ = "cannot chown " + dir_;
    }
  }
  static std::atomic<int> made{0};  // two clusters of one process get two ports
  port_ = 40000 + static_cast<int>((::getpid() * 7 + made.fetch_add(1)) % 20000);
  const CommandResult init = As({pg_bin_ + "/initdb", "--no-sync", "-D", dir_ + "/data", "-E", "UTF8",
                                 "--locale=C.UTF-8", "--auth=trust", "-U", "postgres"});
  if (init.exit_code != 0) {
    error_ = "initdb failed (exit " + std::to_string(init.exit_code) + "): " + init.err + init.out;
    return;
  }
  std::ofstream(dir_ + "/data/postgresql.conf", std::ios::app)
      << "listen_addresses = ''\nunix_socket_directories = '" << dir_ << "'\nport = " << port_ << "\nmax_connections = 100\n";
  const CommandResult start = PgCtl({"-w", "start"});
  if (start.exit_code != 0) error_ = "cannot start the private cluster: " + start.err + start.out;
}

PrivateCluster::~PrivateCluster() {
  if (!dir_.empty()) {
    PgCtl({"-m", "immediate", "-w", "stop"});
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

CommandResult PrivateCluster::Restart() { return PgCtl({"-m", "fast", "-w", "restart"}); }
CommandResult PrivateCluster::Stop() { return PgCtl({"-m", "fast", "-w", "stop"}); }
CommandResult PrivateCluster::Start() { return PgCtl({"-w", "start"}); }

std::string PrivateCluster::OnPath(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  std::istringstream path(std::getenv("PATH") != nullptr ? std::getenv("PATH") : "/usr/sbin:/usr/bin:/sbin:/bin");
  for (std::string dir; std::getline(path, dir, ':');) {
    if (::access((dir + "/" + program).c_str(), X_OK) == 0) return dir + "/" + program;
  }
  return program;
}

CommandResult PrivateCluster::As(std::vector<std::string> args) const {
  std::vector<std::string> full = runas_;
  full.insert(full.end(), args.begin(), args.end());
  return RunCommand(full);
}

CommandResult PrivateCluster::PgCtl(std::vector<std::string> args) const {
  std::vector<std::string> full = {pg_bin_ + "/pg_ctl", "-D", dir_ + "/data", "-l", dir_ + "/server.log"};
  full.insert(full.end(), args.begin(), args.end());
  return As(full);
}

}  // namespace barfill::testing
