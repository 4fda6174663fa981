#include "sim/sim_test_client.h"

#include <algorithm>
#include <cctype>
#include <mutex>

namespace barfill::sim::testing {
namespace {

size_t CollectBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t CollectHeader(char* data, size_t size, size_t count, void* user) {
  const std::string line(data, size * count);
  const size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(value.begin());
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(user))[name] = value;
  }
  return size * count;
}

}  // namespace

TestClient::TestClient() : curl_(nullptr, &curl_easy_cleanup) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_.reset(curl_easy_init());
}

HttpAnswer TestClient::Get(const std::string& url, const std::vector<std::string>& headers, bool gzip) {
  HttpAnswer answer;
  CURL* c = curl_.get();
  curl_slist* list = nullptr;
  for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> owned(list, &curl_slist_free_all);
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, gzip ? "gzip" : nullptr);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &CollectBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &CollectHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &answer.headers);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
  answer.code = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &answer.status);
  curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &answer.new_connections);
  curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &answer.wire_bytes);
  curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &answer.seconds);
  return answer;
}

BarBatch ParseResults(simdjson::dom::element body) {
  BarBatch bars;
  simdjson::dom::array results;
  if (body["results"].get(results) != simdjson::SUCCESS) return bars;
  for (simdjson::dom::element item : results) {
    Bar b;
    b.t = item["t"].get_int64().value();
    b.open = item["o"].get_double().value();
    b.high = item["h"].get_double().value();
    b.low = item["l"].get_double().value();
    b.close = item["c"].get_double().value();
    b.volume = item["v"].get_double().value();
    b.vwap = item["vw"].get_double().value();
    b.trades = item["n"].get_int64().value();
    bars.push_back(b);
  }
  return bars;
}

std::vector<std::string> KeysOf(simdjson::dom::element object) {
  std::vector<std::string> keys;
  simdjson::dom::object fields;
  if (object.get(fields) != simdjson::SUCCESS) return keys;
  for (const simdjson::dom::key_value_pair field : fields) keys.emplace_back(field.key);
  return keys;
}

}  // namespace barfill::sim::testing
