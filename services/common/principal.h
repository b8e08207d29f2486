// Who is calling: the principal an API key maps to, and what an RPC lets it reach.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace gnlc {

enum class Role {
  kAnonymous,           // no key: reads published data only
  kSecretariat,         // the GNLC coordination team at UIL
  kNationalCommission,  // a National Commission for UNESCO; id = ISO 3166-1 alpha-2
  kMinistry,            // a national ministry; id = ISO 3166-1 alpha-2
  kCity,                // a city coordinator; id = city id
  kPartner,             // a partner platform; id = partner id
  kService,             // another GNLC service; id = service name
};

struct Principal {
  Role role = Role::kAnonymous;
  // The country, city, partner or service the principal speaks for ("" for the secretariat).
  std::string id;
  // The API key that authenticated the call ("" for anonymous).
  std::string key_id;

  // "secretariat", "national_commission:FR", "city:cn-hangzhou", "anonymous"...
  std::string ToString() const;
  bool operator==(const Principal& other) const = default;
};

// True for an id of 2-63 lower-case letters, digits and hyphens that starts with a letter and
// does not end with a hyphen: city ids ("cn-hangzhou"), partner ids and service names.
bool IsValidId(absl::string_view id);

// Parses a principal as written in ToString(); checks the shape of the id (a two-letter
// upper-case country, a city id of lower-case letters, digits and hyphens), not existence.
absl::StatusOr<Principal> ParsePrincipal(absl::string_view text);

// How far a role's grant reaches for one RPC.
enum class Scope {
  kAll,         // every object
  kOwnCountry,  // objects of the principal's country
  kOwnCity,     // objects of the principal's city
  kPublished,   // published objects only (registered members, published data)
};

// The country, city and visibility of the object a call touches.
struct ObjectScope {
  std::string country;
  std::string city_id;
  bool published = false;
};

// What a caller may reach in one call: the principal and the scope its role has there.
struct Grant {
  Principal principal;
  Scope scope = Scope::kPublished;

  bool Covers(const ObjectScope& object) const;
  // OK, or PERMISSION_DENIED naming the principal and what it may reach.
  absl::Status Check(const ObjectScope& object) const;
};

// One service's authorization table: RPC name -> the roles allowed and the scope of each.
// An RPC missing from the table, or a role missing from its row, is refused.
using AccessTable = absl::flat_hash_map<std::string, std::vector<std::pair<Role, Scope>>>;

// The grant of `principal` for `method`: UNAUTHENTICATED for an anonymous caller the row does
// not admit, PERMISSION_DENIED for any other refused caller or an RPC not in the table.
absl::StatusOr<Grant> Authorize(const AccessTable& table, absl::string_view method,
                                const Principal& principal);

}  // namespace gnlc
