#include "services/membership/membership_api.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "services/common/api_fields.h"
#include "services/common/api_key.h"
#include "services/common/countries.h"
#include "services/common/feed_stream.h"
#include "services/common/logging.h"

namespace gnlc::membership {
namespace {

absl::CivilDay Today() { return absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()); }

Idempotency IdempotencyFor(const Grant& grant, const std::string& request_id,
                           const google::protobuf::Message& request, FieldErrors& errors) {
  if (request_id.size() > 128) errors.Add("request_id", "must be at most 128 characters");
  return {grant.principal.ToString(), request_id, RequestFingerprint(request)};
}

ObjectScope ScopeOf(const City& city) { return {city.country, city.id, city.published()}; }

// --- Conversions --------------------------------------------------------------------------

std::optional<absl::CivilDay> DayFromProto(const common::v1::Date& d, absl::string_view field,
                                           FieldErrors& errors) {
  if (d.year() == 0 && d.month() == 0 && d.day() == 0) return std::nullopt;
  absl::CivilDay day(d.year(), d.month(), d.day());
  if (day.year() != d.year() || day.month() != d.month() || day.day() != d.day()) {
    errors.Add(std::string(field), "is not a calendar date");
    return std::nullopt;
  }
  return day;
}

void DayToProto(const std::optional<absl::CivilDay>& day, common::v1::Date* out) {
  if (!day) return;
  out->set_year(static_cast<int32_t>(day->year()));
  out->set_month(day->month());
  out->set_day(day->day());
}

Contact ContactFromProto(const v1::Contact& c) {
  return {c.name(), c.email(), c.phone(), c.address()};
}

void ContactToProto(const Contact& c, v1::Contact* out) {
  out->set_name(c.name);
  out->set_email(c.email);
  out->set_phone(c.phone);
  out->set_address(c.address);
}

void CityFieldsFromProto(const v1::City& in, City& out, FieldErrors& errors) {
  out.names.clear();
  for (const auto& n : in.display_names()) {
    if (out.names.contains(n.language())) {
      errors.Add("city.display_names", absl::StrCat("language '", n.language(), "' appears twice"));
    }
    out.names[n.language()] = n.text();
  }
  out.kind = static_cast<CityKind>(in.kind());
  if (!v1::CityKind_IsValid(in.kind())) errors.Add("city.kind", "is not a known kind");
  out.population = in.population();
  out.population_year = in.population_year();
  out.governing_body = in.governing_body().name();
  out.governing_body_elected = in.governing_body().elected();
  out.mayor = in.mayor();
  out.contact = ContactFromProto(in.contact());
  out.website = in.website();
}

void CityToProto(const City& c, const Grant& grant, v1::City* out) {
  out->set_name(absl::StrCat("cities/", c.id));
  out->set_city_id(c.id);
  for (const auto& [language, text] : c.names) {
    auto* n = out->add_display_names();
    n->set_language(language);
    n->set_text(text);
  }
  out->set_country_code(c.country);
  if (const Country* country = ReferenceData::Get().FindCountry(c.country)) {
    out->set_region(static_cast<common::v1::UnescoRegion>(country->region));
  }
  out->set_kind(static_cast<v1::CityKind>(c.kind));
  out->set_population(c.population);
  out->set_population_year(c.population_year);
  out->mutable_governing_body()->set_name(c.governing_body);
  out->mutable_governing_body()->set_elected(c.governing_body_elected);
  out->set_mayor(c.mayor);
  // The contact person's details are not for the public.
  if (grant.scope != Scope::kPublished && grant.Covers(ScopeOf(c)))
    ContactToProto(c.contact, out->mutable_contact());
  out->set_website(c.website);
  auto* m = out->mutable_membership();
  m->set_status(static_cast<v1::MemberStatus>(c.member_status));
  SetTime(m->mutable_member_since(), c.member_since_us);
  if (!c.member_application.empty())
    m->set_application(absl::StrCat("applications/", c.member_application));
  m->set_award_eligible(c.award_eligible());
  for (const auto& h : c.status_history) {
    auto* out_h = m->add_history();
    out_h->set_status(static_cast<v1::MemberStatus>(h.status));
    out_h->set_change(h.change);
    out_h->set_reason(h.reason);
    out_h->set_actor(h.actor);
    SetTime(out_h->mutable_time(), h.time_us);
  }
  out->set_etag(FormatEtag(c.revision));
  SetTime(out->mutable_create_time(), c.create_time_us);
  SetTime(out->mutable_update_time(), c.update_time_us);
}

void SignatureToProto(const MayorSignature& s, v1::MayorSignature* out) {
  out->set_signatory(s.signatory);
  DayToProto(s.signed_on, out->mutable_signed_on());
  out->set_seal_affixed(s.seal_affixed);
  DayToProto(s.beijing_declaration_adopted_on, out->mutable_beijing_declaration_adopted_on());
  DayToProto(s.key_features_adopted_on, out->mutable_key_features_adopted_on());
}

void ApplicationToProto(const Application& a, v1::Application* out) {
  out->set_name(absl::StrCat("applications/", a.id));
  out->set_application_id(a.id);
  out->set_city(absl::StrCat("cities/", a.city_id));
  out->set_country_code(a.country);
  out->set_state(static_cast<v1::ApplicationState>(a.state));
  out->set_motivation(a.motivation);
  ContactToProto(a.contact, out->mutable_contact());
  SignatureToProto(a.signature, out->mutable_mayor_signature());
  out->set_commission_reference(a.commission_reference);
  for (const auto& t : a.history) {
    auto* h = out->add_history();
    h->set_from_state(static_cast<v1::ApplicationState>(t.from));
    h->set_to_state(static_cast<v1::ApplicationState>(t.to));
    h->set_action(t.action);
    h->set_actor(t.actor);
    h->set_comment(t.comment);
    SetTime(h->mutable_time(), t.time_us);
  }
  out->set_etag(FormatEtag(a.revision));
  SetTime(out->mutable_create_time(), a.create_time_us);
  SetTime(out->mutable_update_time(), a.update_time_us);
}

void RepresentativeToProto(const Representative& r, v1::Representative* out) {
  out->set_name(absl::StrCat("cities/", r.city_id, "/representatives/", r.id));
  out->set_role(static_cast<v1::RepresentativeRole>(r.role));
  out->set_full_name(r.full_name);
  out->set_title(r.title);
  out->set_email(r.email);
  out->set_phone(r.phone);
  out->mutable_mayor_approval()->set_approved_by(r.approval.approved_by);
  DayToProto(r.approval.approved_on, out->mutable_mayor_approval()->mutable_approved_on());
  out->mutable_mayor_approval()->set_document_reference(r.approval.document_reference);
  SetTime(out->mutable_add_time(), r.add_time_us);
  out->set_added_by(r.added_by);
  SetTime(out->mutable_remove_time(), r.remove_time_us);
  out->set_removed_by(r.removed_by);
  out->set_remove_reason(r.remove_reason);
}

void ContributionToProto(const Contribution& c, v1::Contribution* out) {
  out->set_name(absl::StrCat("cities/", c.city_id, "/contributions/", c.id));
  out->mutable_amount()->set_currency_code(c.currency);
  out->mutable_amount()->set_amount(c.amount);
  DayToProto(c.received_on, out->mutable_received_on());
  out->set_note(c.note);
  out->set_recorded_by(c.recorded_by);
  SetTime(out->mutable_create_time(), c.create_time_us);
}

void EventToProto(const Event& e, v1::MembershipEvent* out) {
  out->set_cursor(absl::StrCat(e.seq));
  out->set_kind(static_cast<v1::MembershipEventKind>(e.kind));
  out->set_city(absl::StrCat("cities/", e.city_id));
  out->set_country_code(e.country);
  out->set_resource(e.resource);
  out->set_member_status(static_cast<v1::MemberStatus>(e.member_status));
  out->set_actor(e.actor);
  out->set_comment(e.comment);
  SetTime(out->mutable_time(), e.time_us);
}

// Decimal amount with at most 4 decimals, positive.
bool IsAmount(absl::string_view s) {
  size_t dot = s.find('.');
  absl::string_view whole = s.substr(0, dot);
  absl::string_view frac = dot == absl::string_view::npos ? "" : s.substr(dot + 1);
  if (whole.empty() || whole.size() > 15 || frac.size() > 4) return false;
  if (dot != absl::string_view::npos && frac.empty()) return false;
  for (char c : whole)
    if (!absl::ascii_isdigit(c)) return false;
  for (char c : frac)
    if (!absl::ascii_isdigit(c)) return false;
  return s.find_first_not_of("0.") != absl::string_view::npos;
}

}  // namespace

