// Prometheus metrics every server exports: calls, errors and latency per method.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace prometheus {
class Registry;
class Exposer;
}  // namespace prometheus

namespace gnlc {

class RpcMetrics {
 public:
  explicit RpcMetrics(std::string service);
  ~RpcMetrics();
  // Counts one finished call and observes its latency.
  void Record(absl::string_view method, absl::StatusCode code, double seconds);
  // The registry, for service-specific metrics.
  std::shared_ptr<prometheus::Registry> registry() { return registry_; }
  // Prometheus text exposition of everything registered (what /metrics serves).
  std::string Render() const;

 private:
  struct Families;
  std::string service_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Families> families_;
};

// Serves /metrics over HTTP on `address` ("127.0.0.1:9151"; port 0 picks a free port).
class MetricsEndpoint {
 public:
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(const std::string& address,
                                                                RpcMetrics& metrics);
  ~MetricsEndpoint();
  int port() const;

 private:
  MetricsEndpoint() = default;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace gnlc
