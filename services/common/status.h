// Errors with google.rpc details, built by domain code without touching protos, and turned
// into a gRPC status in one place (ToGrpcStatus) by every service's API adapter.
#pragma once

#include <grpcpp/support/status.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

// Returns from the enclosing function when expr is not OK.
#define GNLC_RETURN_IF_ERROR(expr)                        \
  do {                                                    \
    if (absl::Status _gnlc_st = (expr); !_gnlc_st.ok()) { \
      return _gnlc_st;                                    \
    }                                                     \
  } while (0)

#define GNLC_CONCAT_INNER(a, b) a##b
#define GNLC_CONCAT(a, b) GNLC_CONCAT_INNER(a, b)
// Declares lhs from a StatusOr expression, or returns its error.
#define GNLC_ASSIGN_OR_RETURN(lhs, expr) \
  GNLC_ASSIGN_OR_RETURN_IMPL(GNLC_CONCAT(_gnlc_or_, __LINE__), lhs, expr)
#define GNLC_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(*tmp)

namespace gnlc {

// ErrorInfo.domain of every error this platform produces.
inline constexpr absl::string_view kErrorDomain = "gnlc.unesco.org";

// One bad field of a request ("city.population") and what is wrong with it.
struct FieldViolation {
  std::string field;
  std::string description;
};

// One unmet workflow precondition ("ELIGIBILITY", "city.population", "fewer than 10,000 ...").
struct PreconditionViolation {
  std::string type;
  std::string subject;
  std::string description;
};

// Collects field violations while a request is validated, so that every bad field is named.
class FieldErrors {
 public:
  void Add(std::string field, std::string description) {
    violations_.push_back({std::move(field), std::move(description)});
  }
  bool empty() const { return violations_.empty(); }
  const std::vector<FieldViolation>& violations() const { return violations_; }
  // OK when nothing was added; otherwise INVALID_ARGUMENT naming every field.
  absl::Status ToStatus() const;

 private:
  std::vector<FieldViolation> violations_;
};

// INVALID_ARGUMENT with a BadRequest detail and ErrorInfo reason INVALID_ARGUMENT.
absl::Status InvalidArgumentError(const std::vector<FieldViolation>& violations);

// An error of any code with a stable ErrorInfo reason (UPPER_SNAKE, AIP-193) and metadata.
absl::Status ErrorWithReason(absl::StatusCode code, absl::string_view reason,
                             absl::string_view message,
                             const std::map<std::string, std::string>& metadata = {});

// FAILED_PRECONDITION naming every unmet precondition.
absl::Status PreconditionError(absl::string_view reason, absl::string_view message,
                               const std::vector<PreconditionViolation>& violations);

// The ErrorInfo reason of a status made by the functions above ("" if none).
std::string ErrorReason(const absl::Status& status);
// The field violations carried by an INVALID_ARGUMENT status.
std::vector<FieldViolation> FieldViolations(const absl::Status& status);
// The precondition violations carried by a FAILED_PRECONDITION status.
std::vector<PreconditionViolation> PreconditionViolations(const absl::Status& status);

// The gRPC status for a domain status: same code and message, with google.rpc.Status details
// (every error gets an ErrorInfo; a reason is derived from the code when none was set).
grpc::Status ToGrpcStatus(const absl::Status& status);

// The domain status for a gRPC status received by a client, details preserved.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace gnlc
