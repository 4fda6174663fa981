#include "sim/http_wire.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstring>

#include "core/json.h"

namespace barfill::sim {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

bool ContainsTokenIgnoreCase(std::string_view list, std::string_view token) {
  // Comma-separated list with optional parameters ("gzip;q=1.0, deflate").
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t end = list.find(',', pos);
    if (end == std::string_view::npos) end = list.size();
    std::string_view item = list.substr(pos, end - pos);
    item = item.substr(0, item.find(';'));
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (EqualsIgnoreCase(item, token)) return true;
    pos = end + 1;
  }
  return false;
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr std::string_view kBase64UrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// zlib: 16 + MAX_WBITS asks for the gzip wrapper; level 1 because the simulator must never be
// the bottleneck, and memLevel 8 is zlib's default.
constexpr int kGzipWindowBits = 16 + MAX_WBITS;
constexpr int kGzipLevel = 1;
constexpr int kGzipMemLevel = 8;

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    Reset();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void UniqueFd::Reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

char* ByteBuffer::Reserve(size_t n) {
  if (capacity_ - size_ < n) {
    const size_t wanted = std::max(size_ + n, capacity_ * 2 + 4096);
    auto bigger = std::make_unique_for_overwrite<char[]>(wanted);
    if (size_ > 0) std::memcpy(bigger.get(), data_.get(), size_);
    data_ = std::move(bigger);
    capacity_ = wanted;
  }
  return data_.get() + size_;
}

void ByteBuffer::Append(std::string_view text) {
  if (text.empty()) return;
  std::memcpy(Reserve(text.size()), text.data(), text.size());
  size_ += text.size();
}

GzipEncoder::GzipEncoder() : stream_(std::make_unique<z_stream_s>()) {
  std::memset(stream_.get(), 0, sizeof(z_stream_s));
  ready_ = deflateInit2(stream_.get(), kGzipLevel, Z_DEFLATED, kGzipWindowBits, kGzipMemLevel,
                        Z_DEFAULT_STRATEGY) == Z_OK;
}

GzipEncoder::~GzipEncoder() {
  if (ready_) deflateEnd(stream_.get());
}

Status GzipEncoder::Compress(std::string_view input, ByteBuffer* out) {
  if (!ready_) return Fail(ErrorCode::kInternal, "zlib deflateInit2 failed");
  if (deflateReset(stream_.get()) != Z_OK) return Fail(ErrorCode::kInternal, "zlib deflateReset failed");
  out->Clear();
  z_stream& z = *stream_;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  z.avail_in = static_cast<uInt>(input.size());
  const size_t bound = deflateBound(&z, static_cast<uLong>(input.size()));
  z.next_out = reinterpret_cast<Bytef*>(out->Reserve(bound));
  z.avail_out = static_cast<uInt>(bound);
  const int rc = deflate(&z, Z_FINISH);
  if (rc != Z_STREAM_END) return Fail(ErrorCode::kInternal, "zlib deflate did not finish");
  out->Commit(bound - z.avail_out);
  return Ok();
}

std::string_view HttpRequest::path() const {
  const size_t q = target.find('?');
  return std::string_view(target).substr(0, q);
}

std::string_view HttpRequest::query() const {
  const size_t q = target.find('?');
  return q == std::string::npos ? std::string_view() : std::string_view(target).substr(q + 1);
}

std::string HttpRequest::Header(std::string_view lower_name) const {
  std::string joined;
  bool found = false;
  for (const auto& [name, value] : headers) {
    if (name != lower_name) continue;
    if (found) joined += ',';
    joined += value;
    found = true;
  }
  return joined;
}

HeadStatus ParseRequestHead(std::string_view buffer, HttpRequest* request, size_t* consumed) {
  const size_t end = buffer.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    return buffer.size() > kMaxRequestHead ? HeadStatus::kInvalid : HeadStatus::kIncomplete;
  }
  if (end > kMaxRequestHead) return HeadStatus::kInvalid;
  const std::string_view head = buffer.substr(0, end);

