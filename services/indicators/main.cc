// gnlc-indicators: indicator storage (IndicatorService). Keys and cities are checked with the
// membership service.
#include <grpcpp/grpcpp.h>

#include "services/common/config.h"
#include "services/common/logging.h"
#include "services/common/server.h"
#include "services/indicators/indicators_api.h"

int main(int argc, char** argv) {
  gnlc::BlockTerminationSignals();
  gnlc::ParseCommandLine(argc, argv, "gnlc-indicators --database=sqlite:var/indicators.db");
  auto config = gnlc::ServerConfigFromFlags("indicators");
  if (!config.ok()) {
    std::fprintf(stderr, "gnlc-indicators: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  gnlc::InitLogging(config->log_format, config->log_level);
  auto fail = [](absl::string_view what, const absl::Status& status) {
    gnlc::LogEvent(spdlog::level::critical, "start_failed",
                   {{"step", what}, {"error", std::string(status.message())}});
    return 1;
  };

  const gnlc::indicators::Catalog& catalog = gnlc::indicators::Catalog::Builtin();
  auto db = gnlc::sql::Database::Open(config->database_url, config->workers);
  if (!db.ok()) return fail("database", db.status());
  gnlc::indicators::IndicatorStore store(**db, catalog);
  if (auto st = store.Migrate(); !st.ok()) return fail("migrations", st);

  // Loopback plaintext to membership, as for local use; put a TLS proxy in front otherwise.
  auto membership =
      grpc::CreateChannel(config->membership_address, grpc::InsecureChannelCredentials());
  gnlc::RemoteAuthenticator remote_keys(membership);
  // Keys verified in the last minutes keep working through a membership outage: reads go on.
  gnlc::CachingAuthenticator authenticator(
      remote_keys, gnlc::kKeyCacheTtl, std::chrono::steady_clock::now, gnlc::kKeyStaleDuringOutage);
  gnlc::indicators::MembershipCityDirectory cities(membership);

  gnlc::WorkerPool pool(config->workers, config->max_queued_calls);
  gnlc::RpcMetrics metrics("indicators");
  gnlc::CallGate gate("indicators", gnlc::indicators::IndicatorAccessTable(), authenticator, pool,
                      metrics);
  std::atomic<bool> stopping{false};
  gnlc::indicators::IndicatorApi indicators(store, catalog, cities, gate, metrics, stopping);

  std::unique_ptr<gnlc::MetricsEndpoint> metrics_endpoint;
  if (!config->metrics_address.empty()) {
    auto endpoint = gnlc::MetricsEndpoint::Start(config->metrics_address, metrics);
    if (!endpoint.ok()) return fail("metrics", endpoint.status());
    metrics_endpoint = std::move(*endpoint);
  }
  auto server =
      gnlc::GrpcServer::Start(*config, {&indicators}, {"gnlc.indicators.v1.IndicatorService"});
  if (!server.ok()) return fail("listen", server.status());
  gnlc::LogEvent(
      spdlog::level::info, "serving",
      {{"address", config->listen_address},
       {"port", (*server)->port()},
       {"database", (**db).dialect() == gnlc::sql::Dialect::kSqlite ? "sqlite" : "postgresql"},
       {"catalog", catalog.version()},
       {"membership", config->membership_address},
       {"metrics", config->metrics_address}});

  std::string signal = gnlc::WaitForTerminationSignal();
  gnlc::LogEvent(spdlog::level::info, "stopping", {{"signal", signal}});
  stopping = true;              // feeds end themselves; unary calls get the grace period
  indicators.EndSyncStreams();  // a sync stream may sit idle between a client's batches
  (*server)->Shutdown(config->shutdown_grace);
  pool.Drain();
  gnlc::LogEvent(spdlog::level::info, "stopped");
  return 0;
}
