// The connections to the services: the membership channel (members and keys) and the
// indicators channel, their stubs, and calls that carry the caller's API key and a deadline.
// Also how Ctrl-C reaches a running command.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gnlc/access/v1/access.grpc.pb.h"
#include "gnlc/indicators/v1/indicators.grpc.pb.h"
#include "gnlc/membership/v1/membership.grpc.pb.h"
#include "services/common/status.h"

namespace gnlc::cli {

// Where and as whom to connect.
struct ConnectionSettings {
  std::string address;  // membership
  std::string indicators_address;
  // The bearer key; empty calls anonymously (published data only).
  std::string api_key;
  // Where the key came from, for `whoami` ("GNLC_API_KEY", "--key_file=PATH").
  std::string api_key_source;
  // PEM roots for TLS; empty means plaintext (loopback use).
  std::string tls_roots_pem;
  absl::Duration timeout = absl::Seconds(10);
};

// Reads the connection flags (and GNLC_API_KEY, which holds a key itself and wins over
// --key_file). INVALID_ARGUMENT when a named file cannot be read or holds no key.
absl::StatusOr<ConnectionSettings> ConnectionSettingsFromFlags();

class Connection {
 public:
  explicit Connection(ConnectionSettings settings);

  const ConnectionSettings& settings() const { return settings_; }
  gnlc::membership::v1::MembershipService::Stub& membership() { return *membership_; }
  gnlc::access::v1::AccessService::Stub& access() { return *access_; }
  gnlc::indicators::v1::IndicatorService::Stub& indicators() { return *indicators_; }

  // Sets the key and, for unary calls, the deadline on a call's context. Per-call metadata
  // rather than call credentials: gRPC refuses call credentials on plaintext channels.
  // A non-empty `api_key` replaces the connection's own key (the demo acts as a commission).
  void Prepare(grpc::ClientContext& context, bool with_deadline = true,
               const std::string& api_key = "") const;

  // One unary call on either stub, e.g. Call(&MembershipService::Stub::GetCity, req, &resp).
  template <typename Stub, typename Request, typename Response>
  absl::Status Call(grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Request&, Response*),
                    const Request& request, Response* response, const std::string& api_key = "") {
    grpc::ClientContext context;
    Prepare(context, true, api_key);
    return FromGrpcStatus((StubFor<Stub>().*rpc)(&context, request, response));
  }

 private:
  template <typename Stub>
  Stub& StubFor() {
    if constexpr (std::is_same_v<Stub, gnlc::membership::v1::MembershipService::Stub>) {
      return *membership_;
    } else if constexpr (std::is_same_v<Stub, gnlc::indicators::v1::IndicatorService::Stub>) {
      return *indicators_;
    } else {
      return *access_;
    }
  }

  ConnectionSettings settings_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<gnlc::membership::v1::MembershipService::Stub> membership_;
  std::unique_ptr<gnlc::access::v1::AccessService::Stub> access_;
  std::unique_ptr<gnlc::indicators::v1::IndicatorService::Stub> indicators_;
};

// Takes SIGINT and SIGTERM away from the default handler for this and every thread started
// later (call before gRPC starts its threads), and waits for them on a thread of its own: an
// interrupt then runs the current cancel hook, or ends the process with status 130.
void InstallInterruptHandler();

// While a hook is set, an interrupt calls it (e.g. to cancel a stream) instead of exiting.
// Pass nullptr to go back to exiting.
void SetInterruptHook(std::function<void()> hook);

// True once an interrupt has arrived.
bool Interrupted();

}  // namespace gnlc::cli
