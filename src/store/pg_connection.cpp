#include "store/pg_connection.h"

#include <bit>
#include <cmath>
#include <limits>
#include <cstring>
#include <vector>

#include "store/copy_binary.h"

namespace barfill::store {
namespace {

// Type OIDs from pg_type.h (stable across PostgreSQL versions).
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kTextOid = 25;
constexpr Oid kTimestamptzOid = 1184;
constexpr Oid kFloat8Oid = 701;
constexpr int kBinary = 1;

uint64_t FromBig64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  return v;
}

uint32_t FromBig32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
  return v;
}

/// Parameters encoded in binary, with storage that outlives the call.
class BinaryParams {
 public:
  explicit BinaryParams(std::span<const SqlValue> params) {
    storage_.reserve(params.size());
    for (const SqlValue& value : params) Add(value);
    for (size_t i = 0; i < storage_.size(); ++i) {
      values_.push_back(is_null_[i] ? nullptr : storage_[i].data());
      lengths_.push_back(static_cast<int>(storage_[i].size()));
      formats_.push_back(kBinary);
    }
  }
  int size() const { return static_cast<int>(storage_.size()); }
  const Oid* types() const { return types_.data(); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  void AddInt64(Oid type, int64_t v) {
    uint64_t big = static_cast<uint64_t>(v);
    if constexpr (std::endian::native == std::endian::little) big = __builtin_bswap64(big);
    storage_.emplace_back(reinterpret_cast<const char*>(&big), sizeof big);
    types_.push_back(type);
    is_null_.push_back(false);
  }
  void Add(const SqlValue& value) {
    if (std::holds_alternative<std::nullptr_t>(value)) {
      storage_.emplace_back();
      types_.push_back(0);
      is_null_.push_back(true);
    } else if (const auto* text = std::get_if<std::string_view>(&value)) {
      storage_.emplace_back(*text);
      types_.push_back(kTextOid);
      is_null_.push_back(false);
    } else if (const auto* number = std::get_if<int64_t>(&value)) {
      AddInt64(kInt8Oid, *number);
    } else if (const auto* flag = std::get_if<bool>(&value)) {
      storage_.emplace_back(1, *flag ? '\1' : '\0');
      types_.push_back(kBoolOid);
      is_null_.push_back(false);
    } else if (const auto* real = std::get_if<double>(&value); real != nullptr && !std::isnan(*real)) {
      AddInt64(kFloat8Oid, std::bit_cast<int64_t>(*real));
    } else if (real != nullptr) {
      storage_.emplace_back();  // NaN is stored as NULL, as in SQLite
      types_.push_back(kFloat8Oid);
      is_null_.push_back(true);
    } else {
      AddInt64(kTimestamptzOid, UnixMsToPgMicros(std::get<SqlTimestamp>(value).ms));
    }
  }

  std::vector<std::string> storage_;
  std::vector<Oid> types_;
  std::vector<bool> is_null_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

/// A row of a binary-format result.
class PgRow final : public SqlRow {
 public:
  PgRow(const PGresult* result, int row) : result_(result), row_(row) {}
  bool IsNull(int column) const override { return PQgetisnull(result_, row_, column) != 0; }
  std::string_view Text(int column) const override {
    return {PQgetvalue(result_, row_, column),
            static_cast<size_t>(PQgetlength(result_, row_, column))};
  }
  int64_t Int(int column) const override {
    if (IsNull(column)) return 0;
    const char* p = PQgetvalue(result_, row_, column);
    switch (PQgetlength(result_, row_, column)) {
      case 8: return static_cast<int64_t>(FromBig64(p));
      case 4: return static_cast<int32_t>(FromBig32(p));
      case 2: return static_cast<int16_t>((static_cast<uint8_t>(p[0]) << 8) | static_cast<uint8_t>(p[1]));
      default: return 0;
    }
  }
  bool Bool(int column) const override {
    return !IsNull(column) && PQgetlength(result_, row_, column) == 1 &&
           PQgetvalue(result_, row_, column)[0] != 0;
  }
  int64_t TimestampMs(int column) const override {
    if (IsNull(column)) return 0;
    return PgMicrosToUnixMs(static_cast<int64_t>(FromBig64(PQgetvalue(result_, row_, column))));
  }
  double Real(int column) const override {
    if (IsNull(column)) return std::numeric_limits<double>::quiet_NaN();
    return std::bit_cast<double>(FromBig64(PQgetvalue(result_, row_, column)));
  }

 private:
  const PGresult* result_;
  int row_;
};

/// A hint that names the fix for the failures a user can do something about.
std::string_view HintFor(std::string_view sqlstate) {
  if (sqlstate == "25006") {
    return "; the database is read-only (default_transaction_read_only is on, or this is a "
           "standby): point the database URL at a writable primary";
  }
  if (sqlstate == "53100") return "; the server's disk is full: free space, then re-run";
  if (sqlstate == "53200") return "; the server is out of memory";
  if (sqlstate == "42501") {
    return "; permission denied: grant this user CREATE on the schema and SELECT, INSERT, "
           "UPDATE, DELETE on barfill's tables";
  }
  return "";
}

}  // namespace

std::string OneLine(std::string_view text) {
  std::string out;
  bool pending_space = false;
  for (const char c : text) {
    if (c == '\n' || c == '\r' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) {
      out += out.back() == ':' || out.back() == ';' ? " " : "; ";
      pending_space = false;
    }
    out += c;
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
  return out;
}

std::string DescribeConnection(const PGconn* conn) {
  const auto value = [](const char* v, const char* fallback) {
    return std::string(v != nullptr && *v != '\0' ? v : fallback);
  };
  PGconn* c = const_cast<PGconn*>(conn);
  return "PostgreSQL database \"" + value(PQdb(c), "?") + "\" at " + value(PQhost(c), "localhost") +
         ":" + value(PQport(c), "5432");
}

namespace {

/// True for a connection refused for a reason that passes: the server shutting down, starting up
/// or in recovery, or not listening yet (a restart, a failover). Open then fails retryable.
bool ServerUnavailableNow(std::string_view reason) {
  // libpq gives no SQLSTATE for a refused connection, only its message (the server's own words
  // for 57P03 cannot_connect_now, or the socket's).
  for (const std::string_view passing : {"the database system is", "Connection refused", "No such file or directory",
                                         "server closed the connection unexpectedly"}) {
    if (reason.find(passing) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<PgConnection>> PgConnection::Open(const std::string& conninfo,
                                                         std::chrono::seconds connect_timeout,
                                                         const std::string& session_options) {
  // Later keywords override earlier ones, so a connect_timeout in the URL still wins.
  const std::string timeout = std::to_string(connect_timeout.count());
  const char* keywords[] = {"connect_timeout", "fallback_application_name", "options", "dbname", nullptr};
  const char* values[] = {timeout.c_str(), "barfill", session_options.c_str(), conninfo.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) return Fail(ErrorCode::kDatabase, "cannot allocate a PostgreSQL connection");
  std::unique_ptr<PgConnection> connection(new PgConnection(conn));
  if (PQstatus(conn) != CONNECTION_OK) {
    const std::string reason = OneLine(PQerrorMessage(conn));
    return Fail(ServerUnavailableNow(reason) ? ErrorCode::kDatabaseRetryable : ErrorCode::kDatabase,
                "cannot connect to " + connection->Describe() + ": " + reason);
  }
  // Quiet NOTICEs (e.g. "relation already exists, skipping") instead of printing them.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  return connection;
}

PgConnection::PgConnection(PGconn* conn) : conn_(conn), describe_(DescribeConnection(conn)) {}

bool PgConnection::IsBroken() const {
  return poisoned_ || PQstatus(conn_.get()) != CONNECTION_OK;
}

Error PgConnection::ErrorFrom(const PGresult* result, std::string_view doing) const {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state != nullptr ? state : "";
  const char* primary =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string reason = OneLine(primary != nullptr ? primary : PQerrorMessage(conn_.get()));
  if (reason.empty()) reason = "unknown error";
  // 23505 is retryable too: barfill's own writes never duplicate a key, so a unique violation
  // means a concurrent writer committed the same chunk first, and redoing replaces it. 25P03:
  // the server ended a session left idle in a transaction, 57014: it cancelled a statement
  // (statement_timeout; a worker paused mid-COPY, once it sends again), 57P01: another worker
  // ended a session stalled past its lease (WorkQueue::EndStalledSessions); the redo meets the
  // lease's fence.
  const bool retryable = IsBroken() || sqlstate.starts_with("08") || sqlstate == "40001" ||
                         sqlstate == "40P01" || sqlstate == "57P01" || sqlstate == "57P02" ||
                         sqlstate == "57P03" || sqlstate == "23505" || sqlstate == "25P03" ||
                         sqlstate == "57014";
  std::string message = describe_ + ": " + std::string(doing) + " failed: " + reason;
  if (!sqlstate.empty()) message += " (SQLSTATE " + sqlstate + ")";
  message += HintFor(sqlstate);
  Error error(retryable ? ErrorCode::kDatabaseRetryable : ErrorCode::kDatabase, message);
  error.request = std::string(doing);
  return error;
}

Status PgConnection::Run(std::string_view sql, std::string_view doing) {
  PgResult result(PQexec(conn_.get(), std::string(sql).c_str()));
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return Fail(ErrorFrom(result.get(), doing));
  }
  return Ok();
}

Result<PgResult> PgConnection::ExecParams(std::string_view sql,
                                          std::span<const SqlValue> params,
                                          ExecStatusType expected) {
  const BinaryParams binary(params);
  PgResult result(PQexecParams(conn_.get(), std::string(sql).c_str(), binary.size(),
                               binary.types(), binary.values(), binary.lengths(),
                               binary.formats(), kBinary));
  if (!result || PQresultStatus(result.get()) != expected) {
    const std::string_view first_words = sql.substr(0, sql.find(' ', sql.find(' ') + 1));
    return Fail(ErrorFrom(result.get(), first_words));
  }
  return result;
}

// Statements queued before the pipeline is drained (a sync, then every result read): their
// answers (~30 bytes each) stay far below what a socket buffers, so the server never blocks on
// writing them while barfill still writes statements.
constexpr int kMaxQueuedStatements = 512;

Status PgConnection::StartPipeline() {
  if (PQenterPipelineMode(conn_.get()) != 1) return Fail(ErrorFrom(nullptr, "entering pipeline mode"));
  pipelining_ = true;
  queued_ = 0;
  pipeline_status_ = Ok();
  return Ok();
}

bool PgConnection::DrainPipeline(std::string_view doing) {
  queued_ = 0;
  if (PQpipelineSync(conn_.get()) != 1) return false;
  // Nulls separate the statements' results; the sync's own result closes the part. Two nulls
  // in a row mean nothing more will come (the connection is gone).
  int nulls_in_a_row = 0;
  while (nulls_in_a_row < 2) {
    PgResult result(PQgetResult(conn_.get()));
    if (!result) {
      ++nulls_in_a_row;
      continue;
    }
    nulls_in_a_row = 0;
    const ExecStatusType type = PQresultStatus(result.get());
    if (type == PGRES_PIPELINE_SYNC) return true;
    if ((type == PGRES_FATAL_ERROR || type == PGRES_BAD_RESPONSE) && pipeline_status_) {
      pipeline_status_ = Fail(ErrorFrom(result.get(), doing));
    }
  }
  return false;
}

Status PgConnection::FinishPipeline(std::string_view doing) {
  pipelining_ = false;
  const bool synced = DrainPipeline(doing);
  Status status = std::move(pipeline_status_);
  pipeline_status_ = Ok();
  if (!synced || PQexitPipelineMode(conn_.get()) != 1) {
    // The connection is in an unknown state: drop it, and let the caller's retry reconnect.
    if (status) {
      Error error = ErrorFrom(nullptr, doing);
      error.code = ErrorCode::kDatabaseRetryable;
      status = Fail(std::move(error));
    }
    poisoned_ = true;
  }
  return status;
}

Status PgConnection::ExecValues(std::string_view sql, std::span<const SqlValue> params) {
  if (pipelining_) {
    const BinaryParams binary(params);
    if (PQsendQueryParams(conn_.get(), std::string(sql).c_str(), binary.size(), binary.types(),
                          binary.values(), binary.lengths(), binary.formats(), kBinary) != 1) {
      return Fail(ErrorFrom(nullptr, "queueing a statement"));
    }
    if (++queued_ >= kMaxQueuedStatements && !DrainPipeline("a pipelined statement")) {
      return Fail(ErrorFrom(nullptr, "reading pipelined results"));
    }
    return Ok();
  }
  auto result = ExecParams(sql, params, PGRES_COMMAND_OK);
  if (!result) return Fail(std::move(result).error());
  return Ok();
}

Status PgConnection::QueryValues(std::string_view sql, std::span<const SqlValue> params,
                           const std::function<Status(const SqlRow&)>& row) {
  auto result = ExecParams(sql, params, PGRES_TUPLES_OK);
  if (!result) return Fail(std::move(result).error());
  const int rows = PQntuples(result->get());
  for (int i = 0; i < rows; ++i) BARFILL_TRY(row(PgRow(result->get(), i)));
  return Ok();
}

Result<std::unique_ptr<PgLink>> PgLink::Open(const std::string& conninfo, const Settings& settings) {
  auto conn = PgConnection::Open(conninfo, settings.connect_timeout, settings.session_options);
  if (!conn) return Fail(std::move(conn).error());
  return std::make_unique<PgLink>(conninfo, settings, std::move(*conn));
}

PgLink::PgLink(std::string conninfo, Settings settings, std::unique_ptr<PgConnection> conn)
    : conninfo_(std::move(conninfo)),
      settings_(settings),
      conn_(std::move(conn)),
      describe_(conn_->Describe()),
      random_(std::random_device{}()) {}

Status PgLink::EnsureConnected() {
  if (connected()) return Ok();
  conn_.reset();
  auto reopened = PgConnection::Open(conninfo_, settings_.connect_timeout, settings_.session_options);
  if (!reopened) {
    Error error = std::move(reopened).error();
    error.code = ErrorCode::kDatabaseRetryable;
    return Fail(std::move(error));
  }
  conn_ = std::move(*reopened);
  if (on_connect_) {
    if (Status set_up = on_connect_(*conn_); !set_up) {
      conn_.reset();
      return set_up;
    }
  }
  return Ok();
}

Status PgLink::WithRetries(const std::function<Status()>& attempt) {
  Clock& clock = settings_.clock != nullptr ? *settings_.clock : RealClock();
  std::chrono::milliseconds delay = settings_.first_delay;
  for (int tries = 1;; ++tries) {
    Status status = attempt();
    if (status) return Ok();
    Error error = std::move(status).error();
    if (connected()) (void)conn_->Run("ROLLBACK", "rolling back");
    // Only the database's own retryable errors: an error a file's producer returned (a gzip
    // stream cut short) is the producer's to handle, not this transaction's to repeat.
    if (!IsRetryable(error) || error.code != ErrorCode::kDatabaseRetryable) return Fail(std::move(error));
    if (tries >= settings_.max_attempts) {
      error.code = ErrorCode::kDatabase;
      error.message += " (gave up after " + std::to_string(tries) + " attempts)";
      return Fail(std::move(error));
    }
    std::uniform_int_distribution<int64_t> jitter(delay.count() / 2, delay.count());
    (void)clock.SleepFor(std::chrono::milliseconds(jitter(random_)), nullptr);
    delay = std::min(delay * 2, settings_.max_delay);
  }
}

Status PgLink::Transaction(std::string_view begin, const std::function<Status(PgConnection&)>& body) {
  return WithRetries([&]() -> Status {
    BARFILL_TRY(EnsureConnected());
    BARFILL_TRY(conn_->Run(begin, "BEGIN"));
    BARFILL_TRY(body(*conn_));
    return conn_->Run("COMMIT", "COMMIT");
  });
}

}  // namespace barfill::store
