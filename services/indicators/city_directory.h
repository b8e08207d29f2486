// Which cities exist and in which country: asked of the membership service over gRPC, with
// the caller's own key (so membership's own scope rules apply), and remembered for a while.
// A city's country never changes, so a remembered answer stays right; only its existence is
// re-checked after the time to live.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace grpc {
class Channel;
}

namespace gnlc::indicators {

struct CityInfo {
  std::string city_id;
  std::string country;
  bool member = false;
};

class CityDirectory {
 public:
  virtual ~CityDirectory() = default;
  // The city, or NOT_FOUND when membership has no such city, PERMISSION_DENIED when it will
  // not show it to this caller, UNAVAILABLE when it cannot be reached. Blocking.
  virtual absl::StatusOr<CityInfo> Lookup(const std::string& city_id,
                                          const std::string& bearer_token) = 0;
};

class MembershipCityDirectory final : public CityDirectory {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  MembershipCityDirectory(std::shared_ptr<grpc::Channel> membership,
                          std::chrono::milliseconds ttl = std::chrono::minutes(1),
                          std::chrono::milliseconds timeout = std::chrono::seconds(2),
                          Clock clock = std::chrono::steady_clock::now);
  ~MembershipCityDirectory() override;
  absl::StatusOr<CityInfo> Lookup(const std::string& city_id,
                                  const std::string& bearer_token) override;

 private:
  struct Stub;
  struct Entry {
    CityInfo city;
    std::chrono::steady_clock::time_point expires;
  };
  std::unique_ptr<Stub> stub_;
  const std::chrono::milliseconds ttl_, timeout_;
  Clock clock_;
  std::mutex mu_;
  absl::flat_hash_map<std::string, Entry> cache_;
};

}  // namespace gnlc::indicators
