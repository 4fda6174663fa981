// The S3 simulator's check of AWS Signature Version 4, written from the published algorithm
// (canonical request -> string to sign -> HMAC chain), independently of the client's signer
// (libcurl), and tested against AWS's own worked example.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace barfill::sim {

/// Lower-case hex of the SHA-256 / MD5 digest of `data`.
std::string Sha256Hex(std::string_view data);
std::string Md5Hex(std::string_view data);
/// Raw HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(std::string_view key, std::string_view data);

/// What a SigV4 check reads of a request.
struct SignedRequest {
  std::string_view method;
  std::string_view path;   ///< as sent (may hold %XX escapes)
  std::string_view query;  ///< as sent, without the '?'
  const std::vector<std::pair<std::string, std::string>>* headers = nullptr;  ///< names lower-cased
};

/// What the server accepts.
struct SigV4Policy {
  std::string access_key_id;      ///< empty = any key id
  std::string secret_access_key;  ///< empty = signatures are not checked (any signed request)
  std::string region = "us-east-1";
  bool enforce_region = true;           ///< false: any region in the scope (Ceph RGW-like)
  bool require_content_sha256 = true;   ///< AWS and R2 refuse requests without x-amz-content-sha256
  int64_t max_skew_ms = 15 * 60 * 1000;
};

/// A refusal as S3 sends it: status, <Code>, <Message>; for SignatureDoesNotMatch also what the
/// server signed, so that a client author can diff it with their own.
struct S3Refusal {
  int status = 403;
  std::string code;
  std::string message;
  std::string string_to_sign;
  std::string canonical_request;
};

/// Checks the Authorization header the way S3 does, in its order: scheme, format, access key
/// id, date, scope (region, service), x-amz-content-sha256, clock skew against `now_ms`, and
/// the signature. nullopt when the request may go on.
std::optional<S3Refusal> VerifySigV4(const SignedRequest& request, const SigV4Policy& policy, int64_t now_ms);

/// The SigV4 canonical request of `request` for the given signed headers ("host;x-amz-date")
/// and payload hash: the path and query decoded, re-encoded per RFC 3986 and the query sorted,
/// whatever form the client sent them in.
std::string CanonicalRequest(const SignedRequest& request, std::string_view signed_headers,
                             std::string_view payload_hash);
/// "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256 of the canonical request>".
std::string StringToSign(std::string_view amz_date, std::string_view scope, std::string_view canonical_request);
/// The hex signature: HMAC chain "AWS4"+secret -> date -> region -> service -> "aws4_request",
/// then HMAC of the string to sign.
std::string SigV4Signature(std::string_view secret, std::string_view date, std::string_view region,
                           std::string_view service, std::string_view string_to_sign);

/// "20130524T000000Z" to Unix ms.
std::optional<int64_t> ParseAmzDate(std::string_view text);

}  // namespace barfill::sim
