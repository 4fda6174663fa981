#include "sim/s3_api.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>

#include "sim/hash.h"
#include "sim/s3_sigv4.h"

namespace barfill::sim {
namespace {

constexpr int kMaxKeysCap = 1000;
constexpr std::string_view kXmlDeclaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
constexpr std::string_view kXmlNamespace = "http://s3.amazonaws.com/doc/2006-03-01/";
constexpr std::string_view kObjectContentType = "application/octet-stream";
// Continuation tokens: standard base64 of this tag, the last key or common prefix listed, and
// NUL filler. The tag's bytes encode as "+/+/" and the filler forces "==" padding, so every
// token holds the three characters a client must percent-encode, as real tokens often do.
constexpr std::string_view kTokenTag = "\xfb\xff\xbf";

bool StartsWith(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void AppendXmlEscaped(std::string* out, std::string_view text) {
  for (const char c : text) {
    switch (c) {
      case '&': *out += "&amp;"; break;
      case '<': *out += "&lt;"; break;
      case '>': *out += "&gt;"; break;
      case '"': *out += "&quot;"; break;
      case '\'': *out += "&apos;"; break;
      default: *out += c;
    }
  }
}

void Element(std::string* out, std::string_view name, std::string_view text) {
  *out += '<';
  *out += name;
  *out += '>';
  AppendXmlEscaped(out, text);
  *out += "</";
  *out += name;
  *out += '>';
}

constexpr std::string_view kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  size_t i = 0;
  const auto at = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    for (int shift = 18; shift >= 0; shift -= 6) out += kBase64[(v >> shift) & 63];
  }
  if (const size_t rest = bytes.size() - i; rest > 0) {
    const uint32_t v = at(i) << 16 | (rest == 2 ? at(i + 1) << 8 : 0);
    out += kBase64[(v >> 18) & 63];
    out += kBase64[(v >> 12) & 63];
    out += rest == 2 ? kBase64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  size_t padding = 0;
  for (const char c : text) {
    if (c == '=') {
      ++padding;
      continue;
    }
    const size_t v = kBase64.find(c);
    if (v == std::string_view::npos || padding > 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  if (padding > 2) return std::nullopt;
  return out;
}

std::string EncodeToken(std::string_view after) {
  std::string payload = std::string(kTokenTag) + std::string(after);
  while (payload.size() % 3 != 1) payload += '\0';
  return Base64Encode(payload);
}

std::optional<std::string> DecodeToken(std::string_view token) {
  auto payload = Base64Decode(token);
  if (!payload || !StartsWith(*payload, kTokenTag)) return std::nullopt;
  while (!payload->empty() && payload->back() == '\0') payload->pop_back();
  return payload->substr(kTokenTag.size());
}

/// One byte range of a Range header, resolved against the object's size.
struct ByteRange {
  int64_t first = 0;
  int64_t last = 0;  // inclusive
  bool satisfiable = true;
};

/// Reads "bytes=a-b", "bytes=a-" or "bytes=-n"; nullopt when absent or not one valid range,
/// which HTTP says to ignore (serve the whole object).
std::optional<ByteRange> ParseRange(std::string_view header, int64_t size) {
  constexpr std::string_view kUnit = "bytes=";
  if (header.substr(0, kUnit.size()) != kUnit) return std::nullopt;
  header.remove_prefix(kUnit.size());
  if (header.find(',') != std::string_view::npos) return std::nullopt;
  const size_t dash = header.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const std::string_view a = header.substr(0, dash);
  const std::string_view b = header.substr(dash + 1);
  const auto number = [](std::string_view text, int64_t* out) {
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
    return !text.empty() && ec == std::errc() && ptr == text.data() + text.size() && *out >= 0;
  };
  ByteRange range;
  if (a.empty()) {
    int64_t suffix = 0;
    if (!number(b, &suffix) || suffix == 0) return std::nullopt;
    range.first = std::max<int64_t>(0, size - suffix);
    range.last = size - 1;
    range.satisfiable = size > 0;
    return range;
  }
  if (!number(a, &range.first)) return std::nullopt;
  range.last = size - 1;
  if (!b.empty()) {
    if (!number(b, &range.last) || range.last < range.first) return std::nullopt;
    range.last = std::min(range.last, size - 1);
  }
  range.satisfiable = range.first < size;
  return range;
}

/// Whether an If-Match / If-None-Match list names `etag` ("*" names any; a weak W/ form too).
bool ListsEtag(std::string_view list, const std::string& quoted_etag) {
  return ContainsTokenIgnoreCase(list, "*") || ContainsTokenIgnoreCase(list, quoted_etag) ||
         ContainsTokenIgnoreCase(list, "W/" + quoted_etag);
}

}  // namespace

std::string FormatHttpDate(int64_t ms) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const int64_t days = FloorDiv(ms, kMsPerDay);
  const int64_t in_day = ms - days * kMsPerDay;
  const CalendarDay day = CalendarDay::FromDaysSinceEpoch(days);
  char text[64];
  std::snprintf(text, sizeof text, "%s, %02u %s %04d %02lld:%02lld:%02lld GMT", kDays[day.Weekday()], day.day,
                kMonths[day.month - 1], day.year, static_cast<long long>(in_day / kMsPerHour),
                static_cast<long long>(in_day % kMsPerHour / kMsPerMinute),
                static_cast<long long>(in_day % kMsPerMinute / kMsPerSecond));
  return text;
}

std::string FormatIsoMillis(int64_t ms) {
  std::string text = FormatIsoUtc(ms);
  if (text.find('.') == std::string::npos) text.insert(text.size() - 1, ".000");
  return text;
}

std::string_view S3Reply::Body() const {
  if (object) return std::string_view(object->bytes).substr(object_offset, object_length);
  return xml;
}

std::string S3Stats::ToJson() const {
  std::string out = "{";
  const auto field = [&](const char* name, int64_t value) {
    out += "\"" + std::string(name) + "\":" + std::to_string(value) + ",";
  };
  field("requests", requests);
  field("lists", lists);
  field("gets", gets);
  field("heads", heads);
  field("range_requests", range_requests);
  field("object_bytes", object_bytes);
  field("not_modified", not_modified);
  field("precondition_failed", precondition_failed);
  field("range_not_satisfiable", range_not_satisfiable);
  field("auth_refused", auth_refused);
  field("denied", denied);
  field("missing", missing);
  field("resets", resets);
  field("slowdowns", slowdowns);
  field("generated", generated);
  field("generated_bytes", generated_bytes);
  field("cache_hits", cache_hits);
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.3f", generation_s);
  out += "\"generation_s\":" + std::string(seconds) + "}";
  return out;
}

// ---- the handler ----------------------------------------------------------------------------

struct S3Api::Impl {
  S3SimOptions options;
  uint64_t fault_seed;
  FlatFileBucket bucket;
  std::string bucket_path;  // "/flatfiles"

