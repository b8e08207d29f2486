#include "services/membership/membership_store.h"

#include <sodium.h>

#include <chrono>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "services/common/countries.h"
#include "services/common/sql/driver_errors.h"
#include "services/common/status.h"

namespace gnlc::membership {

using sql::Connection;
using sql::Row;
using sql::Value;

std::string NewResourceId(absl::string_view prefix) {
  unsigned char bytes[6];
  randombytes_buf(bytes, sizeof bytes);
  return absl::StrCat(prefix,
                      absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(bytes), 6)));
}

namespace {

absl::Status NotFound(absl::string_view type, absl::string_view name) {
  return ErrorWithReason(absl::StatusCode::kNotFound, "NOT_FOUND",
                         absl::StrCat(type, " '", name, "' does not exist"),
                         {{"resource", std::string(name)}});
}

absl::Status StaleEtag(absl::string_view name, int64_t current) {
  return ErrorWithReason(absl::StatusCode::kAborted, "ETAG_MISMATCH",
                         absl::StrCat(name, " was changed by someone else (now at etag r", current,
                                      "); read it again and retry"),
                         {{"resource", std::string(name)}, {"etag", absl::StrCat("r", current)}});
}

// --- Events -----------------------------------------------------------------------------

absl::StatusOr<int64_t> NextSeq(Connection& conn) {
  GNLC_ASSIGN_OR_RETURN(auto rows,
                        conn.Query("UPDATE counters SET value = value + 1 WHERE name = 'events' "
                                   "RETURNING value"));
  if (rows.empty()) return absl::InternalError("events counter row is missing");
  return rows[0].Int(0);
}

// Published events are those a partner may follow: changes to a registered member.
bool IsPublishedKind(EventKind kind) {
  switch (kind) {
    case EventKind::kMemberRegistered:
    case EventKind::kMemberSuspended:
    case EventKind::kMemberReinstated:
    case EventKind::kMemberWithdrawn:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<int64_t> AppendEvent(Connection& conn, EventKind kind, const City& city,
                                    const std::string& resource, const std::string& actor,
                                    const std::string& comment, int64_t now) {
  GNLC_ASSIGN_OR_RETURN(int64_t seq, NextSeq(conn));
  bool published = IsPublishedKind(kind) || (kind == EventKind::kCityUpdated && city.published());
  GNLC_RETURN_IF_ERROR(
      conn.Execute("INSERT INTO events (seq, kind, city_id, country_code, resource, "
                   "member_status, actor, comment, published, at_us) "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                   {seq, int64_t(kind), city.id, city.country, resource,
                    int64_t(city.member_status), actor, comment, int64_t(published), now})
          .status());
  return seq;
}

// --- Idempotency --------------------------------------------------------------------------

// The resource recorded for this idempotency key, or "" when the request is new.
absl::StatusOr<std::string> RecordedResource(Connection& conn, const Idempotency& idem,
                                             absl::string_view method) {
  if (idem.request_id.empty()) return std::string();
  GNLC_ASSIGN_OR_RETURN(auto rows,
                        conn.Query("SELECT method, fingerprint, resource FROM idempotency "
                                   "WHERE principal = $1 AND request_id = $2",
                                   {idem.principal, idem.request_id}));
  if (rows.empty()) return std::string();
  if (rows[0].Text(0) != method || rows[0].Text(1) != idem.fingerprint) {
    return InvalidArgumentError(
        {{"request_id", absl::StrCat("'", idem.request_id,
                                     "' was already used for a different request; use a new "
                                     "request_id for a new request")}});
  }
  return rows[0].Text(2);
}

absl::Status RecordIdempotency(Connection& conn, const Idempotency& idem, absl::string_view method,
                               const std::string& resource, int64_t now) {
  if (idem.request_id.empty()) return absl::OkStatus();
  return conn
      .Execute(
          "INSERT INTO idempotency (principal, request_id, method, fingerprint, resource, "
          "created_at_us) VALUES ($1, $2, $3, $4, $5, $6)",
          {idem.principal, idem.request_id, std::string(method), idem.fingerprint, resource, now})
      .status();
}

// --- Cities -------------------------------------------------------------------------------

constexpr absl::string_view kCityColumns =
    "c.city_id, c.country_code, c.kind, c.population, c.population_year, c.governing_body, "
    "c.governing_body_elected, c.mayor, c.contact_name, c.contact_email, c.contact_phone, "
    "c.contact_address, c.website, c.member_status, c.member_since_us, c.member_application, "
    "c.revision, c.created_at_us, c.updated_at_us";

City CityFromRow(const Row& r) {
  City c;
  c.id = r.Text(0);
  c.country = r.Text(1);
  c.kind = static_cast<CityKind>(r.Int(2));
  c.population = r.Int(3);
  c.population_year = static_cast<int32_t>(r.Int(4));
  c.governing_body = r.Text(5);
  c.governing_body_elected = r.Bool(6);
  c.mayor = r.Text(7);
  c.contact = {r.Text(8), r.Text(9), r.Text(10), r.Text(11)};
  c.website = r.Text(12);
  c.member_status = static_cast<MemberStatus>(r.Int(13));
  c.member_since_us = r.Int(14);
  c.member_application = r.Text(15);
  c.revision = r.Int(16);
  c.create_time_us = r.Int(17);
  c.update_time_us = r.Int(18);
  return c;
}

// Fills names and status history of cities read without them.
absl::Status LoadCityDetails(Connection& conn, City& city) {
  GNLC_ASSIGN_OR_RETURN(auto names, conn.Query("SELECT language, name FROM city_names "
                                               "WHERE city_id = $1 ORDER BY language",
                                               {city.id}));
  city.names.clear();
  for (const Row& r : names) city.names[r.Text(0)] = r.Text(1);
  GNLC_ASSIGN_OR_RETURN(auto changes,
                        conn.Query("SELECT status, change, reason, actor, at_us FROM "
                                   "member_status_changes WHERE city_id = $1 ORDER BY seq",
                                   {city.id}));
  city.status_history.clear();
  for (const Row& r : changes) {
    city.status_history.push_back(
        {static_cast<MemberStatus>(r.Int(0)), r.Text(1), r.Text(2), r.Text(3), r.Int(4)});
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<City>> LoadCity(Connection& conn, const std::string& city_id) {
  GNLC_ASSIGN_OR_RETURN(auto rows, conn.Query(absl::StrCat("SELECT ", kCityColumns,
                                                           " FROM cities c WHERE c.city_id = $1"),
                                              {city_id}));
  if (rows.empty()) return std::nullopt;
  City city = CityFromRow(rows[0]);
  GNLC_RETURN_IF_ERROR(LoadCityDetails(conn, city));
  return city;
}

absl::StatusOr<City> RequireCity(Connection& conn, const std::string& city_id) {
  GNLC_ASSIGN_OR_RETURN(auto city, LoadCity(conn, city_id));
  if (!city) return NotFound("city", absl::StrCat("cities/", city_id));
  return *city;
}

absl::Status WriteCityNames(Connection& conn, const City& city) {
  GNLC_RETURN_IF_ERROR(
      conn.Execute("DELETE FROM city_names WHERE city_id = $1", {city.id}).status());
  for (const auto& [language, name] : city.names) {
    GNLC_RETURN_IF_ERROR(conn.Execute("INSERT INTO city_names (city_id, language, name, folded) "
                                      "VALUES ($1, $2, $3, $4)",
                                      {city.id, language, name, FoldForSearch(name)})
                             .status());
  }
  return absl::OkStatus();
}

// Writes every column of an existing city, bumping its revision, if it is still at
// `city.revision`; ABORTED otherwise.
absl::Status SaveCity(Connection& conn, City& city, int64_t now) {
  GNLC_ASSIGN_OR_RETURN(
      int64_t changed,
      conn.Execute(
          "UPDATE cities SET kind = $2, population = $3, population_year = $4, "
          "governing_body = $5, governing_body_elected = $6, mayor = $7, contact_name = $8, "
          "contact_email = $9, contact_phone = $10, contact_address = $11, website = $12, "
          "member_status = $13, member_since_us = $14, member_application = $15, "
          "revision = revision + 1, updated_at_us = $16 WHERE city_id = $1 AND revision = $17",
          {city.id, int64_t(city.kind), city.population, int64_t(city.population_year),
           city.governing_body, int64_t(city.governing_body_elected), city.mayor, city.contact.name,
           city.contact.email, city.contact.phone, city.contact.address, city.website,
           int64_t(city.member_status), city.member_since_us, city.member_application, now,
           city.revision}));
  if (changed == 0) return StaleEtag(absl::StrCat("cities/", city.id), city.revision + 1);
  ++city.revision;
  city.update_time_us = now;
  return absl::OkStatus();
}

// Records a membership status change under the event `seq`.
absl::Status AddStatusChange(Connection& conn, City& city, std::string change,
                             const std::string& reason, const std::string& actor, int64_t seq,
                             int64_t now) {
  GNLC_RETURN_IF_ERROR(
      conn.Execute("INSERT INTO member_status_changes (seq, city_id, status, "
                   "change, reason, actor, at_us) VALUES ($1, $2, $3, $4, $5, "
                   "$6, $7)",
                   {seq, city.id, int64_t(city.member_status), change, reason, actor, now})
          .status());
  city.status_history.push_back({city.member_status, std::move(change), reason, actor, now});
  return absl::OkStatus();
}

// --- Applications -------------------------------------------------------------------------

constexpr absl::string_view kApplicationColumns =
    "application_id, city_id, country_code, state, motivation, contact_name, contact_email, "
    "contact_phone, contact_address, signatory, signed_on, seal_affixed, "
    "beijing_declaration_adopted_on, key_features_adopted_on, commission_reference, revision, "
    "created_at_us, updated_at_us";

Application ApplicationFromRow(const Row& r) {
  Application a;
  a.id = r.Text(0);
  a.city_id = r.Text(1);
  a.country = r.Text(2);
  a.state = static_cast<ApplicationState>(r.Int(3));
  a.motivation = r.Text(4);
  a.contact = {r.Text(5), r.Text(6), r.Text(7), r.Text(8)};
  a.signature.signatory = r.Text(9);
  a.signature.signed_on = ParseDay(r.Text(10));
  a.signature.seal_affixed = r.Bool(11);
  a.signature.beijing_declaration_adopted_on = ParseDay(r.Text(12));
  a.signature.key_features_adopted_on = ParseDay(r.Text(13));
  a.commission_reference = r.Text(14);
  a.revision = r.Int(15);
  a.create_time_us = r.Int(16);
  a.update_time_us = r.Int(17);
  return a;
}

absl::Status LoadHistory(Connection& conn, Application& a) {
  GNLC_ASSIGN_OR_RETURN(auto rows, conn.Query("SELECT from_state, to_state, action, actor, "
                                              "comment, at_us FROM application_transitions "
                                              "WHERE application_id = $1 ORDER BY seq",
                                              {a.id}));
  a.history.clear();
  for (const Row& r : rows) {
    a.history.push_back({static_cast<ApplicationState>(r.Int(0)),
                         static_cast<ApplicationState>(r.Int(1)), r.Text(2), r.Text(3), r.Text(4),
                         r.Int(5)});
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Application>> LoadApplication(Connection& conn,
                                                           const std::string& id) {
  GNLC_ASSIGN_OR_RETURN(auto rows, conn.Query(absl::StrCat("SELECT ", kApplicationColumns,
                                                           " FROM applications WHERE "
                                                           "application_id = $1"),
                                              {id}));
  if (rows.empty()) return std::nullopt;
  Application a = ApplicationFromRow(rows[0]);
  GNLC_RETURN_IF_ERROR(LoadHistory(conn, a));
  return a;
}

// Records an application's transition and its event; returns the event's seq.
absl::StatusOr<int64_t> AddTransition(Connection& conn, Application& a, const City& city,
                                      ApplicationState from, std::string action, EventKind kind,
                                      const std::string& actor, const std::string& comment,
                                      int64_t now) {
  GNLC_ASSIGN_OR_RETURN(
      int64_t seq,
      AppendEvent(conn, kind, city, absl::StrCat("applications/", a.id), actor, comment, now));
  GNLC_RETURN_IF_ERROR(
      conn.Execute("INSERT INTO application_transitions (seq, application_id, "
                   "from_state, to_state, action, actor, comment, at_us) VALUES "
                   "($1, $2, $3, $4, $5, $6, $7, $8)",
                   {seq, a.id, int64_t(from), int64_t(a.state), action, actor, comment, now})
          .status());
  a.history.push_back({from, a.state, std::move(action), actor, comment, now});
  return seq;
}

// LIKE pattern for a substring, with the pattern characters of the query escaped.
std::string ContainsPattern(absl::string_view query) {
  std::string escaped =
      absl::StrReplaceAll(FoldForSearch(query), {{"\\", "\\\\"}, {"%", "\\%"}, {"_", "\\_"}});
  return absl::StrCat("%", escaped, "%");
}

constexpr absl::string_view kRepresentativeColumns =
    "representative_id, city_id, role, full_name, title, email, phone, approved_by, approved_on, "
    "approval_document, added_at_us, added_by, removed_at_us, removed_by, remove_reason";

Representative RepresentativeFromRow(const Row& r) {
  Representative p;
  p.id = r.Text(0);
  p.city_id = r.Text(1);
  p.role = static_cast<RepresentativeRole>(r.Int(2));
  p.full_name = r.Text(3);
  p.title = r.Text(4);
  p.email = r.Text(5);
  p.phone = r.Text(6);
  p.approval = {r.Text(7), ParseDay(r.Text(8)), r.Text(9)};
  p.add_time_us = r.Int(10);
  p.added_by = r.Text(11);
  p.remove_time_us = r.Int(12);
  p.removed_by = r.Text(13);
  p.remove_reason = r.Text(14);
  return p;
}

absl::StatusOr<Representative> LoadRepresentative(Connection& conn, const std::string& city_id,
                                                  const std::string& id) {
  GNLC_ASSIGN_OR_RETURN(auto rows, conn.Query(absl::StrCat("SELECT ", kRepresentativeColumns,
                                                           " FROM representatives WHERE "
                                                           "city_id = $1 AND "
                                                           "representative_id = $2"),
                                              {city_id, id}));
  if (rows.empty()) {
    return NotFound("representative", absl::StrCat("cities/", city_id, "/representatives/", id));
  }
  return RepresentativeFromRow(rows[0]);
}

constexpr absl::string_view kContributionColumns =
    "contribution_id, city_id, currency, amount, received_on, note, recorded_by, created_at_us";

Contribution ContributionFromRow(const Row& r) {
  return Contribution{r.Text(0),           r.Text(1), r.Text(2), r.Text(3),
                      ParseDay(r.Text(4)), r.Text(5), r.Text(6), r.Int(7)};
}

constexpr absl::string_view kApiKeyColumns =
    "key_id, hash, principal, description, created_at_us, created_by, revoked_at_us, "
    "revoked_by, revoke_reason";

ApiKeyRecord ApiKeyFromRow(const Row& r) {
  return ApiKeyRecord{r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Int(4),
                      r.Text(5), r.Int(6),  r.Text(7), r.Text(8)};
}

}  // namespace

absl::Status MembershipStore::Migrate() {
  return sql::ApplyMigrations(db_, MembershipMigrations());
}

absl::StatusOr<City> MembershipStore::CreateCity(const City& input, const std::string& actor,
                                                 const Idempotency& idem) {
  City city;
  GNLC_RETURN_IF_ERROR(db_.Write([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(std::string earlier, RecordedResource(conn, idem, "CreateCity"));
    if (!earlier.empty()) {
      GNLC_ASSIGN_OR_RETURN(city, RequireCity(conn, earlier));
      return absl::OkStatus();
    }
    city = input;
    int64_t now = NowMicros();
    city.member_status = MemberStatus::kNotAMember;
    city.member_since_us = 0;
    city.member_application.clear();
    city.status_history.clear();
    city.revision = 1;
    city.create_time_us = city.update_time_us = now;
    absl::Status inserted =
        conn.Execute(
                "INSERT INTO cities (city_id, country_code, kind, population, population_year, "
                "governing_body, governing_body_elected, mayor, contact_name, contact_email, "
                "contact_phone, contact_address, website, member_status, member_since_us, "
                "member_application, revision, created_at_us, updated_at_us) VALUES ($1, $2, $3, "
                "$4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 0, '', 1, $15, $15)",
                {city.id, city.country, int64_t(city.kind), city.population,
                 int64_t(city.population_year), city.governing_body,
                 int64_t(city.governing_body_elected), city.mayor, city.contact.name,
                 city.contact.email, city.contact.phone, city.contact.address, city.website,
                 int64_t(city.member_status), now})
            .status();
    if (inserted.code() == absl::StatusCode::kAlreadyExists) {
      return ErrorWithReason(
          absl::StatusCode::kAlreadyExists, "CITY_EXISTS",
          absl::StrCat("cities/", city.id, " already exists; choose another city_id or update it"),
          {{"resource", absl::StrCat("cities/", city.id)}});
    }
    GNLC_RETURN_IF_ERROR(inserted);
    GNLC_RETURN_IF_ERROR(WriteCityNames(conn, city));
    GNLC_RETURN_IF_ERROR(
        AppendEvent(conn, EventKind::kCityCreated, city, "", actor, "", now).status());
    return RecordIdempotency(conn, idem, "CreateCity", city.id, now);
  }));
  return city;
}

absl::StatusOr<City> MembershipStore::GetCity(const std::string& city_id) {
  City city;
  GNLC_RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(city, RequireCity(conn, city_id));
    return absl::OkStatus();
  }));
  return city;
}

absl::StatusOr<std::vector<City>> MembershipStore::ListCities(const CityFilter& f,
                                                              const std::string& after_id,
                                                              int limit) {
  // Region is derived from the country, so it becomes a list of countries.
  std::string region_countries;
  if (f.region != 0) {
    for (const auto& [code, country] : ReferenceData::Get().Countries()) {
      if (static_cast<int>(country.region) == f.region)
        absl::StrAppend(&region_countries, code, ",");
    }
    if (region_countries.empty()) return std::vector<City>();
  }
  std::vector<City> cities;
  GNLC_RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> absl::Status {
    std::string sql = absl::StrCat(
        "SELECT ", kCityColumns,
        " FROM cities c WHERE c.city_id > $1"
        " AND ($2 = '' OR c.country_code = $2)"
        // Within the caller's scope, or published (registered members are public).
        " AND (($3 = '' AND $4 = '' AND $5 = 0) OR c.member_status IN (2, 3)"
        " OR c.country_code = $3 OR c.city_id = $4)"
        " AND ($6 = 0 OR c.member_status = $6)"
        " AND ($7 = 0 OR c.kind = $7)"
        " AND ($8 = '' OR EXISTS (SELECT 1 FROM city_names n WHERE n.city_id = c.city_id AND"
        " n.folded LIKE $8 ESCAPE '\\'))"
        " AND ($9 = '' OR $9 LIKE '%' || c.country_code || ',%')"
        " ORDER BY c.city_id LIMIT $10");
    GNLC_ASSIGN_OR_RETURN(
        auto rows,
        conn.Query(sql, {after_id, f.country, f.scope_country, f.scope_city,
                         int64_t(f.published_only), int64_t(f.member_status), int64_t(f.kind),
                         f.query.empty() ? "" : ContainsPattern(f.query), region_countries,
                         int64_t(limit)}));
    for (const Row& r : rows) {
      City city = CityFromRow(r);
      GNLC_RETURN_IF_ERROR(LoadCityDetails(conn, city));
      cities.push_back(std::move(city));
    }
    return absl::OkStatus();
  }));
  return cities;
}

absl::StatusOr<City> MembershipStore::UpdateCity(const std::string& city_id,
                                                 std::optional<int64_t> expected_revision,
                                                 const Guard<City>& guard,
                                                 const std::function<absl::Status(City&)>& mutate,
                                                 const std::string& actor) {
  City city;
  GNLC_RETURN_IF_ERROR(db_.Write([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(city, RequireCity(conn, city_id));
    GNLC_RETURN_IF_ERROR(guard(city));
    if (expected_revision && *expected_revision != city.revision) {
      return StaleEtag(absl::StrCat("cities/", city_id), city.revision);
    }
    GNLC_RETURN_IF_ERROR(mutate(city));
    int64_t now = NowMicros();
    GNLC_RETURN_IF_ERROR(SaveCity(conn, city, now));
    GNLC_RETURN_IF_ERROR(WriteCityNames(conn, city));
    return AppendEvent(conn, EventKind::kCityUpdated, city, "", actor, "", now).status();
  }));
  return city;
}

absl::StatusOr<Application> MembershipStore::CreateApplication(const Application& input,
                                                               const Guard<City>& guard,
                                                               const std::string& actor,
                                                               const Idempotency& idem) {
  Application app;
  GNLC_RETURN_IF_ERROR(db_.Write([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(std::string earlier, RecordedResource(conn, idem, "CreateApplication"));
    if (!earlier.empty()) {
      GNLC_ASSIGN_OR_RETURN(auto found, LoadApplication(conn, earlier));
      if (!found) return absl::InternalError("idempotency record points to a missing application");
      app = *found;
      return absl::OkStatus();
    }
    GNLC_ASSIGN_OR_RETURN(City city, RequireCity(conn, input.city_id));
    GNLC_RETURN_IF_ERROR(guard(city));
    if (city.member_status == MemberStatus::kActive ||
        city.member_status == MemberStatus::kSuspended) {
      return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "ALREADY_A_MEMBER",
                             absl::StrCat("cities/", city.id, " is already a member"));
    }
    int64_t now = NowMicros();
    app = input;
    app.id = NewResourceId("app-");
    app.country = city.country;
    app.state = ApplicationState::kDraft;
    app.signature = {};
    app.commission_reference.clear();
    app.history.clear();
    app.revision = 1;
    app.create_time_us = app.update_time_us = now;
    absl::Status inserted =
        conn.Execute(
                "INSERT INTO applications (application_id, city_id, country_code, state, "
                "motivation, contact_name, contact_email, contact_phone, contact_address, "
                "signatory, signed_on, seal_affixed, beijing_declaration_adopted_on, "
                "key_features_adopted_on, commission_reference, revision, created_at_us, "
                "updated_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, '', '', 0, '', "
                "'', '', 1, $10, $10)",
                {app.id, app.city_id, app.country, int64_t(app.state), app.motivation,
                 app.contact.name, app.contact.email, app.contact.phone, app.contact.address, now})
            .status();
    if (inserted.code() == absl::StatusCode::kAlreadyExists) {
      return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "OPEN_APPLICATION_EXISTS",
                             absl::StrCat("cities/", city.id,
                                          " already has an open application; continue that one "
                                          "or withdraw it first"));
    }
    GNLC_RETURN_IF_ERROR(inserted);
    GNLC_RETURN_IF_ERROR(AddTransition(conn, app, city, ApplicationState::kUnspecified, "created",
                                       EventKind::kApplicationCreated, actor, "", now)
                             .status());
    return RecordIdempotency(conn, idem, "CreateApplication", app.id, now);
  }));
  return app;
}

