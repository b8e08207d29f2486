#include "services/common/principal.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"

namespace gnlc {
namespace {

constexpr std::pair<Role, absl::string_view> kRoleNames[] = {
    {Role::kAnonymous, "anonymous"},
    {Role::kSecretariat, "secretariat"},
    {Role::kNationalCommission, "national_commission"},
    {Role::kMinistry, "ministry"},
    {Role::kCity, "city"},
    {Role::kPartner, "partner"},
    {Role::kService, "service"},
};

absl::string_view RoleName(Role role) {
  for (const auto& [r, name] : kRoleNames) {
    if (r == role) return name;
  }
  return "unknown";
}

bool IsCountryCode(absl::string_view s) {
  return s.size() == 2 && absl::ascii_isupper(s[0]) && absl::ascii_isupper(s[1]);
}

absl::string_view ScopeText(const Grant& g) {
  switch (g.scope) {
    case Scope::kAll:
      return "everything";
    case Scope::kOwnCountry:
      return "its own country's objects";
    case Scope::kOwnCity:
      return "its own city's objects";
    case Scope::kPublished:
      return "published objects only";
  }
  return "nothing";
}

}  // namespace

bool IsValidId(absl::string_view id) {
  if (id.size() < 2 || id.size() > 63 || !absl::ascii_islower(id[0]) || id.back() == '-') {
    return false;
  }
  for (char c : id) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-') return false;
  }
  return true;
}

std::string Principal::ToString() const {
  if (role == Role::kSecretariat || role == Role::kAnonymous) return std::string(RoleName(role));
  return absl::StrCat(RoleName(role), ":", id);
}

absl::StatusOr<Principal> ParsePrincipal(absl::string_view text) {
  auto colon = text.find(':');
  absl::string_view role_name = text.substr(0, colon);
  absl::string_view id = colon == absl::string_view::npos ? "" : text.substr(colon + 1);
  const std::string shape =
      "a principal is secretariat, national_commission:<ISO country>, ministry:<ISO country>, "
      "city:<city id>, partner:<id> or service:<name>";
  for (const auto& [role, name] : kRoleNames) {
    if (name != role_name || role == Role::kAnonymous) continue;
    Principal p{role, std::string(id), ""};
    bool ok = false;
    switch (role) {
      case Role::kSecretariat:
        ok = id.empty() && colon == absl::string_view::npos;
        break;
      case Role::kNationalCommission:
      case Role::kMinistry:
        ok = IsCountryCode(id);
        break;
      default:
        ok = IsValidId(id);
    }
    if (ok) return p;
    break;
  }
  return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a principal: ", shape));
}

bool Grant::Covers(const ObjectScope& object) const {
  switch (scope) {
    case Scope::kAll:
      return true;
    case Scope::kOwnCountry:
      return !object.country.empty() && object.country == principal.id;
    case Scope::kOwnCity:
      return !object.city_id.empty() && object.city_id == principal.id;
    case Scope::kPublished:
      return object.published;
  }
  return false;
}

absl::Status Grant::Check(const ObjectScope& object) const {
  if (Covers(object)) return absl::OkStatus();
  return ErrorWithReason(
      absl::StatusCode::kPermissionDenied, "OUT_OF_SCOPE",
      absl::StrCat(principal.ToString(), " may reach ", ScopeText(*this), " in this call"),
      {{"principal", principal.ToString()}});
}

absl::StatusOr<Grant> Authorize(const AccessTable& table, absl::string_view method,
                                const Principal& principal) {
  auto row = table.find(method);
  if (row != table.end()) {
    for (const auto& [role, scope] : row->second) {
      if (role == principal.role) return Grant{principal, scope};
    }
  }
  if (principal.role == Role::kAnonymous) {
    return ErrorWithReason(
        absl::StatusCode::kUnauthenticated, "API_KEY_REQUIRED",
        absl::StrCat(method, " needs an API key: send 'authorization: Bearer <key>'"));
  }
  return ErrorWithReason(absl::StatusCode::kPermissionDenied, "ROLE_NOT_ALLOWED",
                         absl::StrCat(principal.ToString(), " may not call ", method),
                         {{"principal", principal.ToString()}, {"method", std::string(method)}});
}

}  // namespace gnlc
