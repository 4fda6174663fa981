// One libpq connection with RAII handles, the error classification barfill's retry loop relies
// on, and the SqlSession the shared ledger code runs through. Internal to src/store (and its
// tests and benchmark): it exposes libpq types, so the engine never includes it.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"
#include "store/bar_store.h"
#include "store/sql_session.h"

namespace barfill::store {

struct PgResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
/// An owned PGresult.
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

struct PgConnDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};

class PgConnection final : public SqlSession {
 public:
  SqlDialect dialect() const override { return SqlDialect::kPostgres; }
  /// Connects with a libpq URI or conninfo ("" = the PG* environment). A failure is an error
  /// naming host, port, database and libpq's reason: kDatabaseRetryable when the server refuses
  /// for now (shutting down, starting up, in recovery, not listening), kDatabase otherwise.
  /// `session_options` are server settings for the session ("-c name=value ...", libpq's
  /// `options`); settings in the URL's own options win.
  static Result<std::unique_ptr<PgConnection>> Open(const std::string& conninfo,
                                                    std::chrono::seconds connect_timeout,
                                                    const std::string& session_options = "");

  PGconn* get() const { return conn_.get(); }
  /// `PostgreSQL database "x" at host:port`, never a password.
  const std::string& Describe() const { return describe_; }
  /// True when the connection is gone and must be reopened.
  bool IsBroken() const;

  /// Runs SQL without parameters (several statements allowed); expects no rows back.
  Status Run(std::string_view sql, std::string_view doing);

  /// The error for a failed statement (`result` may be null): kDatabaseRetryable for a lost
  /// connection, serialization failure or deadlock; kDatabase with a hint otherwise.
  Error ErrorFrom(const PGresult* result, std::string_view doing) const;

  /// From here until FinishPipeline, Exec only queues its statement (libpq pipeline mode), so a
  /// run of small statements costs one round trip instead of one each.
  Status StartPipeline();
  /// Sends the queued statements' sync and collects their results; the first error wins.
  Status FinishPipeline(std::string_view doing);

  Status ExecValues(std::string_view sql, std::span<const SqlValue> params) override;
  Status QueryValues(std::string_view sql, std::span<const SqlValue> params,
               const std::function<Status(const SqlRow&)>& row) override;

 private:
  explicit PgConnection(PGconn* conn);
  Result<PgResult> ExecParams(std::string_view sql, std::span<const SqlValue> params,
                              ExecStatusType expected);

  std::unique_ptr<PGconn, PgConnDeleter> conn_;
  std::string describe_;
  /// Sends a sync and reads the results queued so far, staying in pipeline mode: the server's
  /// answers must be read before they fill the socket, or both sides would wait on each other.
  /// Records the first error in `pipeline_status_`; false when the connection is gone.
  bool DrainPipeline(std::string_view doing);

  bool pipelining_ = false;
  bool poisoned_ = false;  ///< left in a state no statement can follow; reconnect
  int queued_ = 0;
  Status pipeline_status_;  ///< the first failure of a drained part of the pipeline
};

/// A connection that comes back: WithRetries redoes an attempt on a fresh connection after a lost
/// connection, a serialization failure or a deadlock (the server restarting under a fleet of
/// workers), with a jittered, doubling delay on the injected clock; other errors return at once.
class PgLink {
 public:
  struct Settings {
    std::chrono::seconds connect_timeout{10};
    int max_attempts = 8;
    std::chrono::milliseconds first_delay{50};
    std::chrono::milliseconds max_delay{4000};
    Clock* clock = nullptr;  ///< null: the real clock
    std::string session_options;  ///< see PgConnection::Open
  };

  /// Connects at once; a failure is a kDatabase error naming the server.
  static Result<std::unique_ptr<PgLink>> Open(const std::string& conninfo, const Settings& settings);
  /// Adopts a connection opened already.
  PgLink(std::string conninfo, Settings settings, std::unique_ptr<PgConnection> conn);

  const std::string& Describe() const { return describe_; }
  /// The current connection (reconnect first with EnsureConnected when it may be gone).
  PgConnection& conn() { return *conn_; }
  bool connected() const { return conn_ != nullptr && !conn_->IsBroken(); }

  /// Reopens the connection when it is gone; a failure then is retryable (the server may be
  /// restarting). `on_connect` (if set) runs on every fresh connection (LISTEN, settings).
  Status EnsureConnected();
  void set_on_connect(std::function<Status(PgConnection&)> on_connect) { on_connect_ = std::move(on_connect); }

  /// Calls `attempt` until it succeeds, fails for good, or runs out of attempts; between
  /// retryable failures it rolls back and waits.
  Status WithRetries(const std::function<Status()>& attempt);
  /// Runs `body` inside a transaction opened with `begin`, redone whole on a retryable failure:
  /// every body must be idempotent, so that a COMMIT of unknown outcome can simply be done again.
  Status Transaction(std::string_view begin, const std::function<Status(PgConnection&)>& body);

 private:
  std::string conninfo_;
  Settings settings_;
  std::unique_ptr<PgConnection> conn_;
  std::string describe_;
  std::function<Status(PgConnection&)> on_connect_;
  std::minstd_rand random_;
};

/// A PgLink to the PostgreSQL database `db_url` names, with the options' timeouts and retries;
/// another database is refused with NeedsPostgresError(command) (store/work_queue.h).
Result<std::unique_ptr<PgLink>> OpenPgLink(const std::string& db_url, std::string_view command,
                                           const StoreOptions& options);

/// `PostgreSQL database "x" at host:port` for any connection object, good or failed.
std::string DescribeConnection(const PGconn* conn);

/// Unwraps a libpq error message (which may span lines) into one line.
std::string OneLine(std::string_view text);

}  // namespace barfill::store
