#include "sim/s3_sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "core/market_time.h"
#include "sim/http_wire.h"

namespace barfill::sim {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kTerminator = "aws4_request";
constexpr std::string_view kService = "s3";
constexpr std::string_view kEmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string Hex(const unsigned char* bytes, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 15];
  }
  return out;
}

std::string DigestHex(const EVP_MD* md, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, md, nullptr);
  return Hex(digest, length);
}

/// RFC 3986 as SigV4 wants it: unreserved bytes kept, the rest %XX in upper case.
std::string AwsUriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(c);
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// A header value as SigV4 signs it: trimmed, inner runs of spaces squeezed to one.
std::string CanonicalValue(std::string_view value) {
  value = TrimSpaces(value);
  std::string out;
  bool space = false;
  for (const char c : value) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string HeaderValues(const SignedRequest& request, std::string_view name) {
  std::string joined;
  bool first = true;
  for (const auto& [header, value] : *request.headers) {
    if (header != name) continue;
    if (!first) joined += ',';
    joined += CanonicalValue(value);
    first = false;
  }
  return joined;
}

bool HasHeader(const SignedRequest& request, std::string_view name) {
  return std::any_of(request.headers->begin(), request.headers->end(),
                     [&](const auto& header) { return header.first == name; });
}

S3Refusal Refuse(int status, std::string code, std::string message) {
  S3Refusal refusal;
  refusal.status = status;
  refusal.code = std::move(code);
  refusal.message = std::move(message);
  return refusal;
}

S3Refusal Malformed(const std::string& why) {
  return Refuse(400, "AuthorizationHeaderMalformed", "The authorization header is malformed; " + why);
}

/// The Authorization header's parts.
struct Authorization {
  std::string access_key_id;
  std::string date;     // yyyymmdd
  std::string region;
  std::string service;
  std::string signed_headers;
  std::string signature;
};

std::optional<Authorization> ParseAuthorization(std::string_view header, std::string* why) {
  header.remove_prefix(kAlgorithm.size());
  Authorization auth;
  std::string credential;
  size_t pos = 0;
  while (pos < header.size()) {
    size_t comma = header.find(',', pos);
    if (comma == std::string_view::npos) comma = header.size();
    const std::string_view item = TrimSpaces(header.substr(pos, comma - pos));
    pos = comma + 1;
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view name = item.substr(0, eq);
    const std::string value(item.substr(eq + 1));
    if (name == "Credential") credential = value;
    if (name == "SignedHeaders") auth.signed_headers = value;
    if (name == "Signature") auth.signature = value;
  }
  if (credential.empty() || auth.signed_headers.empty() || auth.signature.empty()) {
    *why = "it needs Credential, SignedHeaders and Signature";
    return std::nullopt;
  }
  // AKID/20130524/us-east-1/s3/aws4_request
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    const size_t slash = credential.find('/', start);
    parts.push_back(credential.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (parts.size() != 5 || parts[4] != kTerminator) {
    *why = "a non-empty Access Key (AKID) must be provided in the credential, as AKID/date/region/service/aws4_request";
    return std::nullopt;
  }
  auth.access_key_id = parts[0];
  auth.date = parts[1];
  auth.region = parts[2];
  auth.service = parts[3];
  return auth;
}

}  // namespace

std::string Sha256Hex(std::string_view data) { return DigestHex(EVP_sha256(), data); }
std::string Md5Hex(std::string_view data) { return DigestHex(EVP_md5(), data); }

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &length);
  return std::string(reinterpret_cast<const char*>(out), length);
}

std::optional<int64_t> ParseAmzDate(std::string_view text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return std::nullopt;
  for (size_t i = 0; i < 15; ++i) {
    if (i != 8 && !std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
  }
  const std::string date = std::string(text.substr(0, 4)) + "-" + std::string(text.substr(4, 2)) + "-" +
                           std::string(text.substr(6, 2));
  const auto day = CalendarDay::Parse(date);
  if (!day) return std::nullopt;
  const auto number = [&](size_t at) { return (text[at] - '0') * 10 + (text[at + 1] - '0'); };
  const int hour = number(9);
  const int minute = number(11);
  const int second = number(13);
  if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
  return day->DaysSinceEpoch() * kMsPerDay + hour * kMsPerHour + minute * kMsPerMinute + second * kMsPerSecond;
}

std::string CanonicalRequest(const SignedRequest& request, std::string_view signed_headers,
                             std::string_view payload_hash) {
  std::string out(request.method);
  out += '\n';
  out += AwsUriEncode(PercentDecode(request.path, false), true);
  out += '\n';
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& [name, value] : ParseQuery(request.query)) {
    params.emplace_back(AwsUriEncode(name, false), AwsUriEncode(value, false));
  }
  std::sort(params.begin(), params.end());
  for (size_t i = 0; i < params.size(); ++i) {
    if (i > 0) out += '&';
    out += params[i].first + "=" + params[i].second;
  }
  out += '\n';
  for (size_t start = 0; start <= signed_headers.size();) {
    size_t semicolon = signed_headers.find(';', start);
    if (semicolon == std::string_view::npos) semicolon = signed_headers.size();
    const std::string_view name = signed_headers.substr(start, semicolon - start);
    out += std::string(name) + ":" + HeaderValues(request, name) + "\n";
    start = semicolon + 1;
  }
  out += '\n';
  out += signed_headers;
  out += '\n';
  out += payload_hash;
  return out;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope, std::string_view canonical_request) {
  return std::string(kAlgorithm) + "\n" + std::string(amz_date) + "\n" + std::string(scope) + "\n" +
         Sha256Hex(canonical_request);
}

