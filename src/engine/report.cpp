#include "engine/report.h"

namespace barfill::engine {

const char* RunOutcomeName(RunOutcome outcome) {
  switch (outcome) {
    case RunOutcome::kDone: return "done";
    case RunOutcome::kChunksFailed: return "chunks_failed";
    case RunOutcome::kRefused: return "refused";
    case RunOutcome::kDatabase: return "database";
    case RunOutcome::kNetwork: return "network";
    case RunOutcome::kInterrupted: return "interrupted";
  }
  return "unknown";
}

}  // namespace barfill::engine
