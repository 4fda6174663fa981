#include "http/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <csignal>
#include <cstring>
#include <mutex>

namespace barfill::http {
namespace {

constexpr std::string_view kRedacted = "***";
constexpr long kReceiveBufferBytes = 256 * 1024;
constexpr size_t kInitialBodyCapacity = 64 * 1024;

// Curl handles owned by RAII.
struct EasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;
using HeaderList = std::unique_ptr<curl_slist, SlistDeleter>;

// The process-wide share: DNS cache and TLS sessions. The connection cache is deliberately not
// shared: libcurl's shared connection pool is not thread-safe (curl known bug "A shared
// connection cache is not thread-safe", curl#4915), so each client keeps its own connections.
class Share {
 public:
  Share() : share_(curl_share_init()) {
    curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, &Share::Lock);
    curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, &Share::Unlock);
    curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }
  // Lives until exit (handles of other threads may still point at it during shutdown).
  CURLSH* get() const { return share_; }

 private:
  static void Lock(CURL*, curl_lock_data data, curl_lock_access, void* self) {
    static_cast<Share*>(self)->mutexes_[Index(data)].lock();
  }
  static void Unlock(CURL*, curl_lock_data data, void* self) {
    static_cast<Share*>(self)->mutexes_[Index(data)].unlock();
  }
  static size_t Index(curl_lock_data data) {
    return std::min<size_t>(static_cast<size_t>(data), kLocks - 1);
  }
  static constexpr size_t kLocks = CURL_LOCK_DATA_LAST + 1;
  CURLSH* share_;
  std::array<std::mutex, kLocks> mutexes_;
};

Share& GlobalShare() {
  static Share* const share = [] {
    InitializeHttp();
    return new Share();  // intentionally leaked: see Share::get
  }();
  return *share;
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

/// The curl list of `headers`, or nullopt when out of memory.
std::optional<HeaderList> MakeHeaderList(const std::vector<std::string>& headers) {
  HeaderList list;
  for (const std::string& header : headers) {
    curl_slist* grown = curl_slist_append(list.get(), header.c_str());
    if (grown == nullptr) return std::nullopt;
    list.release();
    list.reset(grown);
  }
  return list;
}

/// The HTTP status of a status line such as "HTTP/1.1 206 Partial Content" (0 if unreadable).
int StatusOfLine(std::string_view line) {
  const size_t space = line.find(' ');
  if (space == std::string_view::npos) return 0;
  int status = 0;
  const std::string_view rest = line.substr(space + 1);
  std::from_chars(rest.data(), rest.data() + rest.size(), status);
  return status;
}

}  // namespace

// ---- PaddedBuffer -----------------------------------------------------------------------------

void PaddedBuffer::Grow(size_t min_size) {
  size_t capacity = std::max(capacity_ * 2, std::max(min_size, kInitialBodyCapacity));
  // Not zero-filled: pages the body never reaches are never touched, so they cost no memory.
  auto fresh = std::make_unique_for_overwrite<char[]>(capacity + kBodyPadding);
  if (size_ > 0) std::memcpy(fresh.get(), data_.get(), size_);
  data_ = std::move(fresh);
  capacity_ = capacity;
}

bool PaddedBuffer::Append(const char* bytes, size_t n, size_t limit) {
  if (size_ + n > limit) return false;
  if (size_ + n > capacity_) Grow(size_ + n);
  std::memcpy(data_.get() + size_, bytes, n);
  size_ += n;
  std::memset(data_.get() + size_, 0, kBodyPadding);
  return true;
}

void PaddedBuffer::Assign(std::string_view text) {
  clear();
  if (text.size() > capacity_) Grow(text.size());
  if (!text.empty()) std::memcpy(data_.get(), text.data(), text.size());
  size_ = text.size();
  std::memset(data_.get() + size_, 0, kBodyPadding);
}

// ---- free functions ---------------------------------------------------------------------------

