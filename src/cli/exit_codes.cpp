#include "cli/exit_codes.h"

#include <cstdio>

namespace barfill::cli {

int ExitCodeFor(const Error& error) {
  switch (error.code) {
    case ErrorCode::kUsage:
    case ErrorCode::kConfig:
    case ErrorCode::kNotFound:
      return kExitUsage;
    case ErrorCode::kAuth:
      return kExitAuth;
    case ErrorCode::kDatabase:
    case ErrorCode::kDatabaseRetryable:
      return kExitDatabase;
    case ErrorCode::kTransport:
    case ErrorCode::kTransportFatal:
    case ErrorCode::kNetworkGaveUp:
    case ErrorCode::kRateLimited:
    case ErrorCode::kServerError:
      return kExitNetwork;
    case ErrorCode::kInterrupted:
      return kExitInterrupted;
    case ErrorCode::kBadRequest:
    case ErrorCode::kBadResponse:
    case ErrorCode::kInvalidData:
    case ErrorCode::kInternal:
    case ErrorCode::kLeaseLost:
      return kExitChunksFailed;
  }
  return kExitChunksFailed;
}

int ExitCodeFor(engine::RunOutcome outcome) {
  switch (outcome) {
    case engine::RunOutcome::kDone: return kExitOk;
    case engine::RunOutcome::kRangesFailed: return kExitChunksFailed;
    case engine::RunOutcome::kRefused: return kExitAuth;
    case engine::RunOutcome::kDatabase: return kExitDatabase;
    case engine::RunOutcome::kNetwork: return kExitNetwork;
    case engine::RunOutcome::kInterrupted: return kExitInterrupted;
  }
  return kExitChunksFailed;
}

int ReportError(const Error& error) {
  std::fprintf(stderr, "error: %s\n", error.ToString().c_str());
  return ExitCodeFor(error);
}

}  // namespace barfill::cli
