#include "services/indicators/city_directory.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "gnlc/membership/v1/membership.grpc.pb.h"
#include "services/common/status.h"

namespace gnlc::indicators {

struct MembershipCityDirectory::Stub {
  std::unique_ptr<gnlc::membership::v1::MembershipService::Stub> membership;
};

MembershipCityDirectory::MembershipCityDirectory(std::shared_ptr<grpc::Channel> membership,
                                                 std::chrono::milliseconds ttl,
                                                 std::chrono::milliseconds timeout, Clock clock)
    : stub_(std::make_unique<Stub>(
          Stub{gnlc::membership::v1::MembershipService::NewStub(std::move(membership))})),
      ttl_(ttl),
      timeout_(timeout),
      clock_(std::move(clock)) {}

MembershipCityDirectory::~MembershipCityDirectory() = default;

absl::StatusOr<CityInfo> MembershipCityDirectory::Lookup(const std::string& city_id,
                                                         const std::string& bearer_token) {
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(city_id);
    if (it != cache_.end() && it->second.expires > clock_()) return it->second.city;
  }
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout_);
  if (!bearer_token.empty())
    ctx.AddMetadata("authorization", absl::StrCat("Bearer ", bearer_token));
  gnlc::membership::v1::GetCityRequest request;
  request.set_name(absl::StrCat("cities/", city_id));
  gnlc::membership::v1::GetCityResponse response;
  grpc::Status status = stub_->membership->GetCity(&ctx, request, &response);
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      break;
    case grpc::StatusCode::NOT_FOUND:
      return ErrorWithReason(absl::StatusCode::kNotFound, "UNKNOWN_CITY",
                             absl::StrCat("no city '", city_id, "' in the member register"));
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
      return FromGrpcStatus(status);
    default:
      return ErrorWithReason(
          absl::StatusCode::kUnavailable, "MEMBERSHIP_UNAVAILABLE",
          absl::StrCat("cannot check city '", city_id, "': the membership service did not answer (",
                       status.error_message(),
                       "); reads keep working, writes need the check: retry later"));
  }
  CityInfo city{
      response.city().city_id(), response.city().country_code(),
      response.city().membership().status() == gnlc::membership::v1::MemberStatus::ACTIVE};
  std::lock_guard lock(mu_);
  cache_[city_id] = {city, clock_() + ttl_};
  return city;
}

}  // namespace gnlc::indicators
