#include "store/bar_store.h"

#include "store/postgres_store.h"
#include "store/sqlite_store.h"

namespace barfill {
namespace {

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

int64_t ChunkWrite::FinalRows() const {
  const TimeRange final = FinalRange();
  int64_t rows = 0;
  for (const int64_t t : bars->t) rows += final.Contains(t) ? 1 : 0;
  return rows;
}

Result<std::vector<WindowCount>> BarStore::CountBarsIn(const Series&, std::span<const TimeRange>) {
  return Fail(ErrorCode::kInternal, std::string(Kind()) + " store cannot count bars per window");
}

Result<std::vector<RangeCheck>> BarStore::ReadChecks(const Series&) {
  return Fail(ErrorCode::kInternal, std::string(Kind()) + " store keeps no verifications");
}

Status BarStore::RecordChecks(std::span<const RangeCheck>) {
  return Fail(ErrorCode::kInternal, std::string(Kind()) + " store keeps no verifications");
}

std::string_view ChunkStateName(ChunkState state) {
  switch (state) {
    case ChunkState::kPending: return "pending";
    case ChunkState::kDone: return "done";
    case ChunkState::kFailed: return "failed";
    case ChunkState::kEmpty: return "empty";
    case ChunkState::kStale: return "stale";
  }
  return "pending";
}

Result<StoreUrl> ParseStoreUrl(std::string_view url) {
  StoreUrl parsed;
  if (url.starts_with("sqlite:")) {
    std::string_view path = url.substr(7);
    if (path.starts_with("//")) path.remove_prefix(2);  // sqlite:///abs/path
    if (path.empty()) return Fail(ErrorCode::kUsage, "empty SQLite path: use sqlite:PATH");
    parsed.kind = StoreKind::kSqlite;
    parsed.sqlite_path = std::string(path);
    return parsed;
  }
  const bool is_uri = url.starts_with("postgresql://") || url.starts_with("postgres://");
  const bool is_conninfo = url.find("://") == std::string_view::npos && url.find('=') != std::string_view::npos;
  if (is_uri || is_conninfo) {
    parsed.kind = StoreKind::kPostgres;
    parsed.conninfo = std::string(url);
    return parsed;
  }
  return Fail(ErrorCode::kUsage,
              "unsupported database URL '" + Redacted(url) +
                  "': use sqlite:PATH, postgresql://[user@]host[:port]/database, or a libpq "
                  "key=value conninfo");
}

Result<std::unique_ptr<BarStore>> OpenStore(const std::string& url, const StoreOptions& options) {
  auto parsed = ParseStoreUrl(url);
  if (!parsed) return Fail(parsed.error());
  if (parsed->kind == StoreKind::kSqlite) return store::OpenSqliteStore(parsed->sqlite_path, options);
  return store::OpenPostgresStore(parsed->conninfo, options);
}

}  // namespace barfill
