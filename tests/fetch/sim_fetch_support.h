// What the fetchers' loopback tests share: a simulator that accepts one key, fetch settings aimed
// at it that retry fast, and the check that no error shows the key.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "fetch/chunk_fetcher.h"
#include "sim/sim_server.h"

namespace barfill::fetch::testing {

inline constexpr const char* kKey = "sim-Key-7f3a9c";

/// Every error a test gets is checked for the key (CTest runs each test in its own process, so
/// the check is made on the spot).
inline void Remember(const Error& e) {
  EXPECT_EQ(e.message.find(kKey), std::string::npos) << e.message;
  EXPECT_EQ(e.request.find(kKey), std::string::npos) << e.request;
  EXPECT_EQ(e.ToString().find(kKey), std::string::npos);
}

/// A simulator of market `seed` that accepts kKey only (unless `options` names another key).
inline std::unique_ptr<sim::SimServer> StartSimWithSeed(sim::SimOptions options, uint64_t seed) {
  options.seed = seed;
  if (options.api_key.empty()) options.api_key = kKey;
  auto server = sim::SimServer::Start(options);
  if (!server) {
    ADD_FAILURE() << "simulator did not start: " << server.error().message;
    return nullptr;
  }
  return std::move(*server);
}

/// Fetch settings aimed at `server`: many fast retries, short stalls, no asset profiles.
inline FetchConfig SimConfig(const sim::SimServer& server, int page_limit = 50000) {
  FetchConfig config;
  config.base_url = server.BaseUrl();
  config.api_key = kKey;
  config.page_limit = page_limit;
  config.use_asset_profiles = false;
  config.retry.max_attempts = 40;
  config.retry.base_backoff_ms = 2;
  config.retry.max_backoff_ms = 20;
  config.retry.retry_after_cap_ms = 50;  // the sim's Retry-After: 1 would slow the suite down
  config.retry.budget_min_retries = 100000;
  config.http.low_speed_time_ms = 3000;
  config.http.request_timeout_ms = 30000;
  return config;
}

/// A named mix of the simulator's faults, for parameterized tests.
struct FaultCase {
  const char* name;
  sim::FaultRates rates;
};

/// Only one fault (or mode) of the simulator, at probability `p`.
inline sim::FaultRates Only(double sim::FaultRates::*field, double p) {
  sim::FaultRates r;
  r.*field = p;
  return r;
}

}  // namespace barfill::fetch::testing
