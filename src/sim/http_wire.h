// The simulator's own HTTP/1.1 plumbing: request heads, query strings, base64url, gzip, an owned
// socket and a byte buffer. Written by hand rather than taken from a library because the fault
// modes need control of every byte and of how the socket closes.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

struct z_stream_s;

namespace barfill::sim {

/// An owned file descriptor, closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  /// Closes the descriptor now.
  void Reset();

 private:
  int fd_ = -1;
};

/// A growable byte buffer that never zero-fills, for writing large JSON bodies at full speed.
class ByteBuffer {
 public:
  /// Makes room for `n` more bytes and returns where they go; Commit says how many were written.
  char* Reserve(size_t n);
  void Commit(size_t n) { size_ += n; }
  void Append(std::string_view text);
  void Append(char c) { *Reserve(1) = c; ++size_; }
  void Clear() { size_ = 0; }
  /// Drops everything after the first `n` bytes.
  void Truncate(size_t n) { size_ = n < size_ ? n : size_; }

  const char* data() const { return data_.get(); }
  size_t size() const { return size_; }
  std::string_view view() const { return {data_.get(), size_}; }

 private:
  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

/// A gzip (RFC 1952) encoder at a fast level, reused across responses of one connection.
class GzipEncoder {
 public:
  GzipEncoder();
  ~GzipEncoder();
  GzipEncoder(const GzipEncoder&) = delete;
  GzipEncoder& operator=(const GzipEncoder&) = delete;

  /// Replaces `out` with the gzip member of `input`.
  Status Compress(std::string_view input, ByteBuffer* out);

 private:
  std::unique_ptr<z_stream_s> stream_;
  bool ready_ = false;
};

/// The parts of a request the simulator looks at.
struct HttpRequest {
  std::string method;
  std::string target;         ///< as sent: path plus "?query"
  std::string host;           ///< Host header ("" when absent)
  std::string authorization;  ///< Authorization header
  bool accepts_gzip = false;  ///< Accept-Encoding lists gzip
  bool keep_alive = true;     ///< HTTP/1.1 without "Connection: close", or 1.0 with keep-alive
  /// Every header in order: name lower-cased, value trimmed (SigV4 signs any of them).
  std::vector<std::pair<std::string, std::string>> headers;

  /// The values of every header called `lower_name`, joined with "," ("" when absent).
  std::string Header(std::string_view lower_name) const;

  std::string_view path() const;
  std::string_view query() const;  ///< without the '?'
};

enum class HeadStatus { kIncomplete, kComplete, kInvalid };

/// Largest request head accepted; Polygon URLs are far shorter.
inline constexpr size_t kMaxRequestHead = 64 * 1024;

/// Parses the request at the front of `buffer`. On kComplete, `*consumed` is its length (head
/// plus any Content-Length body, which is skipped).
HeadStatus ParseRequestHead(std::string_view buffer, HttpRequest* request, size_t* consumed);

/// Whether the comma-separated header list holds `token` (case-insensitive; ";q=..." parameters
/// and spaces around items ignored).
bool ContainsTokenIgnoreCase(std::string_view list, std::string_view token);

/// "%3A" -> ":"; in a query value "+" means a space. Invalid escapes are kept as they are.
std::string PercentDecode(std::string_view text, bool plus_is_space);

/// The key=value pairs of a query string, percent-decoded, in order.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);

/// The query string without the parameters named `key` (for logs: never show the API key).
std::string RemoveQueryParam(std::string_view query, std::string_view key);

/// RFC 4648 base64url without padding, as in Polygon's cursors.
std::string Base64UrlEncode(std::string_view bytes);
/// Decodes base64url with or without padding; nullopt on any other character.
std::optional<std::string> Base64UrlDecode(std::string_view text);

/// "OK", "Not Found", ... for the statuses the simulator sends.
std::string_view ReasonPhrase(int status);

/// Appends `text` to `out` as the inside of a JSON string (quotes not included).
void AppendJsonEscaped(ByteBuffer* out, std::string_view text);

}  // namespace barfill::sim
