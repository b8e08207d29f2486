#include "services/common/status.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace gnlc {
namespace {

constexpr absl::string_view kTypePrefix = "type.googleapis.com/";

template <typename Proto>
std::string TypeUrl() {
  return absl::StrCat(kTypePrefix, Proto::descriptor()->full_name());
}

template <typename Proto>
void AttachDetail(absl::Status& status, const Proto& detail) {
  status.SetPayload(TypeUrl<Proto>(), absl::Cord(detail.SerializeAsString()));
}

template <typename Proto>
std::optional<Proto> ReadDetail(const absl::Status& status) {
  auto payload = status.GetPayload(TypeUrl<Proto>());
  if (!payload) return std::nullopt;
  Proto detail;
  if (!detail.ParseFromString(std::string(*payload))) return std::nullopt;
  return detail;
}

// The reason used when a status carries none: the code's own name (AIP-193 asks for one).
std::string DefaultReason(absl::StatusCode code) {
  std::string name = absl::StatusCodeToString(code);
  for (char& c : name) c = c == ' ' ? '_' : static_cast<char>(std::toupper(c));
  return name;
}

}  // namespace

absl::Status FieldErrors::ToStatus() const {
  if (violations_.empty()) return absl::OkStatus();
  return InvalidArgumentError(violations_);
}

absl::Status InvalidArgumentError(const std::vector<FieldViolation>& violations) {
  std::vector<std::string> parts;
  google::rpc::BadRequest bad_request;
  for (const FieldViolation& v : violations) {
    parts.push_back(absl::StrCat(v.field, ": ", v.description));
    auto* out = bad_request.add_field_violations();
    out->set_field(v.field);
    out->set_description(v.description);
  }
  absl::Status status =
      ErrorWithReason(absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT",
                      absl::StrCat("invalid request: ", absl::StrJoin(parts, "; ")));
  AttachDetail(status, bad_request);
  return status;
}

absl::Status ErrorWithReason(absl::StatusCode code, absl::string_view reason,
                             absl::string_view message,
                             const std::map<std::string, std::string>& metadata) {
  absl::Status status(code, message);
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(std::string(kErrorDomain));
  for (const auto& [k, v] : metadata) (*info.mutable_metadata())[k] = v;
  AttachDetail(status, info);
  return status;
}

absl::Status PreconditionError(absl::string_view reason, absl::string_view message,
                               const std::vector<PreconditionViolation>& violations) {
  std::vector<std::string> parts;
  google::rpc::PreconditionFailure failure;
  for (const PreconditionViolation& v : violations) {
    parts.push_back(v.description);
    auto* out = failure.add_violations();
    out->set_type(v.type);
    out->set_subject(v.subject);
    out->set_description(v.description);
  }
  std::string full = parts.empty() ? std::string(message)
                                   : absl::StrCat(message, ": ", absl::StrJoin(parts, "; "));
  absl::Status status = ErrorWithReason(absl::StatusCode::kFailedPrecondition, reason, full);
  AttachDetail(status, failure);
  return status;
}

std::string ErrorReason(const absl::Status& status) {
  auto info = ReadDetail<google::rpc::ErrorInfo>(status);
  return info ? info->reason() : "";
}

std::vector<FieldViolation> FieldViolations(const absl::Status& status) {
  std::vector<FieldViolation> out;
  if (auto bad = ReadDetail<google::rpc::BadRequest>(status)) {
    for (const auto& v : bad->field_violations()) out.push_back({v.field(), v.description()});
  }
  return out;
}

std::vector<PreconditionViolation> PreconditionViolations(const absl::Status& status) {
  std::vector<PreconditionViolation> out;
  if (auto failure = ReadDetail<google::rpc::PreconditionFailure>(status)) {
    for (const auto& v : failure->violations())
      out.push_back({v.type(), v.subject(), v.description()});
  }
  return out;
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  google::rpc::Status rpc_status;
  rpc_status.set_code(static_cast<int>(status.code()));
  rpc_status.set_message(std::string(status.message()));
  bool has_info = false;
  status.ForEachPayload([&](absl::string_view type_url, const absl::Cord& payload) {
    if (!absl::StartsWith(type_url, kTypePrefix)) return;
    auto* any = rpc_status.add_details();
    any->set_type_url(std::string(type_url));
    any->set_value(std::string(payload));
    has_info = has_info || type_url == TypeUrl<google::rpc::ErrorInfo>();
  });
  if (!has_info) {
    google::rpc::ErrorInfo info;
    info.set_reason(DefaultReason(status.code()));
    info.set_domain(std::string(kErrorDomain));
    rpc_status.add_details()->PackFrom(info);
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()),
                      rpc_status.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  google::rpc::Status rpc_status;
  if (!status.error_details().empty() && rpc_status.ParseFromString(status.error_details())) {
    for (const auto& any : rpc_status.details()) {
      out.SetPayload(any.type_url(), absl::Cord(any.value()));
    }
  }
  return out;
}

}  // namespace gnlc