const AccessTable& MembershipAccessTable() {
  using R = Role;
  using S = Scope;
  // Reads: published members are open to everyone; the rest only within the caller's scope.
  static const std::vector<std::pair<Role, Scope>> kPublicRead = {
      {R::kSecretariat, S::kAll},
      {R::kService, S::kAll},
      {R::kNationalCommission, S::kOwnCountry},
      {R::kMinistry, S::kOwnCountry},
      {R::kCity, S::kOwnCity},
      {R::kPartner, S::kPublished},
      {R::kAnonymous, S::kPublished}};
  static const std::vector<std::pair<Role, Scope>> kApplicationRead = {
      {R::kSecretariat, S::kAll},
      {R::kNationalCommission, S::kOwnCountry},
      {R::kCity, S::kOwnCity}};
  static const std::vector<std::pair<Role, Scope>> kCityWrite = {
      {R::kSecretariat, S::kAll},
      {R::kNationalCommission, S::kOwnCountry},
      {R::kCity, S::kOwnCity}};
  static const std::vector<std::pair<Role, Scope>> kCityDraft = {{R::kSecretariat, S::kAll},
                                                                 {R::kCity, S::kOwnCity}};
  static const std::vector<std::pair<Role, Scope>> kCommission = {
      {R::kNationalCommission, S::kOwnCountry}};
  static const std::vector<std::pair<Role, Scope>> kSecretariat = {{R::kSecretariat, S::kAll}};
  static const AccessTable* table = new AccessTable{
      {"CreateCity", {{R::kSecretariat, S::kAll}, {R::kNationalCommission, S::kOwnCountry}}},
      {"GetCity", kPublicRead},
      {"ListCities", kPublicRead},
      {"UpdateCity", kCityWrite},
      {"CreateApplication", kCityWrite},
      {"GetApplication", kApplicationRead},
      {"ListApplications", kApplicationRead},
      {"UpdateApplication", kCityDraft},
      {"SubmitApplication", kCityDraft},
      // The National Commission of the city's country decides; UIL does not grant membership.
      {"EndorseApplication", kCommission},
      {"ReturnApplication", kCommission},
      {"DeclineApplication", kCommission},
      {"WithdrawApplication", kCityDraft},
      {"RegisterMember", kSecretariat},
      {"SuspendMember", kSecretariat},
      {"ReinstateMember", kSecretariat},
      {"WithdrawMember", kCityDraft},
      {"AddRepresentative", kCityDraft},
      {"RemoveRepresentative", kCityDraft},
      {"ListRepresentatives", kApplicationRead},
      {"RecordContribution", kSecretariat},
      {"ListContributions", kCityDraft},
      {"ListMembershipEvents", kPublicRead},
      {"WatchMembershipEvents", kPublicRead},
      // AccessService.
      {"IssueApiKey", kSecretariat},
      {"ListApiKeys", kSecretariat},
      {"RevokeApiKey", kSecretariat},
      {"WhoAmI",
       {{R::kSecretariat, S::kAll},
        {R::kService, S::kAll},
        {R::kNationalCommission, S::kAll},
        {R::kMinistry, S::kAll},
        {R::kCity, S::kAll},
        {R::kPartner, S::kAll},
        {R::kAnonymous, S::kAll}}},
  };
  return *table;
}

MembershipApi::MembershipApi(MembershipStore& store, CallGate& gate,
                             const std::atomic<bool>& stopping)
    : store_(store), gate_(gate), stopping_(stopping) {}