absl::StatusOr<Application> MembershipStore::GetApplication(const std::string& id) {
  Application app;
  GNLC_RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(auto found, LoadApplication(conn, id));
    if (!found) return NotFound("application", absl::StrCat("applications/", id));
    app = *found;
    return absl::OkStatus();
  }));
  return app;
}

absl::StatusOr<std::vector<Application>> MembershipStore::ListApplications(
    const ApplicationFilter& f, const std::string& after_id, int limit) {
  std::vector<Application> apps;
  GNLC_RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(
        auto rows, conn.Query(absl::StrCat("SELECT ", kApplicationColumns,
                                           " FROM applications WHERE application_id > $1"
                                           " AND ($2 = '' OR country_code = $2)"
                                           " AND ($3 = '' OR city_id = $3)"
                                           " AND ($4 = 0 OR state = $4)"
                                           " AND ($5 = '' OR country_code = $5)"
                                           " AND ($6 = '' OR city_id = $6)"
                                           " ORDER BY application_id LIMIT $7"),
                              {after_id, f.country, f.city_id, int64_t(f.state), f.scope_country,
                               f.scope_city, int64_t(limit)}));
    for (const Row& r : rows) {
      Application a = ApplicationFromRow(r);
      GNLC_RETURN_IF_ERROR(LoadHistory(conn, a));
      apps.push_back(std::move(a));
    }
    return absl::OkStatus();
  }));
  return apps;
}

