// `barfill worker --metrics-port N`: Prometheus metrics over HTTP (prometheus-cpp), fed from the
// worker's snapshots. The only place that knows prometheus-cpp.
#pragma once

#include <memory>

#include "core/result.h"
#include "engine/worker.h"

namespace barfill::cli {

class MetricsServer {
 public:
  /// Serves GET /metrics on 0.0.0.0:`port`; a port in use is a kUsage error naming it.
  static Result<std::unique_ptr<MetricsServer>> Start(int port);
  ~MetricsServer();
  /// Publishes a snapshot (counters move by what grew since the last one).
  void Update(const engine::WorkerMetrics& m);

 private:
  struct Impl;
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace barfill::cli
