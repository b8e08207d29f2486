#include "services/common/authenticator.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "gnlc/access/v1/access.grpc.pb.h"
#include "services/common/api_key.h"
#include "services/common/status.h"

namespace gnlc {

CachingAuthenticator::CachingAuthenticator(Authenticator& inner, std::chrono::milliseconds ttl,
                                           Clock clock,
                                           std::chrono::milliseconds stale_during_outage)
    : inner_(inner),
      ttl_(ttl),
      stale_during_outage_(stale_during_outage),
      clock_(std::move(clock)) {}

absl::StatusOr<Principal> CachingAuthenticator::Authenticate(absl::string_view token) {
  std::string key = HashApiKey(token);
  auto now = clock_();
  {
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(key); it != entries_.end() && now - it->second.verified < ttl_) {
      return it->second.result;
    }
  }
  absl::StatusOr<Principal> result = inner_.Authenticate(token);
  if (!result.ok() && result.status().code() == absl::StatusCode::kUnavailable) {
    // An outage is not an answer about the key: ask again next time, and meanwhile accept a
    // principal verified recently enough.
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second.result.ok() &&
        now - it->second.verified < stale_during_outage_) {
      return it->second.result;
    }
    return result;
  }
  if (!result.ok() && result.status().code() != absl::StatusCode::kUnauthenticated) return result;
  std::lock_guard lock(mu_);
  constexpr size_t kMaxEntries = 100000;  // bounds memory under a flood of made-up keys
  if (entries_.size() >= kMaxEntries) entries_.clear();
  entries_[key] = Entry{result, now};
  return result;
}

struct RemoteAuthenticator::Stub {
  std::unique_ptr<gnlc::access::v1::AccessService::Stub> access;
};

RemoteAuthenticator::RemoteAuthenticator(std::shared_ptr<grpc::Channel> membership,
                                         std::chrono::milliseconds timeout)
    : stub_(std::make_unique<Stub>(
          Stub{gnlc::access::v1::AccessService::NewStub(std::move(membership))})),
      timeout_(timeout) {}

RemoteAuthenticator::~RemoteAuthenticator() = default;

absl::StatusOr<Principal> RemoteAuthenticator::Authenticate(absl::string_view token) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout_);
  ctx.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  gnlc::access::v1::WhoAmIRequest request;
  gnlc::access::v1::WhoAmIResponse response;
  grpc::Status status = stub_->access->WhoAmI(&ctx, request, &response);
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) return FromGrpcStatus(status);
  if (!status.ok()) {
    return ErrorWithReason(absl::StatusCode::kUnavailable, "KEY_CHECK_UNAVAILABLE",
                           absl::StrCat("cannot verify the API key: the membership service did "
                                        "not answer (",
                                        status.error_message(), "); retry later"));
  }
  auto principal = ParsePrincipal(response.principal());
  if (!principal.ok()) return absl::InternalError("membership returned a malformed principal");
  principal->key_id = response.key_id();
  return principal;
}

}  // namespace gnlc