std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value,
                                                         std::chrono::system_clock::time_point now) {
  value = Trim(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    int64_t seconds = 0;
    const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc::result_out_of_range) return std::chrono::hours(24 * 365);
    if (ec != std::errc()) return std::nullopt;
    // Anything beyond a year is as good as a year; the caller caps it far lower anyway.
    seconds = std::min<int64_t>(seconds, int64_t{365} * 24 * 3600);
    return std::chrono::milliseconds(seconds * 1000);
  }
  const std::string text(value);
  const time_t when = curl_getdate(text.c_str(), nullptr);
  if (when < 0) return std::nullopt;
  const auto delta = std::chrono::system_clock::from_time_t(when) - now;
  if (delta <= std::chrono::system_clock::duration::zero()) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(delta);
}

Error ClassifyTransportError(int curl_code, std::string_view detail) {
  const auto code = static_cast<CURLcode>(curl_code);
  std::string message = "transport error: ";
  message += detail.empty() ? curl_easy_strerror(code) : std::string(detail);
  message += " (curl " + std::to_string(curl_code) + ")";
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_HTTP2:
    case CURLE_PARTIAL_FILE:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING:  // a gzip stream cut short
      return Error(ErrorCode::kTransport, std::move(message));
    case CURLE_WRITE_ERROR:
      return Error(ErrorCode::kInvalidData,
                   "response body larger than the configured cap; refusing it (curl 23)");
    default:
      // 3 URL_MALFORMAT, 60 PEER_FAILED_VERIFICATION, 43/48 bad option, 77 CA file, ...:
      // our configuration or our bug; retrying cannot help.
      return Error(ErrorCode::kTransportFatal, std::move(message));
  }
}

std::string Redact(std::string_view text, const std::vector<std::string>& secrets) {
  std::string out(text);
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (size_t pos = out.find(secret); pos != std::string::npos; pos = out.find(secret, pos)) {
      out.replace(pos, secret.size(), kRedacted);
      pos += kRedacted.size();
    }
  }
  // Whatever the secrets list says, a query apiKey value never survives.
  constexpr std::string_view kParam = "apiKey=";
  for (size_t pos = out.find(kParam); pos != std::string::npos; pos = out.find(kParam, pos)) {
    const size_t value = pos + kParam.size();
    size_t end = value;
    while (end < out.size() && out[end] != '&' && out[end] != '#' && out[end] != ' ' &&
           out[end] != '"' && out[end] != '\'') {
      ++end;
    }
    out.replace(value, end - value, kRedacted);
    pos = value + kRedacted.size();
  }
  return out;
}

void InitializeHttp() {
  static std::once_flag once;
  std::call_once(once, [] {
    // With CURLOPT_NOSIGNAL libcurl no longer shields us from SIGPIPE: a write to a socket the
    // peer reset would kill the process (the seed's "Broken pipe").
    std::signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
  });
}

// ---- HttpClient -------------------------------------------------------------------------------

struct HttpClient::Impl {
  HttpOptions options;
  EasyHandle easy;
  HttpResponse response;
  char error_buffer[CURL_ERROR_SIZE] = {};
  bool body_over_cap = false;
  int64_t connections = 0;

  // The Stream call in flight (null otherwise).
  const StreamRequest* stream_request = nullptr;
  StreamResponse* stream_response = nullptr;
  bool stream_aborted = false;

  static size_t OnStreamBody(char* data, size_t size, size_t count, void* user) {
    auto* self = static_cast<Impl*>(user);
    const size_t n = size * count;
    StreamResponse& response = *self->stream_response;
    if (response.status >= 200 && response.status < 300) {
      if (self->stream_request->on_body && !self->stream_request->on_body({data, n})) {
        self->stream_aborted = true;
        return 0;  // aborts the transfer with CURLE_WRITE_ERROR
      }
      response.body_bytes += static_cast<int64_t>(n);
      return n;
    }
    const size_t room = self->stream_request->max_error_body_bytes - std::min(
        self->stream_request->max_error_body_bytes, response.error_body.size());
    response.error_body.append(data, std::min(n, room));
    return n;
  }

