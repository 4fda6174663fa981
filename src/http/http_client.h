// Blocking HTTP GET over libcurl: one HttpClient per thread (its own keep-alive connections),
// DNS and TLS sessions shared process-wide. No curl type leaks out of this header.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace barfill::http {

/// Spare bytes kept after every body so that simdjson can parse it in place (>= SIMDJSON_PADDING).
inline constexpr size_t kBodyPadding = 64;

/// Options of one client. Timeouts in ms.
struct HttpOptions {
  int64_t connect_timeout_ms = 10'000;
  int64_t request_timeout_ms = 300'000;
  int64_t low_speed_bytes_per_s = 1024;
  int64_t low_speed_time_ms = 20'000;
  int64_t max_connection_age_ms = 50'000;  ///< idle connections older than this are not reused
  std::string ca_file;                     ///< extra CA bundle; empty = system store
  std::string user_agent = "barfill/0.1";
  bool compressed = true;  ///< ask for gzip/deflate/br/zstd (cheaper wire, more CPU)
  size_t max_body_bytes = size_t{1} << 30;  ///< a larger body fails the request (curl error 23)
  /// Strings that must never appear in an error message (the API key); replaced by "***".
  std::vector<std::string> secrets;
};

/// Per-request overrides of HttpOptions (0 = keep the client's value).
struct RequestTimeouts {
  int64_t request_timeout_ms = 0;
  int64_t low_speed_time_ms = 0;
};

/// A response body that owns `kBodyPadding` spare bytes past its end.
class PaddedBuffer {
 public:
  const char* data() const { return data_.get(); }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  std::string_view view() const { return {data_.get(), size_}; }
  void clear() { size_ = 0; }
  /// Appends bytes; false when `limit` would be exceeded.
  bool Append(const char* bytes, size_t n, size_t limit);
  /// Replaces the contents (tests and benchmarks).
  void Assign(std::string_view text);

 private:
  void Grow(size_t min_size);
  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;  ///< usable bytes, the padding excluded
};

/// One answered request. `body` is valid until the next request on the same client.
struct HttpResponse {
  int status = 0;
  PaddedBuffer body;
  std::optional<std::chrono::milliseconds> retry_after;
  std::string request_id;        ///< X-Request-Id header
  std::string content_type;
  double total_s = 0;            ///< time the transfer took
  int64_t wire_bytes = 0;        ///< bytes on the wire (compressed when gzip was used)
};

/// AWS Signature Version 4 credentials: libcurl signs each request with them
/// (CURLOPT_AWS_SIGV4 "aws:amz:<region>:<service>"). Region and service are always given:
/// left out, libcurl 7.88 guesses them from the host name ("files.massive.com" -> service
/// "files", region "massive").
struct SigV4Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string region = "us-east-1";
  std::string service = "s3";
};

struct StreamResponse;

/// A request whose answer is streamed rather than buffered: a 2xx body goes to `on_body` piece
/// by piece as it arrives, so memory stays flat whatever its size. No Accept-Encoding is sent:
/// the bytes arrive as the server stores them.
struct StreamRequest {
  std::string url;
  std::vector<std::string> headers;    ///< "Name: value"; with SigV4 every one of them is signed
  bool head_only = false;              ///< HEAD: the answer's headers, no body
  const SigV4Credentials* sigv4 = nullptr;  ///< sign with SigV4 when set
  RequestTimeouts timeouts;
  /// Called once the headers of a 2xx answer are complete, before its body; false aborts.
  std::function<bool(const StreamResponse&)> on_headers;
  /// Receives the body of a 2xx answer (unset: the body is dropped); returning false aborts.
  std::function<bool(std::string_view)> on_body;
  size_t max_error_body_bytes = 64 * 1024;  ///< a non-2xx body is kept up to this size
};

/// The answer to a StreamRequest.
struct StreamResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-cased, in order
  std::string error_body;   ///< the body of a non-2xx answer (capped)
  int64_t body_bytes = 0;   ///< bytes handed to on_body
  std::optional<std::chrono::milliseconds> retry_after;
  double total_s = 0;

  /// The value of the last header called `lower_name` ("" when absent).
  std::string_view Header(std::string_view lower_name) const;
};

/// Parses a Retry-After value: delta-seconds or an HTTP-date (relative to `now`). Negative or
/// unparseable values give nullopt; a date in the past gives 0.
std::optional<std::chrono::milliseconds> ParseRetryAfter(
    std::string_view value, std::chrono::system_clock::time_point now);

/// Maps a libcurl result code to an error: retryable kTransport (reset, timeout, DNS, ...),
/// kTransportFatal (bad URL, TLS verification, bad option), kInvalidData for a body over the cap.
Error ClassifyTransportError(int curl_code, std::string_view detail);

/// Removes every secret (and any apiKey=... query value) from `text`.
std::string Redact(std::string_view text, const std::vector<std::string>& secrets);

/// Process-wide libcurl setup: curl_global_init, SIGPIPE ignored (libcurl with NOSIGNAL lets a
/// reset raise it), and the shared DNS/TLS-session cache. Safe to call many times.
void InitializeHttp();

/// One easy handle with its own connection cache (keep-alive), sharing DNS and TLS sessions
/// with every other client. Not thread-safe: use one per thread.
class HttpClient {
 public:
  explicit HttpClient(HttpOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// GETs `url` with extra `headers` ("Name: value"). A transport failure is an error; any HTTP
  /// status is a response. Error messages and Error::request never hold a secret.
  Result<const HttpResponse*> Get(const std::string& url, const std::vector<std::string>& headers,
                                  const RequestTimeouts& timeouts = {});

  /// Sends `request`, streaming a 2xx body to its on_body. A transport failure is an error (the
  /// bytes given to on_body before it stay given); any HTTP status is a response. When on_body
  /// aborts, the error is kInternal "aborted by the receiver": the receiver knows why.
  Result<StreamResponse> Stream(const StreamRequest& request);

  /// Connections opened so far (a keep-alive check for tests and benchmarks).
  int64_t connections_opened() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace barfill::http
