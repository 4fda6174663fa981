// The simulator's bodies against the recorded real ones in tests/fixtures/polygon: same keys in
// the same order, same JSON types, same error texts.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "sim/sim_server.h"
#include "sim/sim_test_client.h"

namespace barfill::sim {
namespace {

using testing::HttpAnswer;
using testing::TestClient;

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(BARFILL_SOURCE_DIR) + "/tests/fixtures/polygon/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The structure of a JSON value: object keys in order with their shapes, the shape of an
/// array's first item, and scalar kinds. Integers and doubles are both "number" (the API sends
/// prices and volumes either way); `t` and `n` must be integers and say so.
std::string Shape(simdjson::dom::element e, std::string_view key = "") {
  switch (e.type()) {
    case simdjson::dom::element_type::OBJECT: {
      simdjson::dom::object object;
      EXPECT_EQ(e.get(object), simdjson::SUCCESS);
      std::string out = "{";
      for (const simdjson::dom::key_value_pair field : object) {
        out += std::string(field.key) + ":" + Shape(field.value, field.key) + ",";
      }
      return out + "}";
    }
    case simdjson::dom::element_type::ARRAY: {
      simdjson::dom::array items;
      EXPECT_EQ(e.get(items), simdjson::SUCCESS);
      for (const simdjson::dom::element first : items) return "[" + Shape(first) + "]";
      return "[]";
    }
    case simdjson::dom::element_type::STRING: return "string";
    case simdjson::dom::element_type::BOOL: return "bool";
    case simdjson::dom::element_type::NULL_VALUE: return "null";
    default:
      if (key == "t" || key == "n") return e.is_int64() ? "integer" : "non-integer";
      return "number";
  }
}

struct Parsed {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
};

std::unique_ptr<Parsed> Parse(const std::string& text) {
  auto p = std::make_unique<Parsed>();
  EXPECT_EQ(p->parser.parse(text).get(p->root), simdjson::SUCCESS) << text.substr(0, 200);
  return p;
}

class FixtureShapes : public ::testing::Test {
 protected:
  void SetUp() override { Restart({}); }

  void Restart(const SimOptions& options) {
    auto started = SimServer::Start(options);
    ASSERT_TRUE(started);
    server_ = std::move(*started);
  }

  std::unique_ptr<Parsed> Sim(const std::string& path_and_query, long status) {
    const HttpAnswer a = client_.Get(server_->BaseUrl() + path_and_query, {"Authorization: Bearer k"});
    EXPECT_EQ(a.status, status) << path_and_query << " " << a.body;
    return Parse(a.body);
  }

  std::unique_ptr<SimServer> server_;
  TestClient client_;
};

TEST_F(FixtureShapes, DailyBodiesMatchTheLiveOnes) {
  for (const char* name : {"aggs_AAPL_1_day_2022-04-01_2022-04-04.json", "aggs_AAPL_1_day_2005-04-01_2005-04-04.json"}) {
    const auto real = Parse(ReadFixture(name));
    const std::string dates = std::string(name).substr(16, 21);  // "2022-04-01_2022-04-04"
    const auto sim = Sim("/v2/aggs/ticker/AAPL/range/1/day/" + dates.substr(0, 10) + "/" + dates.substr(11), 200);
    EXPECT_EQ(Shape(sim->root), Shape(real->root)) << name;
    // Same bar starts: 00:00 New York on both days, across the 2005 DST change too.
    simdjson::dom::array real_results = real->root["results"].get_array().value();
    simdjson::dom::array sim_results = sim->root["results"].get_array().value();
    ASSERT_EQ(sim_results.size(), real_results.size());
    for (size_t i = 0; i < real_results.size(); ++i) {
      EXPECT_EQ(sim_results.at(i)["t"].get_int64().value(), real_results.at(i)["t"].get_int64().value());
    }
  }
}

TEST_F(FixtureShapes, PagedBodyMatchesTheSpecExample) {
  // The spec example lacks `count`, which live bodies carry; otherwise the same keys in the same
  // order, and the same next_url path and cursor.
  const auto real = Parse(ReadFixture("aggs_spec_example_with_next_url.json"));
  const auto sim = Sim("/v2/aggs/ticker/AAPL/range/1/day/2020-01-02/2020-01-10?limit=2", 200);
  std::string real_shape = Shape(real->root);
  std::string sim_shape = Shape(sim->root);
  const std::string count = "count:number,";
  ASSERT_NE(sim_shape.find(count), std::string::npos);
  sim_shape.erase(sim_shape.find(count), count.size());
  EXPECT_EQ(sim_shape, real_shape);
  const std::string_view real_next = real->root["next_url"].get_string().value();
  const std::string_view sim_next = sim->root["next_url"].get_string().value();
  EXPECT_EQ(sim_next.substr(sim_next.find("/v2/")), real_next.substr(real_next.find("/v2/")));
  EXPECT_EQ(sim->root["results"].at(0)["t"].get_int64().value(), real->root["results"].at(0)["t"].get_int64().value());
}

TEST_F(FixtureShapes, EmptyBodyMatches) {
  const auto real = Parse(ReadFixture("aggs_empty_X_ETHUSD.json"));
  const auto sim = Sim("/v2/aggs/ticker/X:ETHUSD/range/1/day/2300-01-01/2300-01-02", 200);
  EXPECT_EQ(Shape(sim->root), Shape(real->root));
  EXPECT_EQ(sim->root["ticker"].get_string().value(), "X:ETHUSD");
}

TEST_F(FixtureShapes, ErrorBodiesMatch) {
  struct Case {
    const char* fixture;
    std::string path;
    long status;
    const char* key;
  };
  const Case cases[] = {
      {"error_400_bad_time.json", "/v2/aggs/ticker/AAPL/range/1/day/2025-02-30/2025-03-01", 400, "error"},
      {"error_403_not_authorized.json", "/v2/aggs/ticker/X:DOGEUSD/range/1/day/2025-01-01/2025-03-01", 403, "message"},
      // The rate limit is 1/min: this is the second data request of the key.
      {"error_429_rate_limited.json", "/v2/aggs/ticker/AAPL/range/1/day/2025-01-01/2025-03-01", 429, "error"},
  };
  SimOptions options;
  options.forbidden_tickers = {"X:DOGEUSD"};
  options.rate_limit_per_min = 1;
  Restart(options);
  Sim("/v2/aggs/ticker/MSFT/range/1/day/2025-01-01/2025-01-03", 200);  // uses up the rate limit
  for (const Case& c : cases) {
    const auto real = Parse(ReadFixture(c.fixture));
    const auto sim = Sim(c.path, c.status);
    EXPECT_EQ(Shape(sim->root), Shape(real->root)) << c.fixture;
    EXPECT_EQ(sim->root["status"].get_string().value(), real->root["status"].get_string().value()) << c.fixture;
    EXPECT_EQ(sim->root[c.key].get_string().value(), real->root[c.key].get_string().value()) << c.fixture;
    EXPECT_EQ(sim->root["request_id"].get_string().value().size(), 32u);
  }
}

}  // namespace
}  // namespace barfill::sim
