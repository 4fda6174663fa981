#include "cli/metrics_server.h"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <exception>
#include <mutex>
#include <string>

namespace barfill::cli {

struct MetricsServer::Impl {
  std::unique_ptr<prometheus::Exposer> exposer;
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::mutex mutex;
  engine::WorkerMetrics last;

  prometheus::Counter& Counter(const std::string& name, const std::string& help) {
    return prometheus::BuildCounter().Name(name).Help(help).Register(*registry).Add({});
  }
  prometheus::Gauge& Gauge(const std::string& name, const std::string& help) {
    return prometheus::BuildGauge().Name(name).Help(help).Register(*registry).Add({});
  }

  prometheus::Counter& requests = Counter("barfill_requests_total", "HTTP requests sent to the API, retries included");
  prometheus::Counter& rate_limited = Counter("barfill_rate_limited_total", "429 answers");
  prometheus::Counter& retries = Counter("barfill_retries_total", "Requests that were retries");
  prometheus::Counter& rows = Counter("barfill_rows_written_total", "Bars committed");
  prometheus::Counter& bytes = Counter("barfill_bytes_received_total", "Response body bytes received");
  prometheus::Counter& items_done = Counter("barfill_items_done_total", "Queue items this worker finished");
  prometheus::Counter& items_failed = Counter("barfill_items_failed_total", "Queue items this worker failed");
  prometheus::Counter& lease_losses = Counter("barfill_lease_losses_total", "Leases another worker took over");
  prometheus::Gauge& pending = Gauge("barfill_queue_pending", "Queue items pending");
  prometheus::Gauge& leased = Gauge("barfill_queue_leased", "Queue items leased");
  prometheus::Gauge& rate = Gauge("barfill_rate_enforced_per_second", "The request rate enforced now (shared by the fleet)");
};

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MetricsServer::~MetricsServer() = default;

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(int port) {
  if (port < 1 || port > 65535) {
    return Fail(ErrorCode::kUsage, "--metrics-port must be 1 to 65535 (got " + std::to_string(port) + ")");
  }
  auto impl = std::make_unique<Impl>();
  try {
    // civetweb underneath throws when it cannot listen; nothing of it leaves this function.
    impl->exposer = std::make_unique<prometheus::Exposer>("0.0.0.0:" + std::to_string(port));
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kUsage, "--metrics-port " + std::to_string(port) +
                                       ": cannot listen there (in use?): choose another port");
  }
  impl->exposer->RegisterCollectable(impl->registry);
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(impl)));
}

void MetricsServer::Update(const engine::WorkerMetrics& m) {
  Impl& i = *impl_;
  std::lock_guard lock(i.mutex);
  const auto grow = [](prometheus::Counter& c, int64_t now, int64_t before) {
    if (now > before) c.Increment(static_cast<double>(now - before));
  };
  grow(i.requests, m.fetch.requests, i.last.fetch.requests);
  grow(i.rate_limited, m.fetch.rate_limited, i.last.fetch.rate_limited);
  grow(i.retries, m.fetch.retries, i.last.fetch.retries);
  grow(i.bytes, m.fetch.bytes, i.last.fetch.bytes);
  grow(i.rows, m.rows, i.last.rows);
  grow(i.items_done, m.items_done, i.last.items_done);
  grow(i.items_failed, m.items_failed, i.last.items_failed);
  grow(i.lease_losses, m.lease_losses, i.last.lease_losses);
  if (m.queue_pending >= 0) i.pending.Set(static_cast<double>(m.queue_pending));
  if (m.queue_leased >= 0) i.leased.Set(static_cast<double>(m.queue_leased));
  if (m.rate_per_s >= 0) i.rate.Set(m.rate_per_s);
  i.last = m;
}

}  // namespace barfill::cli