  std::mutex mu;
  S3Stats stats;                            // guarded by mu (except the bucket's own counters)
  std::map<std::string, int> faults_left;   // kReset/kSlowDown rules: GETs they still hit (-1 = all)
  std::map<std::string, S3Fault> fault_kind;
  std::atomic<uint64_t> dice{0};

  Impl(S3SimOptions o, Market market, uint64_t faults)
      : options(std::move(o)), fault_seed(faults), bucket(options, std::move(market)), bucket_path("/" + options.bucket) {
    for (const S3FaultRule& rule : options.faults) {
      if (rule.fault == S3Fault::kReset || rule.fault == S3Fault::kSlowDown) {
        faults_left[rule.key] = rule.times;
        fault_kind[rule.key] = rule.fault;
      }
    }
  }

  int64_t Now() const { return options.now_ms ? options.now_ms() : SystemNowMs(); }
  int64_t RequestClock() const { return options.request_clock_ms ? options.request_clock_ms() : SystemNowMs(); }

  void Count(int64_t S3Stats::*field, int64_t by = 1) {
    std::lock_guard<std::mutex> lock(mu);
    stats.*field += by;
  }

  /// An S3 <Error> answer; HEAD answers carry no body.
  void ErrorReply(int status, std::string_view code, std::string_view message, std::string_view request_id,
                  std::string_view extra, S3Reply* reply) {
    reply->status = status;
    reply->content_type = "application/xml";
    reply->object.reset();
    reply->xml.clear();
    if (reply->head) return;
    std::string& x = reply->xml;
    x += kXmlDeclaration;
    x += "<Error>";
    Element(&x, "Code", code);
    Element(&x, "Message", message);
    x += extra;
    Element(&x, "RequestId", request_id);
    Element(&x, "HostId", "barfill-sim");
    x += "</Error>";
  }

