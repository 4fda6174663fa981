#include "fetch/chunk_fetcher.h"

namespace barfill {

struct ChunkFetcher::Impl {};
ChunkFetcher::ChunkFetcher(const FetchShared&) : impl_(std::make_unique<Impl>()) {}
ChunkFetcher::~ChunkFetcher() = default;
Status ChunkFetcher::Fetch(const Chunk&, BarBatch&, FetchStats&) {
  return Fail(ErrorCode::kInternal, "fetcher not built yet");
}
void FetchStats::Add(const FetchStats&) {}

}  // namespace barfill
