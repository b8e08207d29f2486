// demo load: a small, realistic member register for local use (scripts/run). Every step looks
// at what is already there first, so running it again changes nothing, and a run that was
// interrupted half-way is completed by the next one.
#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "tools/gnlc/arguments.h"
#include "tools/gnlc/commands.h"
#include "tools/gnlc/format.h"

namespace gnlc::cli {
namespace {

namespace access_v1 = ::gnlc::access::v1;
using AccessStub = access_v1::AccessService::Stub;
using MembershipStub = v1::MembershipService::Stub;

// One step of an application after its creation, named as the history records it.
enum class Step { kSubmit, kEndorse, kReturn, kWithdraw, kRegister };

absl::string_view RecordedAction(Step step) {
  switch (step) {
    case Step::kSubmit:
      return "submitted";
    case Step::kEndorse:
      return "endorsed";
    case Step::kReturn:
      return "returned";
    case Step::kWithdraw:
      return "withdrawn";
    case Step::kRegister:
      return "registered";
  }
  return "";
}

struct DemoCity {
  std::string id;
  std::string country;
  std::string english_name;
  std::string chinese_name;
  // Names in local languages besides English and Chinese: (BCP 47 tag, name).
  std::vector<std::pair<std::string, std::string>> local_names;
  v1::CityKind kind = v1::CITY_KIND_UNSPECIFIED;
  int64_t population = 0;
  int32_t population_year = 0;
  std::string governing_body;
  std::string website;
  std::string motivation;
  // The day the mayor signed, and adopted the Beijing Declaration and the Key Features.
  std::string signed_on;
  std::string adopted_on;
  // The steps of its application after creation; the plans end in different states.
  std::vector<Step> plan;
};

// Cities in all five UNESCO regions, with plausible recent populations (demo data, not a
// reference). Dates lie in 2024 so that they are in the past on any machine's clock.
const std::vector<DemoCity>& DemoCities() {
  static const auto* cities = new std::vector<DemoCity>{
      {.id = "cn-hangzhou",
       .country = "CN",
       .english_name = "Hangzhou",
       .chinese_name = "杭州",
       .kind = v1::CITY,
       .population = 12524000,
       .population_year = 2023,
       .governing_body = "Hangzhou Municipal People's Congress",
       .website = "https://www.hangzhou.gov.cn",
       .motivation = "Hangzhou commits to lifelong learning for all through its community "
                     "colleges, neighbourhood learning centres and digital learning platform.",
       .signed_on = "2024-03-12",
       .adopted_on = "2024-02-28",
       .plan = {Step::kSubmit, Step::kEndorse, Step::kRegister}},
      {.id = "ie-cork",
       .country = "IE",
       .english_name = "Cork",
       .chinese_name = "科克",
       .local_names = {{"ga", "Corcaigh"}},
       .kind = v1::CITY,
       .population = 224004,
       .population_year = 2022,
       .governing_body = "Cork City Council",
       .website = "https://www.corkcity.ie",
       .motivation = "Cork builds on its Lifelong Learning Festival to reach every neighbourhood.",
       .signed_on = "2024-04-08",
       .adopted_on = "2024-03-25",
       .plan = {Step::kSubmit, Step::kEndorse, Step::kRegister}},
      {.id = "fi-espoo",
       .country = "FI",
       .english_name = "Espoo",
       .chinese_name = "埃斯波",
       .local_names = {{"fi", "Espoo"}, {"sv", "Esbo"}},
       .kind = v1::CITY,
       .population = 314024,
       .population_year = 2023,
       .governing_body = "Espoo City Council",
       .website = "https://www.espoo.fi",
       .motivation = "Espoo makes learning part of everyday life in its libraries, schools and "
                     "workplaces.",
       .signed_on = "2024-05-06",
       .adopted_on = "2024-04-22",
       .plan = {Step::kSubmit, Step::kEndorse}},
      {.id = "co-medellin",
       .country = "CO",
       .english_name = "Medellín",
       .chinese_name = "麦德林",
       .local_names = {{"es", "Medellín"}},
       .kind = v1::CITY,
       .population = 2612958,
       .population_year = 2023,
       .governing_body = "Concejo de Medellín",
       .website = "https://www.medellin.gov.co",
       .motivation = "Medellín turns its library parks into places of learning for every "
                     "generation.",
       .signed_on = "2024-06-03",
       .adopted_on = "2024-05-20",
       .plan = {Step::kSubmit}},
      {.id = "eg-aswan",
       .country = "EG",
       .english_name = "Aswan",
       .chinese_name = "阿斯旺",
       .local_names = {{"ar", "أسوان"}},
       .kind = v1::CITY,
       .population = 315000,
       .population_year = 2021,
       .governing_body = "Aswan Local Popular Council",
       .motivation = "Aswan links literacy and heritage learning along the Nile.",
       .plan = {}},
      {.id = "ng-ibadan",
       .country = "NG",
       .english_name = "Ibadan",
       .chinese_name = "伊巴丹",
       .local_names = {{"yo", "Ìbàdàn"}},
       .kind = v1::CITY,
       .population = 3649000,
       .population_year = 2021,
       .governing_body = "Ibadan North Local Government Council",
       .motivation = "Ibadan brings adult literacy and skills training to its markets and "
                     "communities.",
       .signed_on = "2024-07-15",
       .adopted_on = "2024-07-01",
       .plan = {Step::kSubmit, Step::kReturn}},
      {.id = "au-melton",
       .country = "AU",
       .english_name = "Melton",
       .chinese_name = "墨尔顿",
       .kind = v1::MUNICIPALITY,
       .population = 178960,
       .population_year = 2021,
       .governing_body = "Melton City Council",
       .website = "https://www.melton.vic.gov.au",
       .motivation = "Melton grows as a learning community alongside its fast-growing "
                     "population.",
       .signed_on = "2024-08-19",
       .adopted_on = "2024-08-05",
       .plan = {Step::kSubmit, Step::kWithdraw}},
  };
  return *cities;
}

// The city the demo gives representatives and a voluntary contribution.
constexpr absl::string_view kShowcaseCity = "cn-hangzhou";

class DemoLoader {
 public:
  DemoLoader(Connection& connection, bool json) : connection_(connection), json_(json) {}