  /// A fault rule of `kind` on `key` that still has GETs to hit; consumes one.
  bool TakeFault(const std::string& key, S3Fault kind) {
    std::lock_guard<std::mutex> lock(mu);
    const auto left = faults_left.find(key);
    if (left == faults_left.end() || fault_kind[key] != kind || left->second == 0) return false;
    if (left->second > 0) --left->second;
    return true;
  }

  bool Roll(double probability, uint64_t salt) {
    if (probability <= 0) return false;
    const uint64_t n = dice.fetch_add(1, std::memory_order_relaxed);
    return Unit53(SplitMix64(SplitMix64(fault_seed ^ salt) + n)) < probability;
  }

  void Serve(const HttpRequest& request, std::string_view request_id, S3Reply* reply) {
    Count(&S3Stats::requests);
    reply->head = request.method == "HEAD";
    reply->headers = "x-amz-request-id: " + std::string(request_id) + "\r\n";
    if (request.method != "GET" && request.method != "HEAD") {
      ErrorReply(405, "MethodNotAllowed", "The specified method is not allowed against this resource.", request_id,
                 "", reply);
      return;
    }
    const SignedRequest signed_request{request.method, request.path(), request.query(), &request.headers};
    if (const auto refusal = VerifySigV4(signed_request, options.signing, RequestClock())) {
      Count(&S3Stats::auth_refused);
      std::string extra;
      if (!refusal->string_to_sign.empty()) {
        Element(&extra, "StringToSign", refusal->string_to_sign);
        Element(&extra, "CanonicalRequest", refusal->canonical_request);
      }
      ErrorReply(refusal->status, refusal->code, refusal->message, request_id, extra, reply);
      return;
    }
    const std::string_view path = request.path();
    const std::string key = path.size() <= bucket_path.size() + 1
                                ? std::string()
                                : PercentDecode(path.substr(bucket_path.size() + 1), false);
    if (key.empty()) {
      if (reply->head) {
        reply->status = 200;  // HeadBucket
        return;
      }
      List(request, request_id, reply);
      return;
    }
    GetObject(request, key, request_id, reply);
  }

