// The S3 side of `barfill sim`: path-style GET/HEAD /<bucket>/<key> and the ListObjects
// listings (V2 and V1) of the simulated flat-file bucket, answered as S3 (Ceph RGW) answers:
// SigV4 checked, XML bodies, Range and conditional requests, entitlement, publication clock,
// and the faults the real files have shown.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sim/http_wire.h"
#include "sim/s3_bucket.h"
#include "sim/market_data.h"
#include "sim/s3_options.h"

namespace barfill::sim {

/// Counters of the S3 side (GET /__s3stats serves them as JSON).
struct S3Stats {
  int64_t requests = 0;              ///< every request to the bucket
  int64_t lists = 0;                 ///< listings answered
  int64_t gets = 0;                  ///< object GETs answered 200 or 206
  int64_t heads = 0;                 ///< object HEADs answered 200
  int64_t range_requests = 0;        ///< 206 answers
  int64_t object_bytes = 0;          ///< object bytes sent (resets and HEADs excluded)
  int64_t not_modified = 0;          ///< 304 (If-None-Match)
  int64_t precondition_failed = 0;   ///< 412 (If-Match)
  int64_t range_not_satisfiable = 0; ///< 416
  int64_t auth_refused = 0;          ///< SigV4 refusals of any kind
  int64_t denied = 0;                ///< 403 AccessDenied outside the entitlement
  int64_t missing = 0;               ///< GETs/HEADs of keys that are not published
  int64_t resets = 0;                ///< GETs cut by a reset
  int64_t slowdowns = 0;             ///< 503 SlowDown
  int64_t generated = 0;             ///< objects generated
  int64_t generated_bytes = 0;
  int64_t cache_hits = 0;
  double generation_s = 0;

  std::string ToJson() const;
};

/// How the server must send one S3 answer.
struct S3Reply {
  int status = 200;
  std::string content_type = "application/xml";
  std::string headers;                         ///< complete header lines ("ETag: ...\r\n")
  std::string xml;                             ///< an owned body (listings, errors)
  std::shared_ptr<const StoredObject> object;  ///< or a slice of an object's bytes:
  size_t object_offset = 0;
  size_t object_length = 0;
  bool head = false;          ///< HEAD: headers only, Content-Length still the GET's
  bool reset_midway = false;  ///< send the headers and half the body, then a TCP reset

  /// The bytes a GET sends after the head.
  std::string_view Body() const;
};

class S3Api {
 public:
  S3Api(S3SimOptions options, Market market, uint64_t fault_seed);
  ~S3Api();
  S3Api(const S3Api&) = delete;
  S3Api& operator=(const S3Api&) = delete;

  /// Whether `path` addresses the bucket ("/flatfiles" or "/flatfiles/...").
  bool Owns(std::string_view path) const;
  /// Answers one request to the bucket.
  void Serve(const HttpRequest& request, std::string_view request_id, S3Reply* reply);

  S3Stats Stats() const;
  FlatFileBucket& bucket();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// "Sat, 02 Sep 2023 17:44:38 GMT"
std::string FormatHttpDate(int64_t ms);
/// "2023-09-02T17:44:38.050Z"
std::string FormatIsoMillis(int64_t ms);

}  // namespace barfill::sim