  // Brings every demo object to its planned state.
  absl::Status Load() {
    absl::Status status = LoadAll();
    RevokeCommissionKeys();  // also after a failure: the next run issues its own
    return status;
  }

  bool changed() const { return changed_; }

  // The demo cities and their (first) applications as they are now.
  absl::Status Summarize(std::vector<v1::City>& cities, std::vector<v1::Application>& apps) {
    for (const DemoCity& demo : DemoCities()) {
      v1::GetCityRequest request;
      request.set_name(CityName(demo.id));
      v1::GetCityResponse response;
      GNLC_RETURN_IF_ERROR(connection_.Call(&MembershipStub::GetCity, request, &response));
      cities.push_back(response.city());
      GNLC_ASSIGN_OR_RETURN(auto app, FindApplication(demo));
      apps.push_back(app.value_or(v1::Application()));
    }
    return absl::OkStatus();
  }

 private:
  absl::Status LoadAll() {
    for (const DemoCity& demo : DemoCities()) {
      GNLC_RETURN_IF_ERROR(EnsureCity(demo).status());
      GNLC_ASSIGN_OR_RETURN(v1::Application app, EnsureApplication(demo));
      GNLC_RETURN_IF_ERROR(Advance(demo, app));
    }
    GNLC_RETURN_IF_ERROR(EnsureRepresentatives());
    return EnsureContribution();
  }

  void Progress(const std::string& line) {
    // In JSON mode stdout holds only the JSON document.
    std::fprintf(json_ ? stderr : stdout, "  %s\n", line.c_str());
  }