absl::StatusOr<Application> MembershipStore::ApplyAction(
    const std::string& id, ApplicationAction action, std::optional<int64_t> expected_revision,
    const Guard<Application, City>& guard, const std::function<void(Application&)>& mutate,
    const std::string& actor, const std::string& comment) {
  Application app;
  GNLC_RETURN_IF_ERROR(db_.Write([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(auto found, LoadApplication(conn, id));
    if (!found) return NotFound("application", absl::StrCat("applications/", id));
    app = *found;
    GNLC_ASSIGN_OR_RETURN(City city, RequireCity(conn, app.city_id));
    GNLC_RETURN_IF_ERROR(guard(app, city));
    GNLC_ASSIGN_OR_RETURN(ApplicationState next, NextState(app.state, action));
    if (expected_revision && *expected_revision != app.revision) {
      return StaleEtag(absl::StrCat("applications/", id), app.revision);
    }
    ApplicationState from = app.state;
    mutate(app);
    app.state = next;
    int64_t now = NowMicros();
    GNLC_ASSIGN_OR_RETURN(
        int64_t changed,
        conn.Execute(
            "UPDATE applications SET state = $2, motivation = $3, contact_name = $4, "
            "contact_email = $5, contact_phone = $6, contact_address = $7, signatory = "
            "$8, signed_on = $9, seal_affixed = $10, beijing_declaration_adopted_on = "
            "$11, key_features_adopted_on = $12, commission_reference = $13, revision = "
            "revision + 1, updated_at_us = $14 WHERE application_id = $1 AND revision = "
            "$15",
            {app.id, int64_t(app.state), app.motivation, app.contact.name, app.contact.email,
             app.contact.phone, app.contact.address, app.signature.signatory,
             FormatDay(app.signature.signed_on), int64_t(app.signature.seal_affixed),
             FormatDay(app.signature.beijing_declaration_adopted_on),
             FormatDay(app.signature.key_features_adopted_on), app.commission_reference, now,
             app.revision}));
    if (changed == 0) return StaleEtag(absl::StrCat("applications/", id), app.revision + 1);
    ++app.revision;
    app.update_time_us = now;
    if (action == ApplicationAction::kRegister) {
      // The city becomes an active member through this application.
      city.member_status = MemberStatus::kActive;
      city.member_since_us = now;
      city.member_application = app.id;
      GNLC_RETURN_IF_ERROR(SaveCity(conn, city, now));
      GNLC_ASSIGN_OR_RETURN(
          int64_t seq, AddTransition(conn, app, city, from, std::string(RecordedActionName(action)),
                                     EventKind::kMemberRegistered, actor, comment, now));
      return AddStatusChange(conn, city, "registered", comment, actor, seq, now);
    }
    return AddTransition(conn, app, city, from, std::string(RecordedActionName(action)),
                         EventKindFor(action), actor, comment, now)
        .status();
  }));
  return app;
}

