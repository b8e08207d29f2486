// Turns a bearer API key into a principal. Membership checks its own key store; every other
// service asks membership (RemoteAuthenticator) behind a short-lived cache, so no service reads
// another's database and a revocation reaches every service within the cache's time to live.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "services/common/principal.h"

namespace grpc {
class Channel;
}

namespace gnlc {

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // The principal of a bearer token: UNAUTHENTICATED for an unknown, malformed or revoked
  // key; UNAVAILABLE when the key store cannot be reached. Blocking.
  virtual absl::StatusOr<Principal> Authenticate(absl::string_view token) = 0;
};

// Remembers answers (principals and refusals, not outages) for `ttl`. The ttl is the bound on
// how long a revoked key keeps working on a service that uses this cache. While the key store
// is unreachable, a principal verified within `stale_during_outage` is still accepted, so that
// reads go on through an outage of membership.
class CachingAuthenticator final : public Authenticator {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  CachingAuthenticator(Authenticator& inner, std::chrono::milliseconds ttl,
                       Clock clock = std::chrono::steady_clock::now,
                       std::chrono::milliseconds stale_during_outage = {});
  absl::StatusOr<Principal> Authenticate(absl::string_view token) override;

 private:
  struct Entry {
    absl::StatusOr<Principal> result;
    std::chrono::steady_clock::time_point verified;
  };
  Authenticator& inner_;
  const std::chrono::milliseconds ttl_;
  const std::chrono::milliseconds stale_during_outage_;
  Clock clock_;
  std::mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_;  // keyed by token hash
};

// Asks the membership service's AccessService.WhoAmI, presenting the caller's own key.
class RemoteAuthenticator final : public Authenticator {
 public:
  explicit RemoteAuthenticator(std::shared_ptr<grpc::Channel> membership,
                               std::chrono::milliseconds timeout = std::chrono::seconds(2));
  ~RemoteAuthenticator() override;
  absl::StatusOr<Principal> Authenticate(absl::string_view token) override;

 private:
  struct Stub;
  std::unique_ptr<Stub> stub_;
  std::chrono::milliseconds timeout_;
};

// How long other services may keep honouring a revoked key (see README, "API keys").
inline constexpr std::chrono::seconds kKeyCacheTtl{30};
// How long, while membership cannot be reached, they keep accepting keys verified before.
inline constexpr std::chrono::minutes kKeyStaleDuringOutage{10};

}  // namespace gnlc