  absl::StatusOr<v1::City> EnsureCity(const DemoCity& demo) {
    v1::GetCityRequest get;
    get.set_name(CityName(demo.id));
    v1::GetCityResponse found;
    absl::Status status = connection_.Call(&MembershipStub::GetCity, get, &found);
    if (status.ok()) return found.city();
    if (status.code() != absl::StatusCode::kNotFound) return status;

    v1::CreateCityRequest create;
    create.set_city_id(demo.id);
    create.set_request_id(absl::StrCat("demo-city-", demo.id));
    v1::City& city = *create.mutable_city();
    auto add_name = [&](const std::string& language, const std::string& text) {
      auto* name = city.add_display_names();
      name->set_language(language);
      name->set_text(text);
    };
    add_name("en", demo.english_name);
    add_name("zh", demo.chinese_name);
    for (const auto& [language, text] : demo.local_names) add_name(language, text);
    city.set_country_code(demo.country);
    city.set_kind(demo.kind);
    city.set_population(demo.population);
    city.set_population_year(demo.population_year);
    city.mutable_governing_body()->set_name(demo.governing_body);
    city.mutable_governing_body()->set_elected(true);
    city.set_mayor(MayorOf(demo));
    city.mutable_contact()->set_name(absl::StrCat("Learning City Office, ", demo.english_name));
    city.mutable_contact()->set_email(absl::StrCat("learningcity@", demo.id, ".example.org"));
    city.set_website(demo.website);
    v1::CreateCityResponse created;
    status = connection_.Call(&MembershipStub::CreateCity, create, &created);
    if (status.code() == absl::StatusCode::kAlreadyExists) {
      // Created between our read and our write (another loader): read it again.
      GNLC_RETURN_IF_ERROR(connection_.Call(&MembershipStub::GetCity, get, &found));
      return found.city();
    }
    GNLC_RETURN_IF_ERROR(status);
    changed_ = true;
    Progress(absl::StrCat("created ", created.city().name(), " (", CityLabel(created.city()), ")"));
    return created.city();
  }

  static std::string MayorOf(const DemoCity& demo) {
    return absl::StrCat("Mayor of ", demo.english_name);
  }

  // The demo's application of the city: its oldest one, if any.
  absl::StatusOr<std::optional<v1::Application>> FindApplication(const DemoCity& demo) {
    v1::ListApplicationsRequest request;
    request.set_city(CityName(demo.id));
    request.set_page_size(500);
    v1::ListApplicationsResponse response;
    GNLC_RETURN_IF_ERROR(connection_.Call(&MembershipStub::ListApplications, request, &response));
    if (response.applications().empty()) return std::nullopt;
    auto oldest = std::min_element(
        response.applications().begin(), response.applications().end(),
        [](const v1::Application& a, const v1::Application& b) {
          return std::make_pair(a.create_time().seconds(), a.create_time().nanos()) <
                 std::make_pair(b.create_time().seconds(), b.create_time().nanos());
        });
    return *oldest;
  }

  absl::StatusOr<v1::Application> EnsureApplication(const DemoCity& demo) {
    GNLC_ASSIGN_OR_RETURN(auto existing, FindApplication(demo));
    if (existing) return *existing;
    v1::CreateApplicationRequest request;
    request.set_request_id(absl::StrCat("demo-application-", demo.id));
    v1::Application& app = *request.mutable_application();
    app.set_city(CityName(demo.id));
    app.set_motivation(demo.motivation);
    app.mutable_contact()->set_name(absl::StrCat("Learning City Office, ", demo.english_name));
    app.mutable_contact()->set_email(absl::StrCat("learningcity@", demo.id, ".example.org"));
    v1::CreateApplicationResponse response;
    GNLC_RETURN_IF_ERROR(connection_.Call(&MembershipStub::CreateApplication, request, &response));
    changed_ = true;
    Progress(absl::StrCat("created ", response.application().name(), " for ",
                          response.application().city()));
    return response.application();
  }