  size_t line_end = head.find("\r\n");
  const std::string_view request_line = head.substr(0, line_end);
  const size_t sp1 = request_line.find(' ');
  const size_t sp2 = request_line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return HeadStatus::kInvalid;
  const std::string_view version = request_line.substr(sp2 + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return HeadStatus::kInvalid;
  *request = HttpRequest();
  request->method = std::string(request_line.substr(0, sp1));
  request->target = std::string(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
  if (request->target.empty() || request->target.find(' ') != std::string::npos) return HeadStatus::kInvalid;
  bool keep_alive = version == "HTTP/1.1";

  size_t body_length = 0;
  while (line_end != std::string_view::npos) {
    const size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string_view line = head.substr(start, line_end == std::string_view::npos ? std::string_view::npos : line_end - start);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return HeadStatus::kInvalid;
    const std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    std::string lower_name(name);
    for (char& c : lower_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    request->headers.emplace_back(std::move(lower_name), std::string(value));
    if (EqualsIgnoreCase(name, "host")) {
      request->host = std::string(value);
    } else if (EqualsIgnoreCase(name, "authorization")) {
      request->authorization = std::string(value);
    } else if (EqualsIgnoreCase(name, "accept-encoding")) {
      request->accepts_gzip = ContainsTokenIgnoreCase(value, "gzip");
    } else if (EqualsIgnoreCase(name, "connection")) {
      if (ContainsTokenIgnoreCase(value, "close")) keep_alive = false;
      if (ContainsTokenIgnoreCase(value, "keep-alive")) keep_alive = true;
    } else if (EqualsIgnoreCase(name, "content-length")) {
      const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), body_length);
      if (ec != std::errc() || ptr != value.data() + value.size()) return HeadStatus::kInvalid;
    } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
      return HeadStatus::kInvalid;  // GET requests carry no chunked bodies
    }
  }
  request->keep_alive = keep_alive;
  const size_t total = end + 4 + body_length;
  if (buffer.size() < total) return HeadStatus::kIncomplete;
  *consumed = total;
  return HeadStatus::kComplete;
}

std::string PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 && HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  while (pos < query.size()) {
    size_t end = query.find('&', pos);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view item = query.substr(pos, end - pos);
    if (!item.empty()) {
      const size_t eq = item.find('=');
      const std::string_view key = item.substr(0, eq);
      const std::string_view value = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
      out.emplace_back(PercentDecode(key, true), PercentDecode(value, true));
    }
    pos = end + 1;
  }
  return out;
}

std::string RemoveQueryParam(std::string_view query, std::string_view key) {
  std::string out;
  size_t pos = 0;
  while (pos < query.size()) {
    size_t end = query.find('&', pos);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view item = query.substr(pos, end - pos);
    const std::string_view name = item.substr(0, item.find('='));
    if (!item.empty() && PercentDecode(name, true) != key) {
      if (!out.empty()) out.push_back('&');
      out.append(item);
    }
    pos = end + 1;
  }
  return out;
}

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  const auto at = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kBase64UrlAlphabet[(v >> shift) & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t v = at(i) << 16;
    out.push_back(kBase64UrlAlphabet[(v >> 18) & 63]);
    out.push_back(kBase64UrlAlphabet[(v >> 12) & 63]);
  } else if (rest == 2) {
    const uint32_t v = at(i) << 16 | at(i + 1) << 8;
    out.push_back(kBase64UrlAlphabet[(v >> 18) & 63]);
    out.push_back(kBase64UrlAlphabet[(v >> 12) & 63]);
    out.push_back(kBase64UrlAlphabet[(v >> 6) & 63]);
  }
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (const char c : text) {
    const size_t v = kBase64UrlAlphabet.find(c);
    if (v == std::string_view::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 206: return "Partial Content";
    case 304: return "Not Modified";
    case 412: return "Precondition Failed";
    case 416: return "Range Not Satisfiable";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

void AppendJsonEscaped(ByteBuffer* out, std::string_view text) {
  EscapeJson(text, [out](std::string_view piece) { out->Append(piece); });
}

}  // namespace barfill::sim