  void List(const HttpRequest& request, std::string_view request_id, S3Reply* reply) {
    std::string prefix;
    std::string delimiter;
    std::string token;
    std::string start_after;
    std::string marker;
    std::string max_keys_text;
    bool v2 = false;
    for (const auto& [name, value] : ParseQuery(request.query())) {
      if (name == "list-type") v2 = value == "2";
      if (name == "prefix") prefix = value;
      if (name == "delimiter") delimiter = value;
      if (name == "continuation-token") token = value;
      if (name == "start-after") start_after = value;
      if (name == "marker") marker = value;
      if (name == "max-keys") max_keys_text = value;
    }
    int max_keys = kMaxKeysCap;
    if (!max_keys_text.empty()) {
      const auto [ptr, ec] = std::from_chars(max_keys_text.data(), max_keys_text.data() + max_keys_text.size(), max_keys);
      if (ec != std::errc() || ptr != max_keys_text.data() + max_keys_text.size() || max_keys < 0) {
        ErrorReply(400, "InvalidArgument", "Provided max-keys not an integer or within integer range", request_id,
                   "", reply);
        return;
      }
      max_keys = std::min(max_keys, kMaxKeysCap);
    }
    // Where to start: after `after` (a key, or a common prefix whose keys were rolled up).
    std::string after = v2 ? start_after : marker;
    if (v2 && !token.empty()) {
      const auto decoded = DecodeToken(token);
      if (!decoded) {
        ErrorReply(400, "InvalidArgument", "The continuation token provided is incorrect", request_id, "", reply);
        return;
      }
      after = std::max(after, *decoded);
    }

    const int64_t now = Now();
    const std::vector<BucketEntry>& entries = bucket.entries();
    auto it = prefix > after
                  ? std::lower_bound(entries.begin(), entries.end(), prefix,
                                     [](const BucketEntry& e, const std::string& k) { return e.key < k; })
                  : std::upper_bound(entries.begin(), entries.end(), after,
                                     [](const std::string& k, const BucketEntry& e) { return k < e.key; });
    std::string contents;
    std::string common;
    int count = 0;
    bool truncated = false;
    std::string last_marker;  // the last key or common prefix listed
    std::string last_common;
    std::vector<FlatFileBucket::Version> listed;
    for (; it != entries.end() && StartsWith(it->key, prefix); ++it) {
      const auto version = bucket.VersionAt(*it, now);
      if (!version) continue;
      if (!delimiter.empty()) {
        const size_t cut = it->key.find(delimiter, prefix.size());
        if (cut != std::string::npos) {
          const std::string rolled = it->key.substr(0, cut + delimiter.size());
          // Listed on this page already, or on the page before (the marker is this prefix).
          if (rolled == last_common || rolled == after) continue;
          if (count == max_keys) {
            truncated = true;
            break;
          }
          common += "<CommonPrefixes>";
          Element(&common, "Prefix", rolled);
          common += "</CommonPrefixes>";
          last_common = rolled;
          last_marker = rolled;
          ++count;
          continue;
        }
      }
      if (count == max_keys) {
        truncated = true;
        break;
      }
      listed.push_back({&*it, *version});
      last_marker = it->key;
      ++count;
    }
    // Sizes and ETags need the objects: those never generated are made in parallel.
    const std::vector<ObjectMeta> metas = bucket.Metas(listed);
    for (size_t i = 0; i < listed.size(); ++i) {
      contents += "<Contents>";
      Element(&contents, "Key", listed[i].entry->key);
      Element(&contents, "LastModified", FormatIsoMillis(listed[i].version.last_modified_ms));
      Element(&contents, "ETag", "\"" + metas[i].etag + "\"");
      Element(&contents, "Size", std::to_string(metas[i].size));
      Element(&contents, "StorageClass", "STANDARD");
      Element(&contents, "Type", "Normal");
      contents += "</Contents>";
    }

    std::string& x = reply->xml;
    x += kXmlDeclaration;
    x += "<ListBucketResult xmlns=\"" + std::string(kXmlNamespace) + "\">";
    Element(&x, "Name", options.bucket);
    Element(&x, "Prefix", prefix);
    if (v2) {
      if (!start_after.empty()) Element(&x, "StartAfter", start_after);
      if (!token.empty()) Element(&x, "ContinuationToken", token);
      if (truncated) Element(&x, "NextContinuationToken", EncodeToken(last_marker));
      Element(&x, "KeyCount", std::to_string(count));
    } else {
      Element(&x, "Marker", marker);
      // V1 names the next marker only when a delimiter is given; otherwise it is the last key.
      if (truncated && !delimiter.empty()) Element(&x, "NextMarker", last_marker);
    }
    Element(&x, "MaxKeys", std::to_string(max_keys));
    if (!delimiter.empty()) Element(&x, "Delimiter", delimiter);
    Element(&x, "IsTruncated", truncated ? "true" : "false");
    x += contents;
    x += common;
    x += "</ListBucketResult>";
    reply->status = 200;
    Count(&S3Stats::lists);
  }