  // Applies the steps of the plan the history does not show yet.
  absl::Status Advance(const DemoCity& demo, v1::Application app) {
    std::vector<std::string> done;
    for (const auto& t : app.history()) {
      if (t.action() != "created" && t.action() != "updated") done.push_back(t.action());
    }
    bool on_plan = done.size() <= demo.plan.size();
    for (size_t i = 0; on_plan && i < done.size(); ++i) {
      on_plan = done[i] == RecordedAction(demo.plan[i]);
    }
    if (!on_plan) {
      Progress(absl::StrCat(app.name(), " was moved outside the demo; left as it is"));
      return absl::OkStatus();
    }
    for (size_t i = done.size(); i < demo.plan.size(); ++i) {
      GNLC_RETURN_IF_ERROR(ApplyStep(demo, demo.plan[i], app));
      changed_ = true;
      std::string line =
          absl::StrCat(app.name(), " (", demo.id, "): ", RecordedAction(demo.plan[i]));
      // A return sends the application back to draft; say so, the action alone does not.
      if (ApplicationStateLabel(app.state()) != RecordedAction(demo.plan[i])) {
        absl::StrAppend(&line, ", back to ", ApplicationStateLabel(app.state()));
      }
      Progress(line);
    }
    return absl::OkStatus();
  }

  absl::Status ApplyStep(const DemoCity& demo, Step step, v1::Application& app) {
    switch (step) {
      case Step::kSubmit: {
        v1::SubmitApplicationRequest request;
        request.set_name(app.name());
        v1::MayorSignature& s = *request.mutable_mayor_signature();
        s.set_signatory(MayorOf(demo));
        s.set_seal_affixed(true);
        GNLC_ASSIGN_OR_RETURN(*s.mutable_signed_on(), ParseDate("signed_on", demo.signed_on));
        GNLC_ASSIGN_OR_RETURN(*s.mutable_beijing_declaration_adopted_on(),
                              ParseDate("adopted_on", demo.adopted_on));
        GNLC_ASSIGN_OR_RETURN(*s.mutable_key_features_adopted_on(),
                              ParseDate("adopted_on", demo.adopted_on));
        v1::SubmitApplicationResponse response;
        GNLC_RETURN_IF_ERROR(
            connection_.Call(&MembershipStub::SubmitApplication, request, &response));
        app = response.application();
        return absl::OkStatus();
      }
      case Step::kEndorse: {
        GNLC_ASSIGN_OR_RETURN(std::string key, CommissionKey(demo.country));
        v1::EndorseApplicationRequest request;
        request.set_name(app.name());
        request.set_commission_reference(
            absl::StrCat("NATCOM-", demo.country, "/2024/", app.application_id().substr(0, 12)));
        request.set_comment(
            absl::StrCat("Endorsed by the National Commission for UNESCO of ", demo.country, "."));
        v1::EndorseApplicationResponse response;
        GNLC_RETURN_IF_ERROR(
            connection_.Call(&MembershipStub::EndorseApplication, request, &response, key));
        app = response.application();
        return absl::OkStatus();
      }
      case Step::kReturn: {
        GNLC_ASSIGN_OR_RETURN(std::string key, CommissionKey(demo.country));
        v1::ReturnApplicationRequest request;
        request.set_name(app.name());
        request.set_comment(
            "Please attach the council resolution adopting the Key Features of Learning Cities "
            "and submit again.");
        v1::ReturnApplicationResponse response;
        GNLC_RETURN_IF_ERROR(
            connection_.Call(&MembershipStub::ReturnApplication, request, &response, key));
        app = response.application();
        return absl::OkStatus();
      }
      case Step::kWithdraw: {
        v1::WithdrawApplicationRequest request;
        request.set_name(app.name());
        request.set_reason("The city will apply again after the council elections.");
        v1::WithdrawApplicationResponse response;
        GNLC_RETURN_IF_ERROR(
            connection_.Call(&MembershipStub::WithdrawApplication, request, &response));
        app = response.application();
        return absl::OkStatus();
      }
      case Step::kRegister: {
        v1::RegisterMemberRequest request;
        request.set_application(app.name());
        request.set_comment("Welcome to the UNESCO Global Network of Learning Cities.");
        v1::RegisterMemberResponse response;
        GNLC_RETURN_IF_ERROR(connection_.Call(&MembershipStub::RegisterMember, request, &response));
        app = response.application();
        return absl::OkStatus();
      }
    }
    return absl::InternalError("unknown demo step");
  }

