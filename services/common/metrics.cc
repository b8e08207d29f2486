#include "services/common/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "absl/strings/str_cat.h"

namespace gnlc {

struct RpcMetrics::Families {
  prometheus::Family<prometheus::Counter>& calls;
  prometheus::Family<prometheus::Histogram>& latency;
};

RpcMetrics::RpcMetrics(std::string service)
    : service_(std::move(service)), registry_(std::make_shared<prometheus::Registry>()) {
  families_ = std::make_unique<Families>(Families{
      prometheus::BuildCounter()
          .Name("gnlc_rpc_calls_total")
          .Help("Finished RPCs by service, method and status code")
          .Register(*registry_),
      prometheus::BuildHistogram()
          .Name("gnlc_rpc_duration_seconds")
          .Help("RPC latency from arrival to finish, by service and method")
          .Register(*registry_),
  });
}

RpcMetrics::~RpcMetrics() = default;

void RpcMetrics::Record(absl::string_view method, absl::StatusCode code, double seconds) {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
  std::string m(method);
  families_->calls
      .Add({{"service", service_}, {"method", m}, {"code", absl::StatusCodeToString(code)}})
      .Increment();
  families_->latency.Add({{"service", service_}, {"method", m}}, kBuckets).Observe(seconds);
}

std::string RpcMetrics::Render() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(const std::string& address,
                                                                        RpcMetrics& metrics) {
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint());
  try {
    endpoint->exposer_ = std::make_unique<prometheus::Exposer>(address);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot serve metrics on '", address, "': ", e.what()));
  }
  endpoint->exposer_->RegisterCollectable(metrics.registry());
  return endpoint;
}

MetricsEndpoint::~MetricsEndpoint() = default;

int MetricsEndpoint::port() const {
  auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

}  // namespace gnlc
