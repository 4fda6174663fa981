// Small pieces several subcommands share: where the database and the API key come from.
#pragma once

#include <optional>
#include <string>

#include "core/result.h"

namespace barfill::cli {

/// The store used when neither --db nor BARFILL_DB says otherwise.
inline constexpr const char* kDefaultDbUrl = "sqlite:barfill.db";

/// --db if given, else $BARFILL_DB, else kDefaultDbUrl.
std::string ResolveDbUrl(const std::string& flag_value);

/// --api-key if given, else $POLYGON_API_KEY, else $MASSIVE_API_KEY; nullopt when none is set.
std::optional<std::string> ResolveApiKey(const std::string& flag_value);

/// The flat files' S3 keys: $MASSIVE_S3_ACCESS_KEY_ID / $MASSIVE_S3_SECRET_ACCESS_KEY, else
/// $AWS_ACCESS_KEY_ID / $AWS_SECRET_ACCESS_KEY; nullopt when none is set.
std::optional<std::string> ResolveS3AccessKey();
std::optional<std::string> ResolveS3SecretKey();

/// Writes `text` to `path` (a report); a kUsage error naming the file when it cannot.
Status WriteTextFile(const std::string& path, const std::string& text);

}  // namespace barfill::cli