  // A key of the country's National Commission, issued on first need: only a commission may
  // endorse or return its country's applications. A key issued by an interrupted earlier run
  // cannot be used (its secret was shown once, to that run), so then a fresh one is issued.
  absl::StatusOr<std::string> CommissionKey(const std::string& country) {
    if (auto it = commission_keys_.find(country); it != commission_keys_.end()) {
      return it->second;
    }
    access_v1::IssueApiKeyRequest request;
    request.set_principal(absl::StrCat("national_commission:", country));
    request.set_description(absl::StrCat("demo: National Commission for UNESCO of ", country,
                                         " (revoked once the demo is loaded)"));
    request.set_request_id(absl::StrCat("demo-commission-key-", absl::AsciiStrToLower(country)));
    access_v1::IssueApiKeyResponse response;
    absl::Status status = connection_.Call(&AccessStub::IssueApiKey, request, &response);
    if (status.code() == absl::StatusCode::kAlreadyExists) {
      request.set_request_id(
          absl::StrCat(request.request_id(), "-", absl::ToUnixSeconds(absl::Now())));
      status = connection_.Call(&AccessStub::IssueApiKey, request, &response);
    }
    GNLC_RETURN_IF_ERROR(status);
    Progress(absl::StrCat("issued ", response.api_key().name(), " for ",
                          response.api_key().principal()));
    issued_keys_.push_back(response.api_key().name());
    commission_keys_[country] = response.secret();
    return response.secret();
  }

  // Nobody else holds these secrets: revoking says so in the key list, and leaves no usable
  // commission key behind. A failure here leaves the demo data intact, so it only warns.
  void RevokeCommissionKeys() {
    for (const std::string& name : issued_keys_) {
      access_v1::RevokeApiKeyRequest request;
      request.set_name(name);
      request.set_reason("demo loaded; its secret was not kept");
      access_v1::RevokeApiKeyResponse response;
      if (auto st = connection_.Call(&AccessStub::RevokeApiKey, request, &response); !st.ok()) {
        std::fprintf(stderr, "warning: could not revoke %s: %s\n", name.c_str(),
                     std::string(st.message()).c_str());
      }
    }
  }

  absl::Status EnsureRepresentatives() {
    v1::ListRepresentativesRequest list;
    list.set_parent(CityName(kShowcaseCity));
    list.set_include_removed(true);  // a representative someone removed stays removed
    v1::ListRepresentativesResponse existing;
    GNLC_RETURN_IF_ERROR(connection_.Call(&MembershipStub::ListRepresentatives, list, &existing));

    v1::Representative mayor;
    mayor.set_role(v1::MAYOR);
    mayor.set_full_name("Mayor of Hangzhou");
    mayor.set_title("Mayor");
    v1::Representative focal_point;
    focal_point.set_role(v1::FOCAL_POINT);
    focal_point.set_full_name("Li Wen");
    focal_point.set_title("Director, Hangzhou Learning City Office");
    focal_point.set_email("learningcity@cn-hangzhou.example.org");
    focal_point.mutable_mayor_approval()->set_approved_by("Mayor of Hangzhou");
    GNLC_ASSIGN_OR_RETURN(*focal_point.mutable_mayor_approval()->mutable_approved_on(),
                          ParseDate("approved_on", "2024-04-02"));
    focal_point.mutable_mayor_approval()->set_document_reference("HZ-LC-2024-017");

    for (const v1::Representative& wanted : {mayor, focal_point}) {
      bool present = std::any_of(
          existing.representatives().begin(), existing.representatives().end(), [&](const auto& r) {
            return r.role() == wanted.role() && r.full_name() == wanted.full_name();
          });
      if (present) continue;
      v1::AddRepresentativeRequest add;
      add.set_parent(list.parent());
      *add.mutable_representative() = wanted;
      add.set_request_id(absl::StrCat("demo-representative-", kShowcaseCity, "-",
                                      RepresentativeRoleLabel(wanted.role())));
      v1::AddRepresentativeResponse added;
      GNLC_RETURN_IF_ERROR(connection_.Call(&MembershipStub::AddRepresentative, add, &added));
      changed_ = true;
      Progress(absl::StrCat("added ", added.representative().name(), " (",
                            RepresentativeRoleLabel(wanted.role()), ", ", wanted.full_name(), ")"));
    }
    return absl::OkStatus();
  }