absl::StatusOr<City> MembershipStore::ChangeMemberStatus(const std::string& city_id,
                                                         MemberAction action,
                                                         const Guard<City>& guard,
                                                         const std::string& reason,
                                                         const std::string& actor) {
  City city;
  GNLC_RETURN_IF_ERROR(db_.Write([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(city, RequireCity(conn, city_id));
    GNLC_RETURN_IF_ERROR(guard(city));
    GNLC_ASSIGN_OR_RETURN(city.member_status, NextMemberStatus(city.member_status, action));
    int64_t now = NowMicros();
    GNLC_RETURN_IF_ERROR(SaveCity(conn, city, now));
    EventKind kind = action == MemberAction::kSuspend     ? EventKind::kMemberSuspended
                     : action == MemberAction::kReinstate ? EventKind::kMemberReinstated
                                                          : EventKind::kMemberWithdrawn;
    GNLC_ASSIGN_OR_RETURN(int64_t seq, AppendEvent(conn, kind, city, "", actor, reason, now));
    return AddStatusChange(conn, city, std::string(MemberActionName(action)), reason, actor, seq,
                           now);
  }));
  return city;
}

absl::StatusOr<Representative> MembershipStore::AddRepresentative(const Representative& input,
                                                                  const Guard<City>& guard,
                                                                  const std::string& actor,
                                                                  const Idempotency& idem) {
  Representative rep;
  GNLC_RETURN_IF_ERROR(db_.Write([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(std::string earlier, RecordedResource(conn, idem, "AddRepresentative"));
    if (!earlier.empty()) {
      GNLC_ASSIGN_OR_RETURN(rep, LoadRepresentative(conn, input.city_id, earlier));
      return absl::OkStatus();
    }
    GNLC_ASSIGN_OR_RETURN(City city, RequireCity(conn, input.city_id));
    GNLC_RETURN_IF_ERROR(guard(city));
    int64_t now = NowMicros();
    rep = input;
    rep.id = NewResourceId("rep-");
    rep.add_time_us = now;
    rep.added_by = actor;
    rep.remove_time_us = 0;
    rep.removed_by.clear();
    rep.remove_reason.clear();
    GNLC_RETURN_IF_ERROR(
        conn.Execute(absl::StrCat("INSERT INTO representatives (", kRepresentativeColumns,
                                  ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
                                  "0, '', '')"),
                     {rep.id, rep.city_id, int64_t(rep.role), rep.full_name, rep.title, rep.email,
                      rep.phone, rep.approval.approved_by, FormatDay(rep.approval.approved_on),
                      rep.approval.document_reference, now, actor})
            .status());
    GNLC_RETURN_IF_ERROR(AppendEvent(conn, EventKind::kRepresentativeAdded, city,
                                     absl::StrCat("cities/", city.id, "/representatives/", rep.id),
                                     actor, "", now)
                             .status());
    return RecordIdempotency(conn, idem, "AddRepresentative", rep.id, now);
  }));
  return rep;
}

