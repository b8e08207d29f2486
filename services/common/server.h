// What every GNLC server is made of: a gRPC server with health and reflection, and the call
// gate through which every RPC passes (authentication, the authorization table, the worker
// pool, metrics and logs), so that each service's adapter holds only its own logic.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/authenticator.h"
#include "services/common/config.h"
#include "services/common/metrics.h"
#include "services/common/principal.h"
#include "services/common/worker_pool.h"

namespace gnlc {

// A running gRPC server: the given services plus grpc.health.v1.Health and server reflection.
class GrpcServer {
 public:
  // Listens on config.listen_address (TLS when the config names certificate files). The
  // health service reports SERVING for "" and for every name in `service_names`.
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(
      const ServerConfig& config, const std::vector<grpc::Service*>& services,
      const std::vector<std::string>& service_names);
  ~GrpcServer();

  int port() const { return port_; }
  // Marks every service NOT_SERVING (so load balancers stop sending), then stops accepting
  // calls and lets in-flight ones finish for up to `grace` before cancelling them.
  void Shutdown(absl::Duration grace);
  // True once Shutdown began; long-lived streams check it to end themselves cleanly.
  bool shutting_down() const { return shutting_down_; }
  // A channel to this server (in-process), for tests and for the server's own loopback use.
  std::shared_ptr<grpc::Channel> InProcessChannel();

 private:
  GrpcServer() = default;
  std::unique_ptr<grpc::Server> server_;
  std::vector<std::string> service_names_;
  int port_ = 0;
  std::atomic<bool> shutting_down_{false};
};

// Every RPC of a service passes through one gate: it reads the bearer key, authenticates it,
// looks the RPC up in the service's authorization table (deny by default), runs the handler
// on the worker pool, and records the outcome in metrics and, for failures, in the log.
class CallGate {
 public:
  CallGate(std::string service, const AccessTable& table, Authenticator& authenticator,
           WorkerPool& pool, RpcMetrics& metrics);

  using UnaryHandler = std::function<absl::Status(const Grant&)>;

  // For a unary callback method: returns the reactor to hand back to gRPC and finishes it
  // from a worker with the handler's status (the handler fills the response).
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* ctx, absl::string_view method,
                                  UnaryHandler handler);

  // Authenticates and authorizes a call (blocking: call from the pool). Streams use it.
  absl::StatusOr<Grant> Admit(const grpc::CallbackServerContext& ctx, absl::string_view method);

  // Records a finished call (streams record themselves when they end).
  void Record(absl::string_view method, const absl::Status& status, absl::Duration elapsed);

  WorkerPool& pool() { return pool_; }

 private:
  const std::string service_;
  const AccessTable& table_;
  Authenticator& authenticator_;
  WorkerPool& pool_;
  RpcMetrics& metrics_;
};

// Blocks SIGINT and SIGTERM in this thread and every thread started after it; call first in
// main so that WaitForTerminationSignal can receive them.
void BlockTerminationSignals();
// Waits for SIGINT or SIGTERM and returns its name.
std::string WaitForTerminationSignal();

}  // namespace gnlc
