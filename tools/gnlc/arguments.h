// Turns what a user typed (dates, state names, ids, field lists, JSON files) into request
// fields, and rejects malformed input before anything is sent. Errors are INVALID_ARGUMENT
// whose message names the flag or argument (`what`) and says what is allowed.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gnlc/common/v1/common.pb.h"
#include "gnlc/membership/v1/membership.pb.h"
#include "google/protobuf/field_mask.pb.h"

namespace gnlc::cli {

namespace v1 = ::gnlc::membership::v1;
namespace common_v1 = ::gnlc::common::v1;

// A calendar day written YYYY-MM-DD ("2024-03-01"); impossible days (2023-02-29) are refused.
absl::StatusOr<common_v1::Date> ParseDate(absl::string_view what, absl::string_view text);

// Enum values as users write them: lower case, '-' or '_' between words, and the enum's own
// name also accepted ("withdrawn" or "WITHDRAWN_BY_CITY").
absl::StatusOr<v1::ApplicationState> ParseApplicationState(absl::string_view what,
                                                           absl::string_view text);
absl::StatusOr<v1::MemberStatus> ParseMemberStatus(absl::string_view what, absl::string_view text);
absl::StatusOr<v1::CityKind> ParseCityKind(absl::string_view what, absl::string_view text);
absl::StatusOr<common_v1::UnescoRegion> ParseRegion(absl::string_view what, absl::string_view text);
absl::StatusOr<v1::RepresentativeRole> ParseRepresentativeRole(absl::string_view what,
                                                               absl::string_view text);

// Resource names from what users type: "cn-hangzhou" or "cities/cn-hangzhou" both give
// "cities/cn-hangzhou"; the same for applications and API keys.
std::string CityName(absl::string_view id_or_name);
std::string ApplicationName(absl::string_view id_or_name);
std::string ApiKeyName(absl::string_view id_or_name);
// The last segment of a resource name: "cities/cn-hangzhou" -> "cn-hangzhou".
std::string ResourceId(absl::string_view name);

// "population, mayor" -> paths ["population", "mayor"]; empty or blank entries are refused.
absl::StatusOr<google::protobuf::FieldMask> ParseFieldMask(absl::string_view what,
                                                           absl::string_view fields);

// A JSON gnlc.membership.v1.City (either field-name spelling); unknown fields are refused so
// that a typo does not silently drop a value.
absl::StatusOr<v1::City> ParseCityJson(absl::string_view what, absl::string_view json);

// The whole content of a file.
absl::StatusOr<std::string> ReadFile(absl::string_view path);

// What is wrong with the flags of a command line: unknown flags and values that do not parse
// ("unknown flag --bogus"). absl would stop at the first with exit status 1; the CLI reports
// them all as a usage error (status 2).
std::vector<std::string> CommandLineErrors(const std::vector<std::string>& args);

}  // namespace gnlc::cli
