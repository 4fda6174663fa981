#include "store/bar_store.h"

namespace barfill {

std::string_view ChunkStateName(ChunkState state) {
  switch (state) {
    case ChunkState::kPending: return "pending";
    case ChunkState::kDone: return "done";
    case ChunkState::kFailed: return "failed";
    case ChunkState::kEmpty: return "empty";
  }
  return "pending";
}

Result<std::unique_ptr<BarStore>> OpenStore(const std::string&) {
  return Fail(ErrorCode::kDatabase, "storage not built yet");
}

}  // namespace barfill