grpc::ServerUnaryReactor* MembershipApi::CreateCity(grpc::CallbackServerContext* ctx,
                                                    const v1::CreateCityRequest* req,
                                                    v1::CreateCityResponse* resp) {
  return gate_.Unary(ctx, "CreateCity", [this, req, resp](const Grant& grant) -> absl::Status {
    FieldErrors errors;
    City city;
    CityFieldsFromProto(req->city(), city, errors);
    city.country = req->city().country_code();
    ValidateCityFields(city, Today(), errors);
    city.id =
        req->city_id().empty() ? DeriveCityId(city.country, city.names["en"]) : req->city_id();
    if (city.id.empty()) {
      errors.Add("city_id",
                 "is required when the English name has no Latin letters to derive it from");
    } else if (!IsValidCityId(city.id)) {
      errors.Add(req->city_id().empty() ? "city.display_names" : "city_id",
                 absl::StrCat("'", city.id,
                              "' is not a city id: 2-63 lower-case letters, digits "
                              "and hyphens, starting with a letter"));
    }
    Idempotency idem = IdempotencyFor(grant, req->request_id(), *req, errors);
    GNLC_RETURN_IF_ERROR(errors.ToStatus());
    GNLC_RETURN_IF_ERROR(grant.Check({city.country, city.id, false}));
    GNLC_ASSIGN_OR_RETURN(City created, store_.CreateCity(city, grant.principal.ToString(), idem));
    CityToProto(created, grant, resp->mutable_city());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* MembershipApi::GetCity(grpc::CallbackServerContext* ctx,
                                                 const v1::GetCityRequest* req,
                                                 v1::GetCityResponse* resp) {
  return gate_.Unary(ctx, "GetCity", [this, req, resp](const Grant& grant) -> absl::Status {
    FieldErrors errors;
    std::string id = ParseName(req->name(), "cities", "name", errors);
    GNLC_RETURN_IF_ERROR(errors.ToStatus());
    GNLC_ASSIGN_OR_RETURN(City city, store_.GetCity(id));
    GNLC_RETURN_IF_ERROR(CheckRead(grant, ScopeOf(city)));
    CityToProto(city, grant, resp->mutable_city());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* MembershipApi::ListCities(grpc::CallbackServerContext* ctx,
                                                    const v1::ListCitiesRequest* req,
                                                    v1::ListCitiesResponse* resp) {
  return gate_.Unary(ctx, "ListCities", [this, req, resp](const Grant& grant) -> absl::Status {
    FieldErrors errors;
    int size = PageSize(req->page_size(), errors);
    std::string after = DecodePageToken(req->page_token(), errors);
    CityFilter filter;
    filter.country = req->country_code();
    if (!filter.country.empty() && !ReferenceData::Get().FindCountry(filter.country)) {
      errors.Add("country_code", "is not an ISO 3166-1 alpha-2 country code");
    }
    if (!common::v1::UnescoRegion_IsValid(req->region())) errors.Add("region", "is not a region");
    if (!v1::MemberStatus_IsValid(req->member_status()))
      errors.Add("member_status", "is not a status");
    if (!v1::CityKind_IsValid(req->kind())) errors.Add("kind", "is not a kind");
    if (req->query().size() > 200) errors.Add("query", "must be at most 200 characters");
    GNLC_RETURN_IF_ERROR(errors.ToStatus());
    filter.region = req->region();
    filter.member_status = static_cast<MemberStatus>(req->member_status());
    filter.kind = static_cast<CityKind>(req->kind());
    filter.query = req->query();
    LimitToGrant(grant, filter.scope_country, filter.scope_city, filter.published_only);
    GNLC_ASSIGN_OR_RETURN(auto cities, store_.ListCities(filter, after, size + 1));
    for (int i = 0; i < static_cast<int>(cities.size()) && i < size; ++i) {
      CityToProto(cities[i], grant, resp->add_cities());
    }
    if (static_cast<int>(cities.size()) > size)
      resp->set_next_page_token(EncodePageToken(cities[size - 1].id));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* MembershipApi::UpdateCity(grpc::CallbackServerContext* ctx,
                                                    const v1::UpdateCityRequest* req,
                                                    v1::UpdateCityResponse* resp) {
  return gate_.Unary(ctx, "UpdateCity", [this, req, resp](const Grant& grant) -> absl::Status {
    FieldErrors errors;
    std::string id = ParseName(req->city().name(), "cities", "city.name", errors);
    std::optional<int64_t> revision =
        ParseEtag(req->etag().empty() ? req->city().etag() : req->etag(), errors);
    static const absl::flat_hash_set<std::string> kUpdatable = {"display_names",
                                                                "kind",
                                                                "population",
                                                                "population_year",
                                                                "governing_body",
                                                                "governing_body.name",
                                                                "governing_body.elected",
                                                                "mayor",
                                                                "contact",
                                                                "website"};
    if (req->update_mask().paths().empty()) errors.Add("update_mask", "name the fields to change");
    for (const std::string& path : req->update_mask().paths()) {
      if (!kUpdatable.contains(path)) {
        errors.Add("update_mask", absl::StrCat("'", path,
                                               "' cannot be updated (country and id are "
                                               "fixed; membership changes through its own calls)"));
      }
    }
    City incoming;
    CityFieldsFromProto(req->city(), incoming, errors);
    GNLC_RETURN_IF_ERROR(errors.ToStatus());
    GNLC_ASSIGN_OR_RETURN(City city,
                          store_.UpdateCity(
                              id, revision, [&](const City& c) { return grant.Check(ScopeOf(c)); },
                              [&](City& c) {
                                for (const std::string& path : req->update_mask().paths()) {
                                  if (path == "display_names") c.names = incoming.names;
                                  if (path == "kind") c.kind = incoming.kind;
                                  if (path == "population") c.population = incoming.population;
                                  if (path == "population_year")
                                    c.population_year = incoming.population_year;
                                  if (path == "governing_body" || path == "governing_body.name")
                                    c.governing_body = incoming.governing_body;
                                  if (path == "governing_body" || path == "governing_body.elected")
                                    c.governing_body_elected = incoming.governing_body_elected;
                                  if (path == "mayor") c.mayor = incoming.mayor;
                                  if (path == "contact") c.contact = incoming.contact;
                                  if (path == "website") c.website = incoming.website;
                                }
                                FieldErrors after;
                                ValidateCityFields(c, Today(), after);
                                return after.ToStatus();
                              },
                              grant.principal.ToString()));
    CityToProto(city, grant, resp->mutable_city());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* MembershipApi::CreateApplication(grpc::CallbackServerContext* ctx,
                                                           const v1::CreateApplicationRequest* req,
                                                           v1::CreateApplicationResponse* resp) {
  return gate_.Unary(
      ctx, "CreateApplication", [this, req, resp](const Grant& grant) -> absl::Status {
        FieldErrors errors;
        Application app;
        app.city_id = ParseName(req->application().city(), "cities", "application.city", errors);
        app.motivation = req->application().motivation();
        app.contact = ContactFromProto(req->application().contact());
        if (app.motivation.size() > 10000)
          errors.Add("application.motivation", "must be at most 10,000 characters");
        Idempotency idem = IdempotencyFor(grant, req->request_id(), *req, errors);
        GNLC_RETURN_IF_ERROR(errors.ToStatus());
        GNLC_ASSIGN_OR_RETURN(Application created,
                              store_.CreateApplication(
                                  app, [&](const City& c) { return grant.Check(ScopeOf(c)); },
                                  grant.principal.ToString(), idem));
        ApplicationToProto(created, resp->mutable_application());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* MembershipApi::GetApplication(grpc::CallbackServerContext* ctx,
                                                        const v1::GetApplicationRequest* req,
                                                        v1::GetApplicationResponse* resp) {
  return gate_.Unary(ctx, "GetApplication", [this, req, resp](const Grant& grant) -> absl::Status {
    FieldErrors errors;
    std::string id = ParseName(req->name(), "applications", "name", errors);
    GNLC_RETURN_IF_ERROR(errors.ToStatus());
    GNLC_ASSIGN_OR_RETURN(Application app, store_.GetApplication(id));
    GNLC_RETURN_IF_ERROR(grant.Check({app.country, app.city_id, false}));
    ApplicationToProto(app, resp->mutable_application());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* MembershipApi::ListApplications(grpc::CallbackServerContext* ctx,
                                                          const v1::ListApplicationsRequest* req,
                                                          v1::ListApplicationsResponse* resp) {
  return gate_.Unary(
      ctx, "ListApplications", [this, req, resp](const Grant& grant) -> absl::Status {
        FieldErrors errors;
        int size = PageSize(req->page_size(), errors);
        std::string after = DecodePageToken(req->page_token(), errors);
        ApplicationFilter filter;
        filter.country = req->country_code();
        if (!req->city().empty()) filter.city_id = ParseName(req->city(), "cities", "city", errors);
        if (!v1::ApplicationState_IsValid(req->state())) errors.Add("state", "is not a state");
        GNLC_RETURN_IF_ERROR(errors.ToStatus());
        filter.state = static_cast<ApplicationState>(req->state());
        bool published_only = false;  // applications are never published; the table excludes them
        LimitToGrant(grant, filter.scope_country, filter.scope_city, published_only);
        GNLC_ASSIGN_OR_RETURN(auto apps, store_.ListApplications(filter, after, size + 1));
        for (int i = 0; i < static_cast<int>(apps.size()) && i < size; ++i) {
          ApplicationToProto(apps[i], resp->add_applications());
        }
        if (static_cast<int>(apps.size()) > size)
          resp->set_next_page_token(EncodePageToken(apps[size - 1].id));
        return absl::OkStatus();
      });
}

namespace {

MayorSignature SignatureFromProto(const v1::MayorSignature& s, FieldErrors& errors) {
  MayorSignature out;
  out.signatory = s.signatory();
  out.signed_on = DayFromProto(s.signed_on(), "mayor_signature.signed_on", errors);
  out.seal_affixed = s.seal_affixed();
  out.beijing_declaration_adopted_on = DayFromProto(
      s.beijing_declaration_adopted_on(), "mayor_signature.beijing_declaration_adopted_on", errors);
  out.key_features_adopted_on =
      DayFromProto(s.key_features_adopted_on(), "mayor_signature.key_features_adopted_on", errors);
  ValidateSignature(out, Today(), errors);
  return out;
}

void RequireText(const std::string& text, absl::string_view field, absl::string_view why,
                 FieldErrors& errors) {
  if (absl::StripAsciiWhitespace(text).empty()) errors.Add(std::string(field), std::string(why));
}

}  // namespace

grpc::ServerUnaryReactor* MembershipApi::ApplicationStep(
    grpc::CallbackServerContext* ctx, absl::string_view method, ApplicationAction action,
    std::string name, std::string name_field, std::string etag, std::string comment,
    v1::Application* out, std::function<StepPlan(FieldErrors&)> prepare) {
  return gate_.Unary(
      ctx, method, [=, this, prepare = std::move(prepare)](const Grant& grant) -> absl::Status {
        FieldErrors errors;
        std::string id = ParseName(name, "applications", name_field, errors);
        std::optional<int64_t> revision = ParseEtag(etag, errors);
        StepPlan plan = prepare(errors);
        GNLC_RETURN_IF_ERROR(errors.ToStatus());
        GNLC_ASSIGN_OR_RETURN(
            Application app, store_.ApplyAction(
                                 id, action, revision,
                                 [&](const Application& a, const City& c) -> absl::Status {
                                   GNLC_RETURN_IF_ERROR(grant.Check({a.country, a.city_id, false}));
                                   return plan.guard ? plan.guard(a, c) : absl::OkStatus();
                                 },
                                 [&](Application& a) {
                                   if (plan.mutate) plan.mutate(a);
                                 },
                                 grant.principal.ToString(), comment));
        ApplicationToProto(app, out);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* MembershipApi::UpdateApplication(grpc::CallbackServerContext* ctx,
                                                           const v1::UpdateApplicationRequest* req,
                                                           v1::UpdateApplicationResponse* resp) {
  return ApplicationStep(
      ctx, "UpdateApplication", ApplicationAction::kUpdate, req->application().name(),
      "application.name", req->etag(), "", resp->mutable_application(), [req](FieldErrors& errors) {
        if (req->update_mask().paths().empty()) {
          errors.Add("update_mask", "name the fields to change");
        }
        for (const std::string& p : req->update_mask().paths()) {
          if (p != "motivation" && p != "contact") {
            errors.Add("update_mask", absl::StrCat("'", p,
                                                   "' cannot be updated; updatable: "
                                                   "motivation, contact"));
          }
        }
        if (req->application().motivation().size() > 10000) {
          errors.Add("application.motivation", "must be at most 10,000 characters");
        }
        return StepPlan{nullptr, [req](Application& a) {
                          for (const std::string& p : req->update_mask().paths()) {
                            if (p == "motivation") a.motivation = req->application().motivation();
                            if (p == "contact") {
                              a.contact = ContactFromProto(req->application().contact());
                            }
                          }
                        }};
      });
}

grpc::ServerUnaryReactor* MembershipApi::SubmitApplication(grpc::CallbackServerContext* ctx,
                                                           const v1::SubmitApplicationRequest* req,
                                                           v1::SubmitApplicationResponse* resp) {
  return ApplicationStep(
      ctx, "SubmitApplication", ApplicationAction::kSubmit, req->name(), "name", req->etag(), "",
      resp->mutable_application(), [req](FieldErrors& errors) {
        auto signature =
            std::make_shared<MayorSignature>(SignatureFromProto(req->mayor_signature(), errors));
        return StepPlan{
            // Eligibility is checked on the city as it stands in the same transaction.
            [signature](const Application&, const City& city) -> absl::Status {
              auto violations = EligibilityViolations(city, *signature);
              if (violations.empty()) return absl::OkStatus();
              return PreconditionError(
                  "NOT_ELIGIBLE", "the city does not meet the membership requirements", violations);
            },
            [signature](Application& a) { a.signature = *signature; }};
      });
}

grpc::ServerUnaryReactor* MembershipApi::EndorseApplication(
    grpc::CallbackServerContext* ctx, const v1::EndorseApplicationRequest* req,
    v1::EndorseApplicationResponse* resp) {
  return ApplicationStep(
      ctx, "EndorseApplication", ApplicationAction::kEndorse, req->name(), "name", req->etag(),
      req->comment(), resp->mutable_application(), [req](FieldErrors& errors) {
        RequireText(req->commission_reference(), "commission_reference",
                    "is required: the Commission's reference for its endorsement", errors);
        return StepPlan{nullptr, [req](Application& a) {
                          a.commission_reference = req->commission_reference();
                        }};
      });
}

grpc::ServerUnaryReactor* MembershipApi::ReturnApplication(grpc::CallbackServerContext* ctx,
                                                           const v1::ReturnApplicationRequest* req,
                                                           v1::ReturnApplicationResponse* resp) {
  return ApplicationStep(ctx, "ReturnApplication", ApplicationAction::kReturn, req->name(), "name",
                         req->etag(), req->comment(), resp->mutable_application(),
                         [req](FieldErrors& errors) {
                           RequireText(req->comment(), "comment",
                                       "is required: say what the city should change", errors);
                           return StepPlan{};
                         });
}

grpc::ServerUnaryReactor* MembershipApi::DeclineApplication(
    grpc::CallbackServerContext* ctx, const v1::DeclineApplicationRequest* req,
    v1::DeclineApplicationResponse* resp) {
  return ApplicationStep(ctx, "DeclineApplication", ApplicationAction::kDecline, req->name(),
                         "name", req->etag(), req->reason(), resp->mutable_application(),
                         [req](FieldErrors& errors) {
                           RequireText(req->reason(), "reason", "is required", errors);
                           return StepPlan{};
                         });
}

grpc::ServerUnaryReactor* MembershipApi::WithdrawApplication(
    grpc::CallbackServerContext* ctx, const v1::WithdrawApplicationRequest* req,
    v1::WithdrawApplicationResponse* resp) {
  return ApplicationStep(ctx, "WithdrawApplication", ApplicationAction::kWithdraw, req->name(),
                         "name", req->etag(), req->reason(), resp->mutable_application(),
                         [](FieldErrors&) { return StepPlan{}; });
}

grpc::ServerUnaryReactor* MembershipApi::RegisterMember(grpc::CallbackServerContext* ctx,
                                                        const v1::RegisterMemberRequest* req,
                                                        v1::RegisterMemberResponse* resp) {
  return gate_.Unary(ctx, "RegisterMember", [this, req, resp](const Grant& grant) -> absl::Status {
    FieldErrors errors;
    std::string id = ParseName(req->application(), "applications", "application", errors);
    std::optional<int64_t> revision = ParseEtag(req->etag(), errors);
    GNLC_RETURN_IF_ERROR(errors.ToStatus());
    GNLC_ASSIGN_OR_RETURN(Application app,
                          store_.ApplyAction(
                              id, ApplicationAction::kRegister, revision,
                              [&](const Application& a, const City&) {
                                return grant.Check({a.country, a.city_id, false});
                              },
                              [](Application&) {}, grant.principal.ToString(), req->comment()));
    GNLC_ASSIGN_OR_RETURN(City city, store_.GetCity(app.city_id));
    ApplicationToProto(app, resp->mutable_application());
    CityToProto(city, grant, resp->mutable_city());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* MembershipApi::MemberChange(grpc::CallbackServerContext* ctx,
                                                      absl::string_view method,
                                                      const std::string& city_name,
                                                      const std::string& reason,
                                                      MemberAction action, v1::City* out) {
  return gate_.Unary(ctx, method, [=, this](const Grant& grant) -> absl::Status {
    FieldErrors errors;
    std::string id = ParseName(city_name, "cities", "city", errors);
    if (absl::StripAsciiWhitespace(reason).empty()) errors.Add("reason", "is required");
    GNLC_RETURN_IF_ERROR(errors.ToStatus());
    GNLC_ASSIGN_OR_RETURN(
        City city, store_.ChangeMemberStatus(
                       id, action, [&](const City& c) { return grant.Check(ScopeOf(c)); }, reason,
                       grant.principal.ToString()));
    CityToProto(city, grant, out);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* MembershipApi::SuspendMember(grpc::CallbackServerContext* ctx,
                                                       const v1::SuspendMemberRequest* req,
                                                       v1::SuspendMemberResponse* resp) {
  return MemberChange(ctx, "SuspendMember", req->city(), req->reason(), MemberAction::kSuspend,
                      resp->mutable_city());
}

grpc::ServerUnaryReactor* MembershipApi::ReinstateMember(grpc::CallbackServerContext* ctx,
                                                         const v1::ReinstateMemberRequest* req,
                                                         v1::ReinstateMemberResponse* resp) {
  return MemberChange(ctx, "ReinstateMember", req->city(), req->reason(), MemberAction::kReinstate,
                      resp->mutable_city());
}

grpc::ServerUnaryReactor* MembershipApi::WithdrawMember(grpc::CallbackServerContext* ctx,
                                                        const v1::WithdrawMemberRequest* req,
                                                        v1::WithdrawMemberResponse* resp) {
  return MemberChange(ctx, "WithdrawMember", req->city(), req->reason(), MemberAction::kWithdraw,
                      resp->mutable_city());
}

grpc::ServerUnaryReactor* MembershipApi::AddRepresentative(grpc::CallbackServerContext* ctx,
                                                           const v1::AddRepresentativeRequest* req,
                                                           v1::AddRepresentativeResponse* resp) {
  return gate_.Unary(
      ctx, "AddRepresentative", [this, req, resp](const Grant& grant) -> absl::Status {
        FieldErrors errors;
        const auto& in = req->representative();
        Representative rep;
        rep.city_id = ParseName(req->parent(), "cities", "parent", errors);
        rep.role = static_cast<RepresentativeRole>(in.role());
        if (in.role() == v1::REPRESENTATIVE_ROLE_UNSPECIFIED ||
            !v1::RepresentativeRole_IsValid(in.role())) {
          errors.Add("representative.role", "must be MAYOR, FOCAL_POINT or OTHER_REPRESENTATIVE");
        }
        rep.full_name = in.full_name();
        if (absl::StripAsciiWhitespace(rep.full_name).empty())
          errors.Add("representative.full_name", "is required");
        rep.title = in.title();
        rep.email = in.email();
        rep.phone = in.phone();
        rep.approval.approved_by = in.mayor_approval().approved_by();
        rep.approval.approved_on = DayFromProto(
            in.mayor_approval().approved_on(), "representative.mayor_approval.approved_on", errors);
        rep.approval.document_reference = in.mayor_approval().document_reference();
        if (rep.role != RepresentativeRole::kMayor &&
            rep.role != RepresentativeRole::kUnspecified &&
            (rep.approval.approved_by.empty() || !rep.approval.approved_on)) {
          errors.Add("representative.mayor_approval",
                     "representatives other than the mayor need the mayor's formal approval (who "
                     "and when)");
        }
        Idempotency idem = IdempotencyFor(grant, req->request_id(), *req, errors);
        GNLC_RETURN_IF_ERROR(errors.ToStatus());
        GNLC_ASSIGN_OR_RETURN(Representative added,
                              store_.AddRepresentative(
                                  rep, [&](const City& c) { return grant.Check(ScopeOf(c)); },
                                  grant.principal.ToString(), idem));
        RepresentativeToProto(added, resp->mutable_representative());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* MembershipApi::RemoveRepresentative(
    grpc::CallbackServerContext* ctx, const v1::RemoveRepresentativeRequest* req,
    v1::RemoveRepresentativeResponse* resp) {
  return gate_.Unary(
      ctx, "RemoveRepresentative", [this, req, resp](const Grant& grant) -> absl::Status {
        FieldErrors errors;
        std::vector<std::string> parts = absl::StrSplit(req->name(), '/');
        if (parts.size() != 4 || parts[0] != "cities" || parts[2] != "representatives" ||
            parts[1].empty() || parts[3].empty()) {
          errors.Add("name", "must be cities/{city}/representatives/{id}");
        }
        GNLC_RETURN_IF_ERROR(errors.ToStatus());
        GNLC_ASSIGN_OR_RETURN(
            Representative rep,
            store_.RemoveRepresentative(
                parts[1], parts[3], [&](const City& c) { return grant.Check(ScopeOf(c)); },
                req->reason(), grant.principal.ToString()));
        RepresentativeToProto(rep, resp->mutable_representative());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* MembershipApi::ListRepresentatives(
    grpc::CallbackServerContext* ctx, const v1::ListRepresentativesRequest* req,
    v1::ListRepresentativesResponse* resp) {
  return gate_.Unary(
      ctx, "ListRepresentatives", [this, req, resp](const Grant& grant) -> absl::Status {
        FieldErrors errors;
        std::string id = ParseName(req->parent(), "cities", "parent", errors);
        GNLC_RETURN_IF_ERROR(errors.ToStatus());
        GNLC_ASSIGN_OR_RETURN(City city, store_.GetCity(id));
        GNLC_RETURN_IF_ERROR(grant.Check(ScopeOf(city)));
        GNLC_ASSIGN_OR_RETURN(auto reps, store_.ListRepresentatives(id, req->include_removed()));
        for (const auto& r : reps) RepresentativeToProto(r, resp->add_representatives());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* MembershipApi::RecordContribution(
    grpc::CallbackServerContext* ctx, const v1::RecordContributionRequest* req,
    v1::RecordContributionResponse* resp) {
  return gate_.Unary(
      ctx, "RecordContribution", [this, req, resp](const Grant& grant) -> absl::Status {
        FieldErrors errors;
        Contribution c;
        c.city_id = ParseName(req->parent(), "cities", "parent", errors);
        c.currency = req->contribution().amount().currency_code();
        c.amount = req->contribution().amount().amount();
        if (!ReferenceData::Get().IsCurrency(c.currency)) {
          errors.Add("contribution.amount.currency_code", "is not an ISO 4217 currency code");
        }
        if (!IsAmount(c.amount)) {
          errors.Add("contribution.amount.amount", "must be a positive decimal such as 1500.00");
        }
        c.received_on =
            DayFromProto(req->contribution().received_on(), "contribution.received_on", errors);
        if (!c.received_on) {
          errors.Add("contribution.received_on", "is required");
        } else if (*c.received_on > Today()) {
          errors.Add("contribution.received_on", "must not be in the future");
        }
        c.note = req->contribution().note();
        Idempotency idem = IdempotencyFor(grant, req->request_id(), *req, errors);
        GNLC_RETURN_IF_ERROR(errors.ToStatus());
        GNLC_ASSIGN_OR_RETURN(Contribution saved,
                              store_.RecordContribution(
                                  c, [&](const City& city) { return grant.Check(ScopeOf(city)); },
                                  grant.principal.ToString(), idem));
        ContributionToProto(saved, resp->mutable_contribution());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* MembershipApi::ListContributions(grpc::CallbackServerContext* ctx,
                                                           const v1::ListContributionsRequest* req,
                                                           v1::ListContributionsResponse* resp) {
  return gate_.Unary(
      ctx, "ListContributions", [this, req, resp](const Grant& grant) -> absl::Status {
        FieldErrors errors;
        std::string id = ParseName(req->parent(), "cities", "parent", errors);
        int size = PageSize(req->page_size(), errors);
        std::string after = DecodePageToken(req->page_token(), errors);
        GNLC_RETURN_IF_ERROR(errors.ToStatus());
        GNLC_ASSIGN_OR_RETURN(City city, store_.GetCity(id));
        GNLC_RETURN_IF_ERROR(grant.Check(ScopeOf(city)));
        GNLC_ASSIGN_OR_RETURN(auto list, store_.ListContributions(id, after, size + 1));
        for (int i = 0; i < static_cast<int>(list.size()) && i < size; ++i) {
          ContributionToProto(list[i], resp->add_contributions());
        }
        if (static_cast<int>(list.size()) > size)
          resp->set_next_page_token(EncodePageToken(list[size - 1].id));
        return absl::OkStatus();
      });
}

namespace {

// The event filter for a caller: its own filters, limited to what its grant reaches.
absl::StatusOr<EventFilter> EventFilterFor(const Grant& grant, const std::string& city,
                                           const std::string& country, const std::string& cursor) {
  FieldErrors errors;
  EventFilter f;
  if (!city.empty()) f.city_id = ParseName(city, "cities", "city", errors);
  f.country = country;
  f.after_seq = ParseCursor(cursor, "after_cursor", errors);
  GNLC_RETURN_IF_ERROR(errors.ToStatus());
  LimitToGrant(grant, f.scope_country, f.scope_city, f.published_only);
  return f;
}

}  // namespace

grpc::ServerUnaryReactor* MembershipApi::ListMembershipEvents(
    grpc::CallbackServerContext* ctx, const v1::ListMembershipEventsRequest* req,
    v1::ListMembershipEventsResponse* resp) {
  return gate_.Unary(
      ctx, "ListMembershipEvents", [this, req, resp](const Grant& grant) -> absl::Status {
        GNLC_ASSIGN_OR_RETURN(EventFilter f, EventFilterFor(grant, req->city(), req->country_code(),
                                                            req->after_cursor()));
        FieldErrors errors;
        f.limit = PageSize(req->page_size(), errors);
        GNLC_RETURN_IF_ERROR(errors.ToStatus());
        GNLC_ASSIGN_OR_RETURN(auto events, store_.ListEvents(f));
        for (const Event& e : events) EventToProto(e, resp->add_events());
        resp->set_last_cursor(events.empty() ? req->after_cursor()
                                             : absl::StrCat(events.back().seq));
        return absl::OkStatus();
      });
}

grpc::ServerWriteReactor<v1::WatchMembershipEventsResponse>* MembershipApi::WatchMembershipEvents(
    grpc::CallbackServerContext* ctx, const v1::WatchMembershipEventsRequest* req) {
  constexpr int kPageSize = 200;
  // Shared by the two callbacks, which the stream runs one at a time.
  auto filter = std::make_shared<EventFilter>();
  auto start = [this, req, filter](const Grant& grant) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(
        *filter, EventFilterFor(grant, req->city(), req->country_code(), req->after_cursor()));
    filter->limit = kPageSize;
    if (req->start_at_now()) {
      // Skip the history: start after the newest event there is now.
      GNLC_ASSIGN_OR_RETURN(filter->after_seq, store_.LatestEventSeq());
    }
    return absl::OkStatus();
  };
  auto next = [this, filter]() -> absl::StatusOr<std::vector<v1::WatchMembershipEventsResponse>> {
    GNLC_ASSIGN_OR_RETURN(auto events, store_.ListEvents(*filter));
    std::vector<v1::WatchMembershipEventsResponse> out(events.size());
    for (size_t i = 0; i < events.size(); ++i) EventToProto(events[i], out[i].mutable_event());
    if (!events.empty()) filter->after_seq = events.back().seq;
    return out;
  };
  return new FeedStream<v1::WatchMembershipEventsResponse>(gate_, ctx, "WatchMembershipEvents",
                                                           stopping_, start, next);
}

// --- AccessService --------------------------------------------------------------------------

namespace {

void ApiKeyToProto(const ApiKeyRecord& k, access_v1::ApiKey* out) {
  out->set_name(absl::StrCat("apiKeys/", k.key_id));
  out->set_key_id(k.key_id);
  out->set_principal(k.principal);
  out->set_description(k.description);
  SetTime(out->mutable_create_time(), k.created_at_us);
  out->set_created_by(k.created_by);
  SetTime(out->mutable_revoke_time(), k.revoked_at_us);
  out->set_revoked_by(k.revoked_by);
  out->set_revoke_reason(k.revoke_reason);
}

}  // namespace

AccessApi::AccessApi(MembershipStore& store, CallGate& gate) : store_(store), gate_(gate) {}

grpc::ServerUnaryReactor* AccessApi::IssueApiKey(grpc::CallbackServerContext* ctx,
                                                 const access_v1::IssueApiKeyRequest* req,
                                                 access_v1::IssueApiKeyResponse* resp) {
  return gate_.Unary(ctx, "IssueApiKey", [this, req, resp](const Grant& grant) -> absl::Status {
    FieldErrors errors;
    auto principal = ParsePrincipal(req->principal());
    if (!principal.ok()) {
      errors.Add("principal", std::string(principal.status().message()));
    } else if ((principal->role == Role::kNationalCommission ||
                principal->role == Role::kMinistry) &&
               !ReferenceData::Get().FindCountry(principal->id)) {
      errors.Add("principal", absl::StrCat("'", principal->id, "' is not an ISO 3166-1 country"));
    }
    if (req->description().size() > 500)
      errors.Add("description", "must be at most 500 characters");
    Idempotency idem = IdempotencyFor(grant, req->request_id(), *req, errors);
    GNLC_RETURN_IF_ERROR(errors.ToStatus());
    if (principal->role == Role::kCity) {
      // A coordinator key for a city that does not exist would reach nothing.
      GNLC_RETURN_IF_ERROR(store_.GetCity(principal->id).status());
    }
    NewApiKey key = GenerateApiKey();
    ApiKeyRecord record{key.key_id,
                        key.hash,
                        principal->ToString(),
                        req->description(),
                        NowMicros(),
                        grant.principal.ToString(),
                        0,
                        "",
                        ""};
    GNLC_RETURN_IF_ERROR(store_.InsertApiKey(record, idem));
    ApiKeyToProto(record, resp->mutable_api_key());
    resp->set_secret(key.token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AccessApi::ListApiKeys(grpc::CallbackServerContext* ctx,
                                                 const access_v1::ListApiKeysRequest* req,
                                                 access_v1::ListApiKeysResponse* resp) {
  return gate_.Unary(ctx, "ListApiKeys", [this, req, resp](const Grant&) -> absl::Status {
    FieldErrors errors;
    int size = PageSize(req->page_size(), errors);
    std::string token = DecodePageToken(req->page_token(), errors);
    int64_t before = std::numeric_limits<int64_t>::max();
    if (!token.empty() && !absl::SimpleAtoi(token, &before))
      errors.Add("page_token", "is not valid");
    if (!req->principal().empty() && !ParsePrincipal(req->principal()).ok()) {
      errors.Add("principal", "is not a principal such as city:cn-hangzhou");
    }
    GNLC_RETURN_IF_ERROR(errors.ToStatus());
    GNLC_ASSIGN_OR_RETURN(
        auto keys, store_.ListApiKeys(req->principal(), req->include_revoked(), before, size + 1));
    for (int i = 0; i < static_cast<int>(keys.size()) && i < size; ++i) {
      ApiKeyToProto(keys[i], resp->add_api_keys());
    }
    if (static_cast<int>(keys.size()) > size) {
      resp->set_next_page_token(EncodePageToken(absl::StrCat(keys[size - 1].created_at_us)));
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AccessApi::RevokeApiKey(grpc::CallbackServerContext* ctx,
                                                  const access_v1::RevokeApiKeyRequest* req,
                                                  access_v1::RevokeApiKeyResponse* resp) {
  return gate_.Unary(ctx, "RevokeApiKey", [this, req, resp](const Grant& grant) -> absl::Status {
    FieldErrors errors;
    std::string id = ParseName(req->name(), "apiKeys", "name", errors);
    GNLC_RETURN_IF_ERROR(errors.ToStatus());
    GNLC_ASSIGN_OR_RETURN(ApiKeyRecord key,
                          store_.RevokeApiKey(id, req->reason(), grant.principal.ToString()));
    ApiKeyToProto(key, resp->mutable_api_key());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AccessApi::WhoAmI(grpc::CallbackServerContext* ctx,
                                            const access_v1::WhoAmIRequest*,
                                            access_v1::WhoAmIResponse* resp) {
  return gate_.Unary(ctx, "WhoAmI", [resp](const Grant& grant) -> absl::Status {
    resp->set_principal(grant.principal.ToString());
    resp->set_key_id(grant.principal.key_id);
    return absl::OkStatus();
  });
}

absl::StatusOr<Principal> StoreAuthenticator::Authenticate(absl::string_view token) {
  GNLC_ASSIGN_OR_RETURN(std::string key_id, ApiKeyId(token));
  GNLC_ASSIGN_OR_RETURN(auto key, store_.FindApiKey(key_id));
  auto refused = [](absl::string_view why) {
    return ErrorWithReason(absl::StatusCode::kUnauthenticated, "API_KEY_INVALID",
                           absl::StrCat("the API key is not valid: ", why));
  };
  if (!key || !SameApiKeyHash(key->hash, HashApiKey(token))) return refused("unknown key");
  if (key->revoked_at_us != 0) return refused("it was revoked");
  GNLC_ASSIGN_OR_RETURN(Principal principal, ParsePrincipal(key->principal));
  principal.key_id = key->key_id;
  return principal;
}

absl::Status EnsureBootstrapKey(MembershipStore& store, const std::string& path) {
  auto secretariat_key = [](const std::string& key_id, const std::string& hash) {
    return ApiKeyRecord{
        key_id, hash, "secretariat", "local bootstrap key", NowMicros(), "bootstrap", 0, "", ""};
  };
  if (std::ifstream in(path); in) {
    std::string token;
    std::getline(in, token);
    GNLC_ASSIGN_OR_RETURN(std::string key_id, ApiKeyId(token));
    GNLC_ASSIGN_OR_RETURN(auto known, store.FindApiKey(key_id));
    if (!known) {
      // A fresh database with an existing file: register the file's key as the secretariat's.
      return store.InsertApiKey(secretariat_key(key_id, HashApiKey(token)), {});
    }
    auto principal = StoreAuthenticator(store).Authenticate(token);
    if (principal.ok() && principal->role == Role::kSecretariat) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat("--bootstrap_key_file ", path,
                     " holds a key that is revoked or not the secretariat's; remove the file to "
                     "issue a new one"));
  }
  // The file first, created private: if storing the key then fails, the next start finds the
  // file and registers its key (the branch above).
  NewApiKey key = GenerateApiKey();
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--bootstrap_key_file: cannot create ", path, ": ", std::strerror(errno)));
  }
  std::string line = key.token + "\n";
  bool written = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  close(fd);
  if (!written) {
    return absl::InvalidArgumentError(absl::StrCat("--bootstrap_key_file: cannot write ", path));
  }
  return store.InsertApiKey(secretariat_key(key.key_id, key.hash), {});
}

}  // namespace gnlc::membership
