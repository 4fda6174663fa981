// The two databases the store suite runs against: a fresh SQLite file, or a fresh PostgreSQL
// database (CREATE DATABASE barfill_t_<random>, dropped afterwards) on the server that
// scripts/with-postgres.sh exports through the PG* variables.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "testing/subprocess.h"

namespace barfill::testing {

class SqliteEnv {
 public:
  static constexpr bool kIsPostgres = false;
  /// Always available; `why` stays empty.
  static bool Available(std::string* why) { return true; }

  SqliteEnv() = default;
  std::string Url() const { return "sqlite:" + Path(); }
  std::string Path() const { return dir_.File("bars.db"); }
  /// Runs SQL on the database file directly (to corrupt the schema on purpose).
  void ExecSql(const std::string& sql) const;
  /// A bars table whose volume column is an integer.
  static std::string IntegerVolumeBarsDdl();
  /// Replaces the database with the one the schema-1 release wrote (tests/fixtures/schema-v1).
  void LoadSchema1Fixture() const;

 private:
  TempDir dir_;
};

class PostgresEnv {
 public:
  static constexpr bool kIsPostgres = true;
  /// True when PGHOST is set (scripts/with-postgres.sh); otherwise `why` says what is missing.
  static bool Available(std::string* why);

  PostgresEnv();
  ~PostgresEnv();
  PostgresEnv(const PostgresEnv&) = delete;
  PostgresEnv& operator=(const PostgresEnv&) = delete;

  /// A conninfo naming the test database; host, port and user come from the PG* variables.
  std::string Url() const { return "dbname=" + database_; }
  const std::string& database() const { return database_; }
  void ExecSql(const std::string& sql) const;
  /// Runs SQL on the maintenance database (roles, ALTER DATABASE).
  static void ExecAdminSql(const std::string& sql);
  /// Ends every other session connected to the test database; returns how many.
  int TerminateOtherBackends() const;
  static std::string IntegerVolumeBarsDdl();
  /// Replaces barfill's tables with the dump of the schema-1 release (tests/fixtures/schema-v1).
  void LoadSchema1Fixture() const;

 private:
  std::string database_;
};

/// A PostgreSQL cluster of the test's own, for scenarios that restart the server: the shared
/// cluster of scripts/with-postgres.sh serves other tests at the same time (ctest -j). It is made
/// with the same binaries and user as that cluster (BARFILL_PG_CTL).
class PrivateCluster {
 public:
  PrivateCluster();
  ~PrivateCluster();
  PrivateCluster(const PrivateCluster&) = delete;
  PrivateCluster& operator=(const PrivateCluster&) = delete;
  /// Why the cluster could not be made; empty when it runs.
  const std::string& error() const { return error_; }
  std::string Conninfo() const {
    return "host=" + dir_ + " port=" + std::to_string(port_) + " user=postgres dbname=postgres";
  }
  CommandResult Restart();
  /// Stops the server (fast shutdown) until Start; the socket is gone meanwhile.
  CommandResult Stop();
  CommandResult Start();

 private:
  static std::string OnPath(const std::string& program);
  CommandResult As(std::vector<std::string> args) const;
  CommandResult PgCtl(std::vector<std::string> args) const;

  std::vector<std::string> runas_;
  std::string pg_bin_;
  std::string dir_;
  int port_ = 0;
  std::string error_;
};

/// True when the test must fail instead of skip for a missing service (CI=true).
bool RequireAllServices();

}  // namespace barfill::testing

/// Skips the test when Env's database is not available, or fails it when CI=true.
#define BARFILL_REQUIRE_DATABASE(Env)                                              \
  do {                                                                             \
    std::string barfill_why_;                                                      \
    if (!Env::Available(&barfill_why_)) {                                          \
      if (::barfill::testing::RequireAllServices()) {                              \
        FAIL() << barfill_why_ << " (CI=true: these tests may not be skipped)";    \
      }                                                                            \
      GTEST_SKIP() << barfill_why_;                                                \
    }                                                                              \
  } while (0)

namespace barfill::testing {

}  // namespace barfill::testing