absl::StatusOr<Representative> MembershipStore::RemoveRepresentative(const std::string& city_id,
                                                                     const std::string& id,
                                                                     const Guard<City>& guard,
                                                                     const std::string& reason,
                                                                     const std::string& actor) {
  Representative rep;
  GNLC_RETURN_IF_ERROR(db_.Write([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(City city, RequireCity(conn, city_id));
    GNLC_RETURN_IF_ERROR(guard(city));
    GNLC_ASSIGN_OR_RETURN(rep, LoadRepresentative(conn, city_id, id));
    if (rep.remove_time_us != 0) {
      return ErrorWithReason(
          absl::StatusCode::kFailedPrecondition, "ALREADY_REMOVED",
          absl::StrCat("cities/", city_id, "/representatives/", id, " was already removed"));
    }
    int64_t now = NowMicros();
    GNLC_RETURN_IF_ERROR(conn.Execute("UPDATE representatives SET removed_at_us = $3, "
                                      "removed_by = $4, remove_reason = $5 WHERE city_id = $1 "
                                      "AND representative_id = $2",
                                      {city_id, id, now, actor, reason})
                             .status());
    rep.remove_time_us = now;
    rep.removed_by = actor;
    rep.remove_reason = reason;
    return AppendEvent(conn, EventKind::kRepresentativeRemoved, city,
                       absl::StrCat("cities/", city_id, "/representatives/", id), actor, reason,
                       now)
        .status();
  }));
  return rep;
}

