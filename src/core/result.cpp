#include "core/result.h"

namespace barfill {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUsage: return "usage";
    case ErrorCode::kConfig: return "config";
    case ErrorCode::kAuth: return "auth";
    case ErrorCode::kBadRequest: return "bad_request";
    case ErrorCode::kRateLimited: return "rate_limited";
    case ErrorCode::kServerError: return "server_error";
    case ErrorCode::kTransport: return "transport";
    case ErrorCode::kTransportFatal: return "transport_fatal";
    case ErrorCode::kBadResponse: return "bad_response";
    case ErrorCode::kInvalidData: return "invalid_data";
    case ErrorCode::kDatabase: return "database";
    case ErrorCode::kDatabaseRetryable: return "database_retryable";
    case ErrorCode::kInterrupted: return "interrupted";
    case ErrorCode::kNetworkGaveUp: return "network_gave_up";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kInternal: return "internal";
    case ErrorCode::kLeaseLost: return "lease_lost";
  }
  return "unknown";
}

std::string Error::ToString() const {
  if (http_status == 0) return message;
  return message + " (HTTP " + std::to_string(http_status) + ")";
}

bool IsRetryable(const Error& error) {
  switch (error.code) {
    case ErrorCode::kRateLimited:
    case ErrorCode::kServerError:
    case ErrorCode::kTransport:
    case ErrorCode::kBadResponse:
    case ErrorCode::kDatabaseRetryable:
      return true;
    default:
      return false;
  }
}

}  // namespace barfill
