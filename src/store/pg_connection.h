// One libpq connection with RAII handles, the error classification barfill's retry loop relies
// on, and the SqlSession the shared ledger code runs through. Internal to src/store (and its
// tests and benchmark): it exposes libpq types, so the engine never includes it.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
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
  /// Connects with a libpq URI or conninfo ("" = the PG* environment). A failure is a kDatabase
  /// error naming host, port, database and libpq's reason.
  static Result<std::unique_ptr<PgConnection>> Open(const std::string& conninfo,
                                                    std::chrono::seconds connect_timeout);

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

/// `PostgreSQL database "x" at host:port` for any connection object, good or failed.
std::string DescribeConnection(const PGconn* conn);

/// Unwraps a libpq error message (which may span lines) into one line.
std::string OneLine(std::string_view text);

}  // namespace barfill::store