  void GetObject(const HttpRequest& request, const std::string& key, std::string_view request_id, S3Reply* reply) {
    const int64_t now = Now();
    const BucketEntry* entry = bucket.Find(key);
    const std::optional<ObjectVersion> version = entry ? bucket.VersionAt(*entry, now) : std::nullopt;
    if (!version) {
      Count(&S3Stats::missing);
      if (options.missing_key_status == 403) {
        ErrorReply(403, "AccessDenied", "Access Denied", request_id, "", reply);
      } else {
        std::string extra;
        Element(&extra, "Key", key);
        ErrorReply(404, "NoSuchKey", "The specified key does not exist.", request_id, extra, reply);
      }
      return;
    }
    if (!bucket.Entitled(*entry, now)) {
      Count(&S3Stats::denied);
      ErrorReply(403, "AccessDenied", "Access Denied", request_id, "", reply);
      return;
    }
    constexpr uint64_t kSlowDownSalt = 0x736C6F77ULL;
    constexpr uint64_t kResetSalt = 0x7265736574ULL;
    if (!reply->head && (TakeFault(key, S3Fault::kSlowDown) || Roll(options.slowdown_rate, kSlowDownSalt))) {
      Count(&S3Stats::slowdowns);
      ErrorReply(503, "SlowDown", "Please reduce your request rate.", request_id, "", reply);
      return;
    }
    const std::shared_ptr<const StoredObject> object = bucket.Object(*entry, version->revision);
    const int64_t size = static_cast<int64_t>(object->bytes.size());
    const std::string quoted = "\"" + object->etag + "\"";
    const std::string validators = "ETag: " + quoted + "\r\nLast-Modified: " + FormatHttpDate(version->last_modified_ms) + "\r\n";

    const std::string if_match = request.Header("if-match");
    if (!if_match.empty() && !ListsEtag(if_match, quoted)) {
      Count(&S3Stats::precondition_failed);
      std::string extra;
      Element(&extra, "Condition", "If-Match");
      ErrorReply(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
                 request_id, extra, reply);
      return;
    }
    const std::string if_none_match = request.Header("if-none-match");
    if (!if_none_match.empty() && ListsEtag(if_none_match, quoted)) {
      Count(&S3Stats::not_modified);
      reply->status = 304;
      reply->headers += validators;
      reply->head = true;  // no body
      return;
    }
    reply->headers += validators + "Accept-Ranges: bytes\r\n";
    reply->content_type = std::string(kObjectContentType);
    reply->object = object;
    reply->object_offset = 0;
    reply->object_length = object->bytes.size();
    reply->status = 200;
    if (const auto range = ParseRange(request.Header("range"), size)) {
      if (!range->satisfiable) {
        Count(&S3Stats::range_not_satisfiable);
        std::string extra;
        Element(&extra, "RangeRequested", request.Header("range"));
        Element(&extra, "ActualObjectSize", std::to_string(size));
        ErrorReply(416, "InvalidRange", "The requested range is not satisfiable", request_id, extra, reply);
        reply->headers += "Content-Range: bytes */" + std::to_string(size) + "\r\n";
        return;
      }
      reply->status = 206;
      reply->object_offset = static_cast<size_t>(range->first);
      reply->object_length = static_cast<size_t>(range->last - range->first + 1);
      reply->headers += "Content-Range: bytes " + std::to_string(range->first) + "-" + std::to_string(range->last) +
                        "/" + std::to_string(size) + "\r\n";
      Count(&S3Stats::range_requests);
    }
    if (reply->head) {
      Count(&S3Stats::heads);
      return;
    }
    if (TakeFault(key, S3Fault::kReset) || Roll(options.reset_rate, kResetSalt)) {
      reply->reset_midway = true;
      Count(&S3Stats::resets);
      return;
    }
    Count(&S3Stats::gets);
    Count(&S3Stats::object_bytes, static_cast<int64_t>(reply->object_length));
  }
};

S3Api::S3Api(S3SimOptions options, Market market, uint64_t fault_seed)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(market), fault_seed)) {}

S3Api::~S3Api() = default;

bool S3Api::Owns(std::string_view path) const {
  const std::string& bucket = impl_->bucket_path;
  return path == bucket || (StartsWith(path, bucket) && path.size() > bucket.size() && path[bucket.size()] == '/');
}

void S3Api::Serve(const HttpRequest& request, std::string_view request_id, S3Reply* reply) {
  impl_->Serve(request, request_id, reply);
}

S3Stats S3Api::Stats() const {
  S3Stats out;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    out = impl_->stats;
  }
  const BucketCacheStats cache = impl_->bucket.CacheStats();
  out.generated = cache.generated;
  out.generated_bytes = cache.generated_bytes;
  out.cache_hits = cache.hits;
  out.generation_s = cache.generation_s;
  return out;
}

FlatFileBucket& S3Api::bucket() { return impl_->bucket; }

}  // namespace barfill::sim
