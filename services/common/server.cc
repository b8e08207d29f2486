#include "services/common/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "services/common/api_key.h"
#include "services/common/logging.h"
#include "services/common/status.h"

namespace gnlc {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path, absl::string_view setting) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(setting, ": cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(
    const ServerConfig& config, const std::vector<grpc::Service*>& services,
    const std::vector<std::string>& service_names) {
  std::shared_ptr<grpc::ServerCredentials> credentials;
  if (!config.tls_cert_file.empty()) {
    GNLC_ASSIGN_OR_RETURN(std::string cert, ReadFile(config.tls_cert_file, "--tls_cert"));
    GNLC_ASSIGN_OR_RETURN(std::string key, ReadFile(config.tls_key_file, "--tls_key"));
    grpc::SslServerCredentialsOptions options;
    options.pem_key_cert_pairs.push_back({key, cert});
    credentials = grpc::SslServerCredentials(options);
  } else {
    credentials = grpc::InsecureServerCredentials();
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  std::unique_ptr<GrpcServer> out(new GrpcServer());
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listen_address, credentials, &out->port_);
  for (grpc::Service* service : services) builder.RegisterService(service);
  out->server_ = builder.BuildAndStart();
  if (!out->server_ || out->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", config.listen_address, " (in use, or not an address)"));
  }
  out->service_names_ = service_names;
  auto* health = out->server_->GetHealthCheckService();
  health->SetServingStatus(true);
  for (const std::string& name : service_names) health->SetServingStatus(name, true);
  return out;
}

GrpcServer::~GrpcServer() {
  if (!shutting_down_) Shutdown(absl::ZeroDuration());
}

void GrpcServer::Shutdown(absl::Duration grace) {
  if (shutting_down_.exchange(true)) return;
  server_->GetHealthCheckService()->Shutdown();  // every service NOT_SERVING
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
}

std::shared_ptr<grpc::Channel> GrpcServer::InProcessChannel() {
  return server_->InProcessChannel(grpc::ChannelArguments());
}

CallGate::CallGate(std::string service, const AccessTable& table, Authenticator& authenticator,
                   WorkerPool& pool, RpcMetrics& metrics)
    : service_(std::move(service)),
      table_(table),
      authenticator_(authenticator),
      pool_(pool),
      metrics_(metrics) {}

absl::StatusOr<Grant> CallGate::Admit(const grpc::CallbackServerContext& ctx,
                                      absl::string_view method) {
  Principal principal;
  const auto& metadata = ctx.client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    GNLC_ASSIGN_OR_RETURN(std::string token,
                          BearerToken(absl::string_view(it->second.data(), it->second.size())));
    GNLC_ASSIGN_OR_RETURN(principal, authenticator_.Authenticate(token));
  }
  return Authorize(table_, method, principal);
}

void CallGate::Record(absl::string_view method, const absl::Status& status,
                      absl::Duration elapsed) {
  metrics_.Record(method, status.code(), absl::ToDoubleSeconds(elapsed));
  // Client mistakes are the client's business; our own failures need a look.
  bool ours = status.code() == absl::StatusCode::kInternal ||
              status.code() == absl::StatusCode::kUnknown ||
              status.code() == absl::StatusCode::kDataLoss;
  if (ours) {
    LogEvent(spdlog::level::err, "rpc_failed",
             {{"service", service_},
              {"method", method},
              {"code", absl::StatusCodeToString(status.code())},
              {"error", status.message()}});
  } else {
    LogEvent(spdlog::level::debug, "rpc",
             {{"service", service_},
              {"method", method},
              {"code", absl::StatusCodeToString(status.code())},
              {"ms", absl::ToDoubleMilliseconds(elapsed)}});
  }
}

grpc::ServerUnaryReactor* CallGate::Unary(grpc::CallbackServerContext* ctx,
                                          absl::string_view method, UnaryHandler handler) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  absl::Time start = absl::Now();
  bool queued = pool_.TrySubmit([this, ctx, reactor, method, start, handler = std::move(handler)] {
    absl::Status status;
    if (ctx->IsCancelled()) {
      status = absl::CancelledError("the call was cancelled or its deadline passed before it ran");
    } else if (auto grant = Admit(*ctx, method); !grant.ok()) {
      status = grant.status();
    } else {
      status = handler(*grant);
    }
    Record(method, status, absl::Now() - start);
    reactor->Finish(ToGrpcStatus(status));
  });
  if (!queued) {
    absl::Status busy =
        ErrorWithReason(absl::StatusCode::kResourceExhausted, "SERVER_BUSY",
                        "the server is at capacity or shutting down; retry with backoff");
    Record(method, busy, absl::Now() - start);
    reactor->Finish(ToGrpcStatus(busy));
  }
  return reactor;
}

void BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

std::string WaitForTerminationSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int signal = 0;
  sigwait(&set, &signal);
  return signal == SIGINT ? "SIGINT" : "SIGTERM";
}

}  // namespace gnlc
