#include "store/bar_store.h"

#include "store/postgres_store.h"
#include "store/sqlite_store.h"

namespace barfill {
namespace {

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

/// The URL without any user:password@ part, for messages.
std::string Redacted(std::string_view url) {
  const size_t scheme = url.find("://");
  const size_t at = url.find('@');
  if (scheme == std::string_view::npos || at == std::string_view::npos || at < scheme) {
    return std::string(url);
  }
  return std::string(url.substr(0, scheme + 3)) + "…" + std::string(url.substr(at));
}

}  // namespace

std::string_view ChunkStateName(ChunkState state) {
  switch (state) {
    case ChunkState::kPending: return "pending";
    case ChunkState::kDone: return "done";
    case ChunkState::kFailed: return "failed";
    case ChunkState::kEmpty: return "empty";
  }
  return "pending";
}

Result<std::unique_ptr<BarStore>> OpenStore(const std::string& url, const StoreOptions& options) {
  if (StartsWith(url, "sqlite:")) {
    std::string path = url.substr(7);
    if (StartsWith(path, "//")) path = path.substr(2);  // sqlite:///abs/path
    return store::OpenSqliteStore(path, options);
  }
  const bool is_uri = StartsWith(url, "postgresql://") || StartsWith(url, "postgres://");
  const bool is_conninfo = url.find("://") == std::string::npos && url.find('=') != std::string::npos;
  if (is_uri || is_conninfo) return store::OpenPostgresStore(url, options);
  return Fail(ErrorCode::kDatabase,
              "unsupported database URL '" + Redacted(url) +
                  "': use sqlite:PATH, postgresql://[user@]host[:port]/database, or a libpq "
                  "key=value conninfo");
}

}  // namespace barfill
