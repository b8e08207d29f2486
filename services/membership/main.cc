// gnlc-membership: the member register (MembershipService) and API keys (AccessService).
#include "absl/flags/flag.h"
#include "services/common/config.h"
#include "services/common/logging.h"
#include "services/common/server.h"
#include "services/membership/membership_api.h"

ABSL_FLAG(std::string, bootstrap_key_file, "",
          "for local use: a file holding a secretariat API key, created when missing");

int main(int argc, char** argv) {
  gnlc::BlockTerminationSignals();
  gnlc::ParseCommandLine(argc, argv, "gnlc-membership --database=sqlite:var/membership.db");
  auto config = gnlc::ServerConfigFromFlags("membership");
  if (!config.ok()) {
    std::fprintf(stderr, "gnlc-membership: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  gnlc::InitLogging(config->log_format, config->log_level);
  auto fail = [](absl::string_view what, const absl::Status& status) {
    gnlc::LogEvent(spdlog::level::critical, "start_failed",
                   {{"step", what}, {"error", std::string(status.message())}});
    return 1;
  };

  auto db = gnlc::sql::Database::Open(config->database_url, config->workers);
  if (!db.ok()) return fail("database", db.status());
  gnlc::membership::MembershipStore store(**db);
  if (auto st = store.Migrate(); !st.ok()) return fail("migrations", st);
  if (std::string path = absl::GetFlag(FLAGS_bootstrap_key_file); !path.empty()) {
    if (auto st = gnlc::membership::EnsureBootstrapKey(store, path); !st.ok()) {
      return fail("bootstrap key", st);
    }
  }

  gnlc::WorkerPool pool(config->workers, config->max_queued_calls);
  gnlc::RpcMetrics metrics("membership");
  gnlc::membership::StoreAuthenticator authenticator(store);
  gnlc::CallGate gate("membership", gnlc::membership::MembershipAccessTable(), authenticator, pool,
                      metrics);
  std::atomic<bool> stopping{false};
  gnlc::membership::MembershipApi membership(store, gate, stopping);
  gnlc::membership::AccessApi access(store, gate);

  std::unique_ptr<gnlc::MetricsEndpoint> metrics_endpoint;
  if (!config->metrics_address.empty()) {
    auto endpoint = gnlc::MetricsEndpoint::Start(config->metrics_address, metrics);
    if (!endpoint.ok()) return fail("metrics", endpoint.status());
    metrics_endpoint = std::move(*endpoint);
  }
  auto server = gnlc::GrpcServer::Start(
      *config, {&membership, &access},
      {"gnlc.membership.v1.MembershipService", "gnlc.access.v1.AccessService"});
  if (!server.ok()) return fail("listen", server.status());
  gnlc::LogEvent(
      spdlog::level::info, "serving",
      {{"address", config->listen_address},
       {"port", (*server)->port()},
       {"database", (**db).dialect() == gnlc::sql::Dialect::kSqlite ? "sqlite" : "postgresql"},
       {"metrics", config->metrics_address}});

  std::string signal = gnlc::WaitForTerminationSignal();
  gnlc::LogEvent(spdlog::level::info, "stopping", {{"signal", signal}});
  stopping = true;  // event streams end themselves; unary calls get the grace period
  (*server)->Shutdown(config->shutdown_grace);
  pool.Drain();
  gnlc::LogEvent(spdlog::level::info, "stopped");
  return 0;
}
