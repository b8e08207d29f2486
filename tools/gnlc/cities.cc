// cities: record, find, read and correct cities, and read a city's change history.
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/gnlc/arguments.h"
#include "tools/gnlc/commands.h"
#include "tools/gnlc/events.h"
#include "tools/gnlc/flags.h"
#include "tools/gnlc/format.h"

namespace gnlc::cli {
namespace {

using MembershipStub = v1::MembershipService::Stub;

// The City in --file, or a usage error already printed (then the status is not OK).
absl::StatusOr<v1::City> CityFromFile() {
  std::string path = absl::GetFlag(FLAGS_file);
  if (path.empty()) return absl::InvalidArgumentError("--file=city.json is required");
  auto json = ReadFile(path);
  if (!json.ok()) return absl::InvalidArgumentError(absl::StrCat("--file: cannot read ", path));
  return ParseCityJson(absl::StrCat("--file=", path), *json);
}

std::string Names(const v1::City& city) {
  std::vector<std::string> names;
  for (const auto& name : city.display_names()) {
    names.push_back(absl::StrCat(name.language(), " ", name.text()));
  }
  return absl::StrJoin(names, "; ");
}

std::string GoverningBody(const v1::City& city) {
  if (city.governing_body().name().empty()) return "";
  return absl::StrCat(city.governing_body().name(),
                      city.governing_body().elected() ? " (elected)" : " (not elected)");
}

std::string ContactLine(const v1::Contact& c) {
  std::vector<std::string> parts;
  for (const std::string* part : {&c.name(), &c.email(), &c.phone(), &c.address()}) {
    if (!part->empty()) parts.push_back(*part);
  }
  return absl::StrJoin(parts, ", ");
}

std::string MembershipLine(const v1::City& city) {
  const v1::Membership& m = city.membership();
  std::string line = MemberStatusLabel(m.status());
  if (!FormatTimestamp(m.member_since()).empty()) {
    absl::StrAppend(&line, ", member since ", FormatTimestamp(m.member_since()));
  }
  if (!m.application().empty()) absl::StrAppend(&line, ", through ", m.application());
  if (m.award_eligible()) absl::StrAppend(&line, "; eligible for the Learning City Award");
  return line;
}

void PrintCity(const v1::City& city) {
  std::string population = city.population() == 0 ? "" : FormatCount(city.population());
  if (!population.empty() && city.population_year() != 0) {
    absl::StrAppend(&population, " (", city.population_year(), ")");
  }
  std::string country = city.country_code();
  if (!RegionLabel(city.region()).empty()) {
    absl::StrAppend(&country, " (", RegionLabel(city.region()), ")");
  }
  std::fputs(FormatDetails({{"City", city.name()},
                            {"Names", Names(city)},
                            {"Country", country},
                            {"Kind", CityKindLabel(city.kind())},
                            {"Population", population},
                            {"Governing body", GoverningBody(city)},
                            {"Mayor", city.mayor()},
                            {"Contact", ContactLine(city.contact())},
                            {"Website", city.website()},
                            {"Membership", MembershipLine(city)},
                            {"Etag", city.etag()},
                            {"Created", FormatTimestamp(city.create_time())},
                            {"Updated", FormatTimestamp(city.update_time())}})
                 .c_str(),
             stdout);
}

int Create(Invocation& in) {
  auto city = CityFromFile();
  if (!city.ok()) return BadValue(city.status());
  v1::CreateCityRequest request;
  *request.mutable_city() = *city;
  request.set_city_id(absl::GetFlag(FLAGS_city_id));
  request.set_request_id(absl::GetFlag(FLAGS_request_id));
  v1::CreateCityResponse response;
  if (auto st = in.connection.Call(&MembershipStub::CreateCity, request, &response); !st.ok()) {
    return in.Fail(st);
  }
  if (in.json) return in.PrintJson(response);
  PrintCity(response.city());
  return kExitOk;
}

int List(Invocation& in) {
  v1::ListCitiesRequest request;
  request.set_country_code(absl::GetFlag(FLAGS_country));
  request.set_query(absl::GetFlag(FLAGS_query));
  request.set_page_size(absl::GetFlag(FLAGS_page_size));
  request.set_page_token(absl::GetFlag(FLAGS_page_token));
  if (std::string text = absl::GetFlag(FLAGS_region); !text.empty()) {
    auto region = ParseRegion("--region", text);
    if (!region.ok()) return BadValue(region.status());
    request.set_region(*region);
  }
  if (std::string text = absl::GetFlag(FLAGS_status); !text.empty()) {
    auto status = ParseMemberStatus("--status", text);
    if (!status.ok()) return BadValue(status.status());
    request.set_member_status(*status);
  }
  if (std::string text = absl::GetFlag(FLAGS_kind); !text.empty()) {
    auto kind = ParseCityKind("--kind", text);
    if (!kind.ok()) return BadValue(kind.status());
    request.set_kind(*kind);
  }
  v1::ListCitiesResponse all;
  for (;;) {
    v1::ListCitiesResponse page;
    if (auto st = in.connection.Call(&MembershipStub::ListCities, request, &page); !st.ok()) {
      return in.Fail(st);
    }
    all.mutable_cities()->MergeFrom(page.cities());
    all.set_next_page_token(page.next_page_token());
    if (!absl::GetFlag(FLAGS_all) || page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  if (in.json) return in.PrintJson(all);
  Table table({"CITY", "NAME (EN / ZH)", "COUNTRY", "REGION", "KIND", "POPULATION", "STATUS"});
  for (const auto& city : all.cities()) {
    table.AddRow({city.city_id(), CityLabel(city), city.country_code(), RegionLabel(city.region()),
                  CityKindLabel(city.kind()), FormatCount(city.population()),
                  MemberStatusLabel(city.membership().status())});
  }
  std::fputs(table.empty() ? "no cities\n" : table.Render().c_str(), stdout);
  if (!all.next_page_token().empty()) {
    std::fprintf(stderr, "more: --page_token=%s (or --all)\n", all.next_page_token().c_str());
  }
  return kExitOk;
}

int Show(Invocation& in) {
  if (in.Arg(1).empty()) return UsageError("cities", "cities show needs a CITY");
  v1::GetCityRequest request;
  request.set_name(CityName(in.Arg(1)));
  v1::GetCityResponse response;
  if (auto st = in.connection.Call(&MembershipStub::GetCity, request, &response); !st.ok()) {
    return in.Fail(st);
  }
  if (in.json) return in.PrintJson(response);
  PrintCity(response.city());
  const auto& history = response.city().membership().history();
  if (history.empty()) return kExitOk;
  Table table({"TIME", "STATUS", "CHANGE", "REASON", "BY"});
  for (const auto& change : history) {
    table.AddRow({FormatTimestamp(change.time()), MemberStatusLabel(change.status()),
                  change.change(), change.reason(), change.actor()});
  }
  std::printf("\nMembership history:\n%s", table.Render().c_str());
  return kExitOk;
}

int History(Invocation& in) {
  if (in.Arg(1).empty()) return UsageError("cities", "cities history needs a CITY");
  v1::ListMembershipEventsRequest request;
  request.set_city(CityName(in.Arg(1)));
  auto events = ListAllEvents(in.connection, request);
  if (!events.ok()) return in.Fail(events.status());
  if (in.json) return in.PrintJson(*events);
  Table table = EventTable();
  for (const auto& event : events->events()) AddEventRow(table, event);
  std::fputs(table.empty() ? "no events\n" : table.Render().c_str(), stdout);
  return kExitOk;
}

int Update(Invocation& in) {
  if (in.Arg(1).empty()) return UsageError("cities", "cities update needs a CITY");
  auto city = CityFromFile();
  if (!city.ok()) return BadValue(city.status());
  auto mask = ParseFieldMask("--fields", absl::GetFlag(FLAGS_fields));
  if (!mask.ok()) return BadValue(mask.status());
  v1::UpdateCityRequest request;
  *request.mutable_city() = *city;
  request.mutable_city()->set_name(CityName(in.Arg(1)));
  *request.mutable_update_mask() = *mask;
  request.set_etag(absl::GetFlag(FLAGS_etag));
  v1::UpdateCityResponse response;
  if (auto st = in.connection.Call(&MembershipStub::UpdateCity, request, &response); !st.ok()) {
    return in.Fail(st);
  }
  if (in.json) return in.PrintJson(response);
  PrintCity(response.city());
  return kExitOk;
}

}  // namespace

int RunCities(Invocation& in) {
  const std::string verb = in.Arg(0);
  if (verb == "create") return Create(in);
  if (verb == "list") return List(in);
  if (verb == "show") return Show(in);
  if (verb == "history") return History(in);
  if (verb == "update") return Update(in);
  return UsageError("cities", verb.empty()
                                  ? "cities needs a subcommand"
                                  : absl::StrCat("unknown subcommand 'cities ", verb, "'"));
}

}  // namespace gnlc::cli
