// applications: a city's application through its National Commission, step by step.
#include <cstdio>
#include <functional>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "tools/gnlc/arguments.h"
#include "tools/gnlc/commands.h"
#include "tools/gnlc/flags.h"
#include "tools/gnlc/format.h"

namespace gnlc::cli {
namespace {

using MembershipStub = v1::MembershipService::Stub;

std::string LastStep(const v1::Application& app) {
  if (app.history().empty()) return "";
  const auto& last = *app.history().rbegin();
  return absl::StrCat(last.action(), " ", FormatTimestamp(last.time()));
}

std::string SignatureLine(const v1::MayorSignature& s) {
  if (s.signatory().empty()) return "";
  std::string line = absl::StrCat(s.signatory());
  if (!FormatDate(s.signed_on()).empty()) absl::StrAppend(&line, ", ", FormatDate(s.signed_on()));
  absl::StrAppend(&line, s.seal_affixed() ? ", seal affixed" : ", no seal");
  return line;
}

void PrintApplication(const v1::Application& app) {
  const v1::Contact& c = app.contact();
  std::string contact = c.name();
  if (!c.email().empty()) absl::StrAppend(&contact, contact.empty() ? "" : ", ", c.email());
  std::fputs(FormatDetails({{"Application", app.name()},
                            {"City", app.city()},
                            {"Country", app.country_code()},
                            {"State", ApplicationStateLabel(app.state())},
                            {"Motivation", app.motivation()},
                            {"Contact", contact},
                            {"Signed by", SignatureLine(app.mayor_signature())},
                            {"Beijing Declaration adopted",
                             FormatDate(app.mayor_signature().beijing_declaration_adopted_on())},
                            {"Key Features adopted",
                             FormatDate(app.mayor_signature().key_features_adopted_on())},
                            {"Commission reference", app.commission_reference()},
                            {"Etag", app.etag()},
                            {"Created", FormatTimestamp(app.create_time())},
                            {"Updated", FormatTimestamp(app.update_time())}})
                 .c_str(),
             stdout);
}

void PrintHistory(const v1::Application& app) {
  Table table({"TIME", "FROM", "TO", "ACTION", "BY", "COMMENT"});
  for (const auto& t : app.history()) {
    table.AddRow({FormatTimestamp(t.time()), ApplicationStateLabel(t.from_state()),
                  ApplicationStateLabel(t.to_state()), t.action(), t.actor(), t.comment()});
  }
  if (!table.empty()) std::printf("\nHistory:\n%s", table.Render().c_str());
}

// Parses `value` into the date `field` returns; leaves the date unset when `value` is empty.
absl::Status SetDate(absl::string_view flag, const std::string& value,
                     const std::function<common_v1::Date*()>& field) {
  if (value.empty()) return absl::OkStatus();
  auto date = ParseDate(flag, value);
  if (!date.ok()) return date.status();
  *field() = *date;
  return absl::OkStatus();
}

// Prints the application a workflow step returned.
template <typename Response>
int Report(Invocation& in, const absl::Status& status, const Response& response) {
  if (!status.ok()) return in.Fail(status);
  if (in.json) return in.PrintJson(response);
  PrintApplication(response.application());
  return kExitOk;
}

int Create(Invocation& in) {
  if (in.Arg(1).empty()) return UsageError("applications", "applications create needs a CITY");
  v1::CreateApplicationRequest request;
  request.mutable_application()->set_city(CityName(in.Arg(1)));
  request.mutable_application()->set_motivation(absl::GetFlag(FLAGS_motivation));
  request.set_request_id(absl::GetFlag(FLAGS_request_id));
  v1::CreateApplicationResponse response;
  return Report(in, in.connection.Call(&MembershipStub::CreateApplication, request, &response),
                response);
}

int List(Invocation& in) {
  v1::ListApplicationsRequest request;
  request.set_country_code(absl::GetFlag(FLAGS_country));
  if (std::string city = absl::GetFlag(FLAGS_city); !city.empty()) {
    request.set_city(CityName(city));
  }
  if (std::string text = absl::GetFlag(FLAGS_state); !text.empty()) {
    auto state = ParseApplicationState("--state", text);
    if (!state.ok()) return BadValue(state.status());
    request.set_state(*state);
  }
  request.set_page_size(absl::GetFlag(FLAGS_page_size));
  request.set_page_token(absl::GetFlag(FLAGS_page_token));
  v1::ListApplicationsResponse all;
  for (;;) {
    v1::ListApplicationsResponse page;
    if (auto st = in.connection.Call(&MembershipStub::ListApplications, request, &page); !st.ok()) {
      return in.Fail(st);
    }
    all.mutable_applications()->MergeFrom(page.applications());
    all.set_next_page_token(page.next_page_token());
    if (!absl::GetFlag(FLAGS_all) || page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  if (in.json) return in.PrintJson(all);
  Table table({"APPLICATION", "CITY", "COUNTRY", "STATE", "LAST STEP"});
  for (const auto& app : all.applications()) {
    table.AddRow({app.application_id(), ResourceId(app.city()), app.country_code(),
                  ApplicationStateLabel(app.state()), LastStep(app)});
  }
  std::fputs(table.empty() ? "no applications\n" : table.Render().c_str(), stdout);
  if (!all.next_page_token().empty()) {
    std::fprintf(stderr, "more: --page_token=%s (or --all)\n", all.next_page_token().c_str());
  }
  return kExitOk;
}

int Show(Invocation& in) {
  if (in.Arg(1).empty()) return UsageError("applications", "applications show needs an ID");
  v1::GetApplicationRequest request;
  request.set_name(ApplicationName(in.Arg(1)));
  v1::GetApplicationResponse response;
  if (auto st = in.connection.Call(&MembershipStub::GetApplication, request, &response); !st.ok()) {
    return in.Fail(st);
  }
  if (in.json) return in.PrintJson(response);
  PrintApplication(response.application());
  PrintHistory(response.application());
  return kExitOk;
}

int Submit(Invocation& in) {
  v1::SubmitApplicationRequest request;
  request.set_name(ApplicationName(in.Arg(1)));
  request.set_etag(absl::GetFlag(FLAGS_etag));
  v1::MayorSignature& signature = *request.mutable_mayor_signature();
  signature.set_signatory(absl::GetFlag(FLAGS_signatory));
  signature.set_seal_affixed(absl::GetFlag(FLAGS_seal));
  // Dates left out are sent unset: the server then names every unmet requirement at once.
  for (const absl::Status& st :
       {SetDate("--signed_on", absl::GetFlag(FLAGS_signed_on),
                [&] { return signature.mutable_signed_on(); }),
        SetDate("--beijing_adopted_on", absl::GetFlag(FLAGS_beijing_adopted_on),
                [&] { return signature.mutable_beijing_declaration_adopted_on(); }),
        SetDate("--key_features_adopted_on", absl::GetFlag(FLAGS_key_features_adopted_on),
                [&] { return signature.mutable_key_features_adopted_on(); })}) {
    if (!st.ok()) return BadValue(st);
  }
  v1::SubmitApplicationResponse response;
  return Report(in, in.connection.Call(&MembershipStub::SubmitApplication, request, &response),
                response);
}

int Endorse(Invocation& in) {
  v1::EndorseApplicationRequest request;
  request.set_name(ApplicationName(in.Arg(1)));
  request.set_commission_reference(absl::GetFlag(FLAGS_reference));
  request.set_comment(absl::GetFlag(FLAGS_comment));
  request.set_etag(absl::GetFlag(FLAGS_etag));
  v1::EndorseApplicationResponse response;
  return Report(in, in.connection.Call(&MembershipStub::EndorseApplication, request, &response),
                response);
}

int Return(Invocation& in) {
  v1::ReturnApplicationRequest request;
  request.set_name(ApplicationName(in.Arg(1)));
  request.set_comment(absl::GetFlag(FLAGS_comment));
  request.set_etag(absl::GetFlag(FLAGS_etag));
  v1::ReturnApplicationResponse response;
  return Report(in, in.connection.Call(&MembershipStub::ReturnApplication, request, &response),
                response);
}

int Decline(Invocation& in) {
  v1::DeclineApplicationRequest request;
  request.set_name(ApplicationName(in.Arg(1)));
  request.set_reason(absl::GetFlag(FLAGS_reason));
  request.set_etag(absl::GetFlag(FLAGS_etag));
  v1::DeclineApplicationResponse response;
  return Report(in, in.connection.Call(&MembershipStub::DeclineApplication, request, &response),
                response);
}

int Withdraw(Invocation& in) {
  v1::WithdrawApplicationRequest request;
  request.set_name(ApplicationName(in.Arg(1)));
  request.set_reason(absl::GetFlag(FLAGS_reason));
  request.set_etag(absl::GetFlag(FLAGS_etag));
  v1::WithdrawApplicationResponse response;
  return Report(in, in.connection.Call(&MembershipStub::WithdrawApplication, request, &response),
                response);
}

int Register(Invocation& in) {
  v1::RegisterMemberRequest request;
  request.set_application(ApplicationName(in.Arg(1)));
  request.set_comment(absl::GetFlag(FLAGS_comment));
  request.set_etag(absl::GetFlag(FLAGS_etag));
  v1::RegisterMemberResponse response;
  if (auto st = in.connection.Call(&MembershipStub::RegisterMember, request, &response); !st.ok()) {
    return in.Fail(st);
  }
  if (in.json) return in.PrintJson(response);
  PrintApplication(response.application());
  std::printf("\n%s is now a member: %s\n", response.city().name().c_str(),
              MemberStatusLabel(response.city().membership().status()).c_str());
  return kExitOk;
}

}  // namespace

int RunApplications(Invocation& in) {
  const std::string verb = in.Arg(0);
  using Step = int (*)(Invocation&);
  struct Verb {
    absl::string_view name;
    Step run;
    bool needs_application;
  };
  static constexpr Verb kVerbs[] = {
      {"create", Create, false},  {"list", List, false},        {"show", Show, false},
      {"submit", Submit, true},   {"endorse", Endorse, true},   {"return", Return, true},
      {"decline", Decline, true}, {"withdraw", Withdraw, true}, {"register", Register, true},
  };
  for (const Verb& v : kVerbs) {
    if (v.name != verb) continue;
    if (v.needs_application && in.Arg(1).empty()) {
      return UsageError("applications",
                        absl::StrCat("applications ", verb, " needs an APPLICATION id"));
    }
    return v.run(in);
  }
  return UsageError("applications",
                    verb.empty() ? "applications needs a subcommand"
                                 : absl::StrCat("unknown subcommand 'applications ", verb, "'"));
}

}  // namespace gnlc::cli
