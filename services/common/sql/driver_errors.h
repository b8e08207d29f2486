// Error conventions shared by the two SQL drivers.
#pragma once

#include "absl/status/status.h"
#include "services/common/status.h"

namespace gnlc::sql {

// ErrorInfo reasons the drivers use, so that callers can tell a conflict from other errors.
inline constexpr absl::string_view kConflictReason = "SQL_CONFLICT";
inline constexpr absl::string_view kUniqueViolationReason = "ALREADY_EXISTS";
inline constexpr absl::string_view kUnavailableReason = "DATABASE_UNAVAILABLE";

// A serialization failure or deadlock: the whole transaction may be retried.
inline bool IsRetryableConflict(const absl::Status& s) {
  return s.code() == absl::StatusCode::kAborted && ErrorReason(s) == kConflictReason;
}

}  // namespace gnlc::sql
