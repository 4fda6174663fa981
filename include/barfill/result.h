// Errors as values: Result<T> is shaped like std::expected<T, Error> so that moving to C++23
// is a rename. One Error type carries everything a caller needs to decide what to do next.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "barfill/export.h"

namespace barfill {

/// What kind of failure this is, chosen by what the caller should do about it.
enum class ErrorCode {
  kUsage,            ///< bad flag or argument (exit 2)
  kConfig,           ///< bad plan file / configuration (exit 2)
  kAuth,             ///< 401/403/NOT_AUTHORIZED: key or plan refused, stop the run (exit 3)
  kBadRequest,       ///< 400/404: this request is wrong; fail only its chunk
  kRateLimited,      ///< 429: retry after backing off
  kServerError,      ///< 5xx or 408: retry
  kTransport,        ///< connection/transport failure worth retrying (reset, timeout, ...)
  kTransportFatal,   ///< transport failure that retrying cannot fix (bad URL, TLS verify)
  kBadResponse,      ///< invalid/truncated JSON, count mismatch: retry
  kInvalidData,      ///< bars that fail validation: reject the chunk, do not retry
  kDatabase,         ///< database error (exit 4)
  kDatabaseRetryable,///< lost connection, serialization failure, deadlock: retry the transaction
  kInterrupted,      ///< SIGINT/SIGTERM (exit 130)
  kNetworkGaveUp,    ///< retry budget or attempts exhausted on a retryable failure (exit 5)
  kNotFound,         ///< a requested local thing does not exist (file, series)
  kInternal,         ///< a bug
  kLeaseLost,        ///< a worker's lease on a queue item was taken over: its commit is refused
};

/// Short stable name of a code, for reports and logs ("rate_limited", ...).
BARFILL_API const char* ErrorCodeName(ErrorCode code);

/// One error type for the whole program. `request` must never contain the API key.
struct BARFILL_API Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  int http_status = 0;                                     ///< 0 when no HTTP answer
  std::optional<std::chrono::milliseconds> retry_after;    ///< from a Retry-After header
  std::string request;                                     ///< sanitized URL or SQL context

  Error() = default;
  Error(ErrorCode c, std::string msg) : code(c), message(std::move(msg)) {}

  /// "message" plus " (HTTP 503)" when there was a status.
  std::string ToString() const;
};

/// The single place that decides whether an error is worth retrying.
BARFILL_API bool IsRetryable(const Error& error);

/// Wraps an Error for returning from a function that returns Result<T>.
struct Unexpected {
  Error error;
};

inline Unexpected Fail(ErrorCode code, std::string message) {
  return Unexpected{Error(code, std::move(message))};
}
inline Unexpected Fail(Error error) { return Unexpected{std::move(error)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : storage_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(implicit)
  Result(Unexpected u) : storage_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT

  bool has_value() const { return storage_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(storage_); }
  const T& value() const& { return std::get<0>(storage_); }
  T&& value() && { return std::get<0>(std::move(storage_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(storage_); }
  Error&& error() && { return std::get<1>(std::move(storage_)); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Error> storage_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected u) : error_(std::move(u.error)) {}  // NOLINT(implicit)

  bool has_value() const { return !error_.has_value(); }
  explicit operator bool() const { return has_value(); }
  const Error& error() const& { return *error_; }
  Error&& error() && { return std::move(*error_); }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

inline Status Ok() { return {}; }

}  // namespace barfill

/// Propagate an error: `BARFILL_TRY(DoThing());` returns early on failure.
#define BARFILL_TRY(expr)                                        \
  do {                                                           \
    auto barfill_try_result_ = (expr);                           \
    if (!barfill_try_result_) {                                  \
      return ::barfill::Unexpected{std::move(barfill_try_result_).error()}; \
    }                                                            \
  } while (0)
