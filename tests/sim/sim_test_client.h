// A real HTTP client for the simulator's integration tests: libcurl's easy API on one handle
// (so keep-alive is observable), and simdjson to read bodies. It deliberately does not use
// src/http, so these tests check the simulator against an independent client.
#pragma once

#include <curl/curl.h>
#include <simdjson.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/bar.h"

namespace barfill::sim::testing {

struct HttpAnswer {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;                            ///< decoded when gzip was asked for
  std::map<std::string, std::string> headers;  ///< names in lower case
  long new_connections = 0;                    ///< connections curl opened for this request
  curl_off_t wire_bytes = 0;                   ///< body bytes as transferred
  double seconds = 0;
};

/// One curl easy handle: requests made through it reuse its connection when the server allows.
class TestClient {
 public:
  TestClient();

  /// GET `url` with extra request headers; asks for gzip when `gzip`.
  HttpAnswer Get(const std::string& url, const std::vector<std::string>& headers = {}, bool gzip = false);

 private:
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl_;
};

/// The bars of an aggregates body's `results` (empty when absent).
BarBatch ParseResults(simdjson::dom::element body);

/// The top-level keys of a JSON object, in order.
std::vector<std::string> KeysOf(simdjson::dom::element object);

}  // namespace barfill::sim::testing