absl::StatusOr<std::vector<Representative>> MembershipStore::ListRepresentatives(
    const std::string& city_id, bool include_removed) {
  std::vector<Representative> reps;
  GNLC_RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> absl::Status {
    GNLC_RETURN_IF_ERROR(RequireCity(conn, city_id).status());
    GNLC_ASSIGN_OR_RETURN(auto rows,
                          conn.Query(absl::StrCat("SELECT ", kRepresentativeColumns,
                                                  " FROM representatives WHERE city_id = $1 AND "
                                                  "($2 = 1 OR removed_at_us = 0) ORDER BY "
                                                  "added_at_us, representative_id"),
                                     {city_id, int64_t(include_removed)}));
    for (const Row& r : rows) reps.push_back(RepresentativeFromRow(r));
    return absl::OkStatus();
  }));
  return reps;
}

absl::StatusOr<Contribution> MembershipStore::RecordContribution(const Contribution& input,
                                                                 const Guard<City>& guard,
                                                                 const std::string& actor,
                                                                 const Idempotency& idem) {
  Contribution c;
  GNLC_RETURN_IF_ERROR(db_.Write([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(std::string earlier, RecordedResource(conn, idem, "RecordContribution"));
    if (!earlier.empty()) {
      GNLC_ASSIGN_OR_RETURN(auto rows, conn.Query(absl::StrCat("SELECT ", kContributionColumns,
                                                               " FROM contributions WHERE "
                                                               "contribution_id = $1"),
                                                  {earlier}));
      if (rows.empty()) return absl::InternalError("idempotency record points nowhere");
      c = ContributionFromRow(rows[0]);
      return absl::OkStatus();
    }
    GNLC_ASSIGN_OR_RETURN(City city, RequireCity(conn, input.city_id));
    GNLC_RETURN_IF_ERROR(guard(city));
    int64_t now = NowMicros();
    c = input;
    c.id = NewResourceId("con-");
    c.recorded_by = actor;
    c.create_time_us = now;
    GNLC_RETURN_IF_ERROR(
        conn.Execute(absl::StrCat("INSERT INTO contributions (", kContributionColumns,
                                  ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
                     {c.id, c.city_id, c.currency, c.amount, FormatDay(c.received_on), c.note,
                      actor, now})
            .status());
    GNLC_RETURN_IF_ERROR(AppendEvent(conn, EventKind::kContributionRecorded, city,
                                     absl::StrCat("cities/", city.id, "/contributions/", c.id),
                                     actor, "", now)
                             .status());
    return RecordIdempotency(conn, idem, "RecordContribution", c.id, now);
  }));
  return c;
}

absl::StatusOr<std::vector<Contribution>> MembershipStore::ListContributions(
    const std::string& city_id, const std::string& after_id, int limit) {
  std::vector<Contribution> out;
  GNLC_RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> absl::Status {
    GNLC_RETURN_IF_ERROR(RequireCity(conn, city_id).status());
    GNLC_ASSIGN_OR_RETURN(auto rows,
                          conn.Query(absl::StrCat("SELECT ", kContributionColumns,
                                                  " FROM contributions WHERE city_id = $1 AND "
                                                  "contribution_id > $2 ORDER BY "
                                                  "contribution_id LIMIT $3"),
                                     {city_id, after_id, int64_t(limit)}));
    for (const Row& r : rows) out.push_back(ContributionFromRow(r));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<Event>> MembershipStore::ListEvents(const EventFilter& f) {
  std::vector<Event> events;
  GNLC_RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(
        auto rows,
        conn.Query("SELECT seq, kind, city_id, country_code, resource, member_status, actor, "
                   "comment, published, at_us FROM events WHERE seq > $1"
                   " AND ($2 = '' OR city_id = $2) AND ($3 = '' OR country_code = $3)"
                   // Within the caller's scope, or published.
                   " AND (($4 = 0 AND $5 = '' AND $6 = '') OR published = 1"
                   " OR country_code = $5 OR city_id = $6)"
                   " ORDER BY seq LIMIT $7",
                   {f.after_seq, f.city_id, f.country, int64_t(f.published_only), f.scope_country,
                    f.scope_city, int64_t(f.limit)}));
    for (const Row& r : rows) {
      events.push_back(Event{r.Int(0), static_cast<EventKind>(r.Int(1)), r.Text(2), r.Text(3),
                             r.Text(4), static_cast<MemberStatus>(r.Int(5)), r.Text(6), r.Text(7),
                             r.Bool(8), r.Int(9)});
    }
    return absl::OkStatus();
  }));
  return events;
}

