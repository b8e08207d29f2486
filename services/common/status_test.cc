#include "services/common/status.h"

#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"

namespace gnlc {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;

TEST(FieldErrors, OkWhenEmptyAndNamesEveryFieldOtherwise) {
  FieldErrors errors;
  EXPECT_TRUE(errors.ToStatus().ok());
  errors.Add("city.population", "must be positive");
  errors.Add("city.country_code", "unknown");
  absl::Status status = errors.ToStatus();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(FieldViolations(status),
              ElementsAre(Field(&FieldViolation::field, "city.population"),
                          Field(&FieldViolation::field, "city.country_code")));
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("city.country_code: unknown"));
}

TEST(ToGrpcStatus, CarriesCodeMessageAndDetailsInTheStandardTrailer) {
  absl::Status domain = InvalidArgumentError({{"name", "bad"}});
  grpc::Status wire = ToGrpcStatus(domain);
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  google::rpc::Status rpc;
  ASSERT_TRUE(rpc.ParseFromString(wire.error_details()));
  EXPECT_EQ(rpc.code(), 3);
  bool has_info = false, has_bad_request = false;
  for (const auto& any : rpc.details()) {
    google::rpc::ErrorInfo info;
    google::rpc::BadRequest bad;
    if (any.UnpackTo(&info)) {
      has_info = true;
      EXPECT_EQ(info.reason(), "INVALID_ARGUMENT");
      EXPECT_EQ(info.domain(), kErrorDomain);
    } else if (any.UnpackTo(&bad)) {
      has_bad_request = true;
      ASSERT_EQ(bad.field_violations_size(), 1);
      EXPECT_EQ(bad.field_violations(0).field(), "name");
    }
  }
  EXPECT_TRUE(has_info);
  EXPECT_TRUE(has_bad_request);
}

TEST(ToGrpcStatus, GivesEveryErrorAReasonEvenWithoutOne) {
  grpc::Status wire = ToGrpcStatus(absl::NotFoundError("gone"));
  google::rpc::Status rpc;
  ASSERT_TRUE(rpc.ParseFromString(wire.error_details()));
  ASSERT_EQ(rpc.details_size(), 1);
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(rpc.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "NOT_FOUND");
}

TEST(FromGrpcStatus, RoundTripsReasonAndViolations) {
  absl::Status original =
      PreconditionError("NOT_ELIGIBLE", "no", {{"ELIGIBILITY", "city.population", "too small"}});
  absl::Status back = FromGrpcStatus(ToGrpcStatus(original));
  EXPECT_EQ(back.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(back), "NOT_ELIGIBLE");
  ASSERT_EQ(PreconditionViolations(back).size(), 1u);
  EXPECT_EQ(PreconditionViolations(back)[0].subject, "city.population");
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

}  // namespace
}  // namespace gnlc