std::string SigV4Signature(std::string_view secret, std::string_view date, std::string_view region,
                           std::string_view service, std::string_view string_to_sign) {
  std::string key = HmacSha256("AWS4" + std::string(secret), date);
  key = HmacSha256(key, region);
  key = HmacSha256(key, service);
  key = HmacSha256(key, kTerminator);
  const std::string signature = HmacSha256(key, string_to_sign);
  return Hex(reinterpret_cast<const unsigned char*>(signature.data()), signature.size());
}

std::optional<S3Refusal> VerifySigV4(const SignedRequest& request, const SigV4Policy& policy, int64_t now_ms) {
  std::string header;
  for (const auto& [name, value] : *request.headers) {
    if (name == "authorization") header = value;
  }
  if (header.empty()) {
    if (request.query.find("X-Amz-Signature=") != std::string_view::npos) {
      return Refuse(403, "AccessDenied", "Query-string (presigned URL) authentication is not supported here");
    }
    return Refuse(403, "AccessDenied", "Access Denied: anonymous requests are not allowed; sign them with SigV4");
  }
  if (header.rfind("AWS ", 0) == 0) {
    return Refuse(400, "InvalidRequest",
                  "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.");
  }
  if (header.rfind(std::string(kAlgorithm) + " ", 0) != 0) {
    return Malformed("the algorithm must be AWS4-HMAC-SHA256");
  }
  std::string why;
  const auto auth = ParseAuthorization(header, &why);
  if (!auth) return Malformed(why);
  if (!policy.access_key_id.empty() && auth->access_key_id != policy.access_key_id) {
    return Refuse(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
  }
  const std::string amz_date = HeaderValues(request, "x-amz-date");
  const auto request_ms = ParseAmzDate(amz_date);
  if (!request_ms) return Refuse(403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
  if (amz_date.substr(0, 8) != auth->date) {
    return Malformed("Invalid credential date. Date is not the same as X-Amz-Date.");
  }
  if (policy.enforce_region && auth->region != policy.region) {
    return Malformed("the region '" + auth->region + "' is wrong; expecting '" + policy.region + "'");
  }
  if (auth->service != kService) {
    return Malformed("Credential should be scoped to correct service: 's3'. (got '" + auth->service + "')");
  }
  const bool has_hash = HasHeader(request, "x-amz-content-sha256");
  if (policy.require_content_sha256 && !has_hash) {
    return Refuse(400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256");
  }
  if (*request_ms < now_ms - policy.max_skew_ms || *request_ms > now_ms + policy.max_skew_ms) {
    return Refuse(403, "RequestTimeTooSkewed",
                  "The difference between the request time and the current time is too large.");
  }
  if (policy.secret_access_key.empty()) return std::nullopt;
  const std::string payload_hash = has_hash ? HeaderValues(request, "x-amz-content-sha256") : std::string(kEmptyPayloadHash);
  const std::string canonical = CanonicalRequest(request, auth->signed_headers, payload_hash);
  const std::string scope = auth->date + "/" + auth->region + "/" + auth->service + "/" + std::string(kTerminator);
  const std::string to_sign = StringToSign(amz_date, scope, canonical);
  const std::string expected =
      SigV4Signature(policy.secret_access_key, auth->date, auth->region, auth->service, to_sign);
  if (expected != auth->signature) {
    S3Refusal refusal = Refuse(403, "SignatureDoesNotMatch",
                               "The request signature we calculated does not match the signature you provided. "
                               "Check your key and signing method.");
    refusal.string_to_sign = to_sign;
    refusal.canonical_request = canonical;
    return refusal;
  }
  return std::nullopt;
}

}  // namespace barfill::sim