absl::StatusOr<int64_t> MembershipStore::LatestEventSeq() {
  int64_t seq = 0;
  GNLC_RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> absl::Status {
    // The counter is the last seq handed out, committed or rolled back with its event.
    GNLC_ASSIGN_OR_RETURN(auto rows,
                          conn.Query("SELECT value FROM counters WHERE name = 'events'"));
    if (!rows.empty()) seq = rows[0].Int(0);
    return absl::OkStatus();
  }));
  return seq;
}

absl::Status MembershipStore::InsertApiKey(const ApiKeyRecord& k, const Idempotency& idem) {
  return db_.Write([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(std::string earlier, RecordedResource(conn, idem, "IssueApiKey"));
    if (!earlier.empty()) {
      return ErrorWithReason(absl::StatusCode::kAlreadyExists, "KEY_ALREADY_ISSUED",
                             absl::StrCat("apiKeys/", earlier,
                                          " was already issued for this request_id; its secret "
                                          "was shown once and cannot be shown again"),
                             {{"resource", absl::StrCat("apiKeys/", earlier)}});
    }
    GNLC_RETURN_IF_ERROR(
        conn.Execute(absl::StrCat("INSERT INTO api_keys (", kApiKeyColumns,
                                  ") VALUES ($1, $2, $3, $4, $5, $6, 0, '', "
                                  "'')"),
                     {k.key_id, k.hash, k.principal, k.description, k.created_at_us, k.created_by})
            .status());
    return RecordIdempotency(conn, idem, "IssueApiKey", k.key_id, k.created_at_us);
  });
}