  static size_t OnStreamHeader(char* data, size_t size, size_t count, void* user) {
    auto* self = static_cast<Impl*>(user);
    const size_t n = size * count;
    StreamResponse& response = *self->stream_response;
    const std::string_view line(data, n);
    if (line.rfind("HTTP/", 0) == 0) {
      response.status = StatusOfLine(line);
      response.headers.clear();
      response.retry_after.reset();
      return n;
    }
    if (Trim(line).empty()) {
      // The blank line that ends a header block: the body (if any) follows.
      const bool success = response.status >= 200 && response.status < 300;
      if (success && self->stream_request->on_headers && !self->stream_request->on_headers(response)) {
        self->stream_aborted = true;
        return 0;
      }
      return n;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return n;
    std::string name(Trim(line.substr(0, colon)));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string_view value = Trim(line.substr(colon + 1));
    if (name == "retry-after") {
      response.retry_after = ParseRetryAfter(value, std::chrono::system_clock::now());
    }
    response.headers.emplace_back(std::move(name), std::string(value));
    return n;
  }

  static size_t OnBody(char* data, size_t size, size_t count, void* user) {
    auto* self = static_cast<Impl*>(user);
    const size_t n = size * count;
    if (!self->response.body.Append(data, n, self->options.max_body_bytes)) {
      self->body_over_cap = true;
      return 0;  // aborts the transfer with CURLE_WRITE_ERROR
    }
    return n;
  }

  static size_t OnHeader(char* data, size_t size, size_t count, void* user) {
    auto* self = static_cast<Impl*>(user);
    const size_t n = size * count;
    const std::string_view line(data, n);
    if (line.starts_with("HTTP/")) {
      // A new header block (after a 100 Continue, say): forget the previous one.
      self->response.retry_after.reset();
      self->response.request_id.clear();
      self->response.content_type.clear();
      return n;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return n;
    const std::string_view name = Trim(line.substr(0, colon));
    const std::string_view value = Trim(line.substr(colon + 1));
    if (IEquals(name, "Retry-After")) {
      self->response.retry_after = ParseRetryAfter(value, std::chrono::system_clock::now());
    } else if (IEquals(name, "X-Request-Id")) {
      self->response.request_id.assign(value);
    } else if (IEquals(name, "Content-Type")) {
      self->response.content_type.assign(value);
    }
    return n;
  }

  void ApplyTimeouts(int64_t request_timeout_ms, int64_t low_speed_time_ms) {
    CURL* h = easy.get();
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request_timeout_ms));
    // libcurl counts the low-speed window in whole seconds.
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
                     static_cast<long>(std::max<int64_t>(1, (low_speed_time_ms + 999) / 1000)));
  }

  void Configure() {
    CURL* h = easy.get();
    curl_easy_setopt(h, CURLOPT_SHARE, GlobalShare().get());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Impl::OnBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &Impl::OnHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    // "" = every encoding libcurl can decode; nullptr = no Accept-Encoding at all.
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, options.compressed ? "" : nullptr);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, kReceiveBufferBytes);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout_ms));
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(options.low_speed_bytes_per_s));
    ApplyTimeouts(options.request_timeout_ms, options.low_speed_time_ms);
    curl_easy_setopt(h, CURLOPT_MAXAGE_CONN,
                     static_cast<long>(std::max<int64_t>(1, options.max_connection_age_ms / 1000)));
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options.ca_file.c_str());
    curl_easy_setopt(h, CURLOPT_USERAGENT, options.user_agent.c_str());
    // Redirects are not followed: the API does not send them, and following one could carry the
    // Authorization header somewhere unexpected.
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  }
};

HttpClient::HttpClient(HttpOptions options) : impl_(std::make_unique<Impl>()) {
  InitializeHttp();
  impl_->options = std::move(options);
  impl_->easy.reset(curl_easy_init());
  if (impl_->easy) impl_->Configure();
}

HttpClient::~HttpClient() = default;

int64_t HttpClient::connections_opened() const { return impl_->connections; }

