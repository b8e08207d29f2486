// The membership database: cities, applications, members, representatives, contributions,
// the change log and API keys. Every write runs in one transaction together with its event
// (and its idempotency record), so a failed request writes nothing and no change goes
// unlogged. Works unchanged on SQLite and PostgreSQL.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/api_fields.h"
#include "services/common/sql/database.h"
#include "services/common/sql/migrations.h"
#include "services/membership/domain.h"

namespace gnlc::membership {

std::span<const sql::Migration> MembershipMigrations();

// Makes a create safe to retry: the same principal sending the same request_id gets the
// resource created the first time; a different request under that id is refused.
struct Idempotency {
  std::string principal;
  std::string request_id;   // empty: not idempotent
  std::string fingerprint;  // hash of the request
};

struct CityFilter {
  std::string country;
  int region = 0;  // UnescoRegion value; 0 for any
  MemberStatus member_status = MemberStatus::kUnspecified;
  CityKind kind = CityKind::kUnspecified;
  std::string query;  // substring of a name in any language
  // The caller's reach. With none of these set, every city; otherwise the published ones
  // (registered members) plus those of scope_country or the city scope_city.
  bool published_only = false;
  std::string scope_country;
  std::string scope_city;
};

struct ApplicationFilter {
  std::string country;
  std::string city_id;
  ApplicationState state = ApplicationState::kUnspecified;
  std::string scope_country;
  std::string scope_city;
};

struct EventFilter {
  std::string city_id;
  std::string country;
  int64_t after_seq = 0;
  int limit = 100;
  // The caller's reach, as in CityFilter: published events plus those of its country or city.
  bool published_only = false;
  std::string scope_country;
  std::string scope_city;
};

struct ApiKeyRecord {
  std::string key_id;
  std::string hash;
  std::string principal;
  std::string description;
  int64_t created_at_us = 0;
  std::string created_by;
  int64_t revoked_at_us = 0;
  std::string revoked_by;
  std::string revoke_reason;
};

// A check run inside a write transaction on the current state; an error aborts the write.
template <typename... T>
using Guard = std::function<absl::Status(const T&...)>;

class MembershipStore {
 public:
  explicit MembershipStore(sql::Database& db) : db_(db) {}

  // Applies the schema migrations.
  absl::Status Migrate();

  // --- Cities
  // ALREADY_EXISTS when the id is taken (by another request).
  absl::StatusOr<City> CreateCity(const City& city, const std::string& actor,
                                  const Idempotency& idempotency);
  absl::StatusOr<City> GetCity(const std::string& city_id);
  // Up to `limit` cities after `after_id`, by id.
  absl::StatusOr<std::vector<City>> ListCities(const CityFilter& filter,
                                               const std::string& after_id, int limit);
  // Loads the city, checks `guard` and the expected revision (ABORTED on mismatch), lets
  // `mutate` change it (an error from mutate aborts), and writes it with a CITY_UPDATED event.
  absl::StatusOr<City> UpdateCity(const std::string& city_id,
                                  std::optional<int64_t> expected_revision,
                                  const Guard<City>& guard,
                                  const std::function<absl::Status(City&)>& mutate,
                                  const std::string& actor);

  // --- Applications
  absl::StatusOr<Application> CreateApplication(const Application& application,
                                                const Guard<City>& guard, const std::string& actor,
                                                const Idempotency& idempotency);
  absl::StatusOr<Application> GetApplication(const std::string& application_id);
  absl::StatusOr<std::vector<Application>> ListApplications(const ApplicationFilter& filter,
                                                            const std::string& after_id, int limit);
  // Moves an application through the state machine in one transaction: loads it and its
  // city, checks the expected revision, computes the next state, runs `guard` (scope and
  // eligibility checks), applies `mutate`, and records the transition and event. For
  // kRegister, also makes the city an active member.
  absl::StatusOr<Application> ApplyAction(const std::string& application_id,
                                          ApplicationAction action,
                                          std::optional<int64_t> expected_revision,
                                          const Guard<Application, City>& guard,
                                          const std::function<void(Application&)>& mutate,
                                          const std::string& actor, const std::string& comment);

  // --- Members
  absl::StatusOr<City> ChangeMemberStatus(const std::string& city_id, MemberAction action,
                                          const Guard<City>& guard, const std::string& reason,
                                          const std::string& actor);

  absl::StatusOr<Representative> AddRepresentative(const Representative& representative,
                                                   const Guard<City>& guard,
                                                   const std::string& actor,
                                                   const Idempotency& idempotency);
  absl::StatusOr<Representative> RemoveRepresentative(const std::string& city_id,
                                                      const std::string& representative_id,
                                                      const Guard<City>& guard,
                                                      const std::string& reason,
                                                      const std::string& actor);
  absl::StatusOr<std::vector<Representative>> ListRepresentatives(const std::string& city_id,
                                                                  bool include_removed);

  absl::StatusOr<Contribution> RecordContribution(const Contribution& contribution,
                                                  const Guard<City>& guard,
                                                  const std::string& actor,
                                                  const Idempotency& idempotency);
  absl::StatusOr<std::vector<Contribution>> ListContributions(const std::string& city_id,
                                                              const std::string& after_id,
                                                              int limit);

  // --- Change log
  absl::StatusOr<std::vector<Event>> ListEvents(const EventFilter& filter);
  // The seq of the newest event (0 when there is none).
  absl::StatusOr<int64_t> LatestEventSeq();

  // --- API keys
  absl::Status InsertApiKey(const ApiKeyRecord& key, const Idempotency& idempotency);
  absl::StatusOr<std::optional<ApiKeyRecord>> FindApiKey(const std::string& key_id);
  // The key issued earlier under this idempotency key, if any.
  absl::StatusOr<std::optional<ApiKeyRecord>> FindIssuedKey(const Idempotency& idempotency);
  absl::StatusOr<std::vector<ApiKeyRecord>> ListApiKeys(const std::string& principal,
                                                        bool include_revoked,
                                                        int64_t before_created_at_us, int limit);
  // FAILED_PRECONDITION when already revoked.
  absl::StatusOr<ApiKeyRecord> RevokeApiKey(const std::string& key_id, const std::string& reason,
                                            const std::string& actor);

 private:
  sql::Database& db_;
};

// A new random resource id with a prefix ("app-3f9c0a1b2c4d").
std::string NewResourceId(absl::string_view prefix);

}  // namespace gnlc::membership