absl::StatusOr<std::optional<ApiKeyRecord>> MembershipStore::FindApiKey(const std::string& key_id) {
  std::optional<ApiKeyRecord> key;
  GNLC_RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(auto rows, conn.Query(absl::StrCat("SELECT ", kApiKeyColumns,
                                                             " FROM api_keys WHERE key_id = $1"),
                                                {key_id}));
    if (!rows.empty()) key = ApiKeyFromRow(rows[0]);
    return absl::OkStatus();
  }));
  return key;
}

absl::StatusOr<std::optional<ApiKeyRecord>> MembershipStore::FindIssuedKey(
    const Idempotency& idem) {
  std::optional<ApiKeyRecord> key;
  if (idem.request_id.empty()) return key;
  GNLC_RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(std::string earlier, RecordedResource(conn, idem, "IssueApiKey"));
    if (earlier.empty()) return absl::OkStatus();
    GNLC_ASSIGN_OR_RETURN(auto rows, conn.Query(absl::StrCat("SELECT ", kApiKeyColumns,
                                                             " FROM api_keys WHERE key_id = $1"),
                                                {earlier}));
    if (!rows.empty()) key = ApiKeyFromRow(rows[0]);
    return absl::OkStatus();
  }));
  return key;
}

absl::StatusOr<std::vector<ApiKeyRecord>> MembershipStore::ListApiKeys(const std::string& principal,
                                                                       bool include_revoked,
                                                                       int64_t before_created_at_us,
                                                                       int limit) {
  std::vector<ApiKeyRecord> keys;
  GNLC_RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(
        auto rows,
        conn.Query(absl::StrCat("SELECT ", kApiKeyColumns,
                                " FROM api_keys WHERE ($1 = '' OR principal = $1)"
                                " AND ($2 = 1 OR revoked_at_us = 0) AND created_at_us < $3"
                                " ORDER BY created_at_us DESC, key_id LIMIT $4"),
                   {principal, int64_t(include_revoked), before_created_at_us, int64_t(limit)}));
    for (const Row& r : rows) keys.push_back(ApiKeyFromRow(r));
    return absl::OkStatus();
  }));
  return keys;
}

absl::StatusOr<ApiKeyRecord> MembershipStore::RevokeApiKey(const std::string& key_id,
                                                           const std::string& reason,
                                                           const std::string& actor) {
  ApiKeyRecord key;
  GNLC_RETURN_IF_ERROR(db_.Write([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(auto rows, conn.Query(absl::StrCat("SELECT ", kApiKeyColumns,
                                                             " FROM api_keys WHERE key_id = $1"),
                                                {key_id}));
    if (rows.empty()) return NotFound("API key", absl::StrCat("apiKeys/", key_id));
    key = ApiKeyFromRow(rows[0]);
    if (key.revoked_at_us != 0) {
      return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "ALREADY_REVOKED",
                             absl::StrCat("apiKeys/", key_id, " is already revoked"));
    }
    key.revoked_at_us = NowMicros();
    key.revoked_by = actor;
    key.revoke_reason = reason;
    return conn
        .Execute(
            "UPDATE api_keys SET revoked_at_us = $2, revoked_by = $3, revoke_reason = $4 "
            "WHERE key_id = $1",
            {key_id, key.revoked_at_us, actor, reason})
        .status();
  }));
  return key;
}

}  // namespace gnlc::membership
