#include "sim/sim_server.h"

namespace barfill::sim {

Result<FaultRates> FaultRates::Parse(std::string_view) { return FaultRates{}; }
std::string SimStats::ToJson() const { return "{}"; }
Result<std::unique_ptr<SimServer>> SimServer::Start(const SimOptions&) {
  return Fail(ErrorCode::kInternal, "simulator not built yet");
}

}  // namespace barfill::sim