  absl::Status EnsureContribution() {
    constexpr absl::string_view kNote = "Voluntary contribution to the GNLC coordination (demo)";
    v1::ListContributionsRequest list;
    list.set_parent(CityName(kShowcaseCity));
    list.set_page_size(500);
    v1::ListContributionsResponse existing;
    GNLC_RETURN_IF_ERROR(connection_.Call(&MembershipStub::ListContributions, list, &existing));
    for (const auto& c : existing.contributions()) {
      if (c.note() == kNote) return absl::OkStatus();
    }
    v1::RecordContributionRequest record;
    record.set_parent(list.parent());
    record.set_request_id(absl::StrCat("demo-contribution-", kShowcaseCity));
    v1::Contribution& c = *record.mutable_contribution();
    c.mutable_amount()->set_currency_code("USD");
    c.mutable_amount()->set_amount("10000.00");
    GNLC_ASSIGN_OR_RETURN(*c.mutable_received_on(), ParseDate("received_on", "2024-12-10"));
    c.set_note(std::string(kNote));
    v1::RecordContributionResponse recorded;
    GNLC_RETURN_IF_ERROR(connection_.Call(&MembershipStub::RecordContribution, record, &recorded));
    changed_ = true;
    Progress(absl::StrCat("recorded ", recorded.contribution().name(), " (",
                          FormatMoney(recorded.contribution().amount()), ")"));
    return absl::OkStatus();
  }

  Connection& connection_;
  const bool json_;
  bool changed_ = false;
  std::map<std::string, std::string> commission_keys_;  // country -> secret
  std::vector<std::string> issued_keys_;
};

int PrintSummary(const Invocation& in, bool changed, const std::vector<v1::City>& cities,
                 const std::vector<v1::Application>& apps) {
  if (in.json) {
    nlohmann::json out = {{"already_loaded", !changed},
                          {"cities", nlohmann::json::array()},
                          {"applications", nlohmann::json::array()}};
    for (const auto& city : cities) out["cities"].push_back(nlohmann::json::parse(ToJson(city)));
    for (const auto& app : apps) {
      out["applications"].push_back(nlohmann::json::parse(ToJson(app)));
    }
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  Table table(
      {"CITY", "NAME (EN / ZH)", "COUNTRY", "REGION", "MEMBER STATUS", "APPLICATION", "STATE"});
  for (size_t i = 0; i < cities.size(); ++i) {
    table.AddRow({cities[i].city_id(), CityLabel(cities[i]), cities[i].country_code(),
                  RegionLabel(cities[i].region()),
                  MemberStatusLabel(cities[i].membership().status()), apps[i].application_id(),
                  ApplicationStateLabel(apps[i].state())});
  }
  std::printf("%s\n%s", changed ? "demo loaded" : "demo already loaded", table.Render().c_str());
  return kExitOk;
}

}  // namespace

int RunDemo(Invocation& in) {
  if (in.Arg(0) != "load") {
    return UsageError("demo", in.Arg(0).empty()
                                  ? "demo needs a subcommand"
                                  : absl::StrCat("unknown subcommand 'demo ", in.Arg(0), "'"));
  }
  DemoLoader loader(in.connection, in.json);
  if (auto st = loader.Load(); !st.ok()) return in.Fail(st);
  std::vector<v1::City> cities;
  std::vector<v1::Application> apps;
  if (auto st = loader.Summarize(cities, apps); !st.ok()) return in.Fail(st);
  return PrintSummary(in, loader.changed(), cities, apps);
}

}  // namespace gnlc::cli