Result<const HttpResponse*> HttpClient::Get(const std::string& url,
                                            const std::vector<std::string>& headers,
                                            const RequestTimeouts& timeouts) {
  Impl& s = *impl_;
  const std::string shown_url = Redact(url, s.options.secrets);
  if (!s.easy) {
    Error error(ErrorCode::kTransportFatal, "libcurl could not create a handle");
    error.request = shown_url;
    return Fail(std::move(error));
  }
  std::optional<HeaderList> list = MakeHeaderList(headers);
  if (!list) return Fail(ErrorCode::kInternal, "out of memory building headers");
  CURL* h = s.easy.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list->get());
  s.ApplyTimeouts(timeouts.request_timeout_ms > 0 ? timeouts.request_timeout_ms
                                                   : s.options.request_timeout_ms,
                  timeouts.low_speed_time_ms > 0 ? timeouts.low_speed_time_ms
                                                 : s.options.low_speed_time_ms);
  s.response.status = 0;
  s.response.body.clear();
  s.response.retry_after.reset();
  s.response.request_id.clear();
  s.response.content_type.clear();
  s.body_over_cap = false;
  s.error_buffer[0] = '\0';

  const CURLcode rc = curl_easy_perform(h);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);

  long connects = 0;
  if (curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK) s.connections += connects;
  if (rc != CURLE_OK) {
    Error error = ClassifyTransportError(rc, Redact(s.error_buffer, s.options.secrets));
    if (s.body_over_cap) {
      error.message = "response body larger than " + std::to_string(s.options.max_body_bytes) +
                      " bytes; refusing it";
    }
    error.request = shown_url;
    return Fail(std::move(error));
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  s.response.status = static_cast<int>(status);
  double total = 0;
  curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &total);
  s.response.total_s = total;
  curl_off_t wire = 0;
  curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &wire);
  s.response.wire_bytes = static_cast<int64_t>(wire);
  return &s.response;
}

std::string_view StreamResponse::Header(std::string_view lower_name) const {
  std::string_view found;
  for (const auto& [name, value] : headers) {
    if (name == lower_name) found = value;
  }
  return found;
}

Result<StreamResponse> HttpClient::Stream(const StreamRequest& request) {
  Impl& s = *impl_;
  std::vector<std::string> secrets = s.options.secrets;
  if (request.sigv4 != nullptr) secrets.push_back(request.sigv4->secret_access_key);
  const std::string shown_url = Redact(request.url, secrets);
  if (!s.easy) {
    Error error(ErrorCode::kTransportFatal, "libcurl could not create a handle");
    error.request = shown_url;
    return Fail(std::move(error));
  }
  std::optional<HeaderList> list = MakeHeaderList(request.headers);
  if (!list) return Fail(ErrorCode::kInternal, "out of memory building headers");

  StreamResponse response;
  s.stream_request = &request;
  s.stream_response = &response;
  s.stream_aborted = false;
  s.error_buffer[0] = '\0';
  CURL* h = s.easy.get();
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list->get());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Impl::OnStreamBody);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &Impl::OnStreamHeader);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, nullptr);
  if (request.head_only) curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  if (request.sigv4 != nullptr) {
    const std::string provider = "aws:amz:" + request.sigv4->region + ":" + request.sigv4->service;
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, provider.c_str());  // libcurl copies the string
    curl_easy_setopt(h, CURLOPT_USERNAME, request.sigv4->access_key_id.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, request.sigv4->secret_access_key.c_str());
  }
  s.ApplyTimeouts(request.timeouts.request_timeout_ms > 0 ? request.timeouts.request_timeout_ms
                                                          : s.options.request_timeout_ms,
                  request.timeouts.low_speed_time_ms > 0 ? request.timeouts.low_speed_time_ms
                                                         : s.options.low_speed_time_ms);

  const CURLcode rc = curl_easy_perform(h);

  // Back to the state Get expects.
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Impl::OnBody);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &Impl::OnHeader);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, s.options.compressed ? "" : nullptr);
  if (request.head_only) {
    curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  }
  if (request.sigv4 != nullptr) {
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, nullptr);
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(h, CURLOPT_USERNAME, nullptr);
    curl_easy_setopt(h, CURLOPT_PASSWORD, nullptr);
  }
  s.stream_request = nullptr;
  s.stream_response = nullptr;

  long connects = 0;
  if (curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK) s.connections += connects;
  if (rc != CURLE_OK) {
    Error error = s.stream_aborted
                      ? Error(ErrorCode::kInternal, "transfer aborted by the receiver of the body")
                      : ClassifyTransportError(rc, Redact(s.error_buffer, secrets));
    error.http_status = response.status;
    error.request = shown_url;
    return Fail(std::move(error));
  }
  double total = 0;
  curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &total);
  response.total_s = total;
  return response;
}

}  // namespace barfill::http
