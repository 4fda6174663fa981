// The formats of S3 answers: the ListBucketResult and Error XML documents, and the two date
// forms (ISO 8601 in listings, RFC 1123 in Last-Modified headers).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "flatfiles/s3_client.h"

namespace barfill::flatfiles {

/// Reads a ListObjectsV2 (or V1) answer. kBadResponse naming the problem when it is not one.
Result<ListPage> ParseListing(std::string_view xml);

/// The Code and Message of an S3 <Error> document (both empty when the body is not one).
struct S3ErrorBody {
  std::string code;
  std::string message;
};
S3ErrorBody ParseErrorBody(std::string_view xml);

/// "2023-09-02T17:44:38.050Z" (fraction optional) to Unix ms.
std::optional<int64_t> ParseIsoTimeMs(std::string_view text);
/// "Sat, 02 Sep 2023 17:44:38 GMT" to Unix ms.
std::optional<int64_t> ParseHttpDateMs(std::string_view text);

/// The ETag without its quotes.
std::string UnquoteEtag(std::string_view etag);

}  // namespace barfill::flatfiles
