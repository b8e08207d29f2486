// members, representatives, contributions: a member's standing, the people who represent the
// city, and the voluntary contributions it makes (membership has no fee).
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/gnlc/arguments.h"
#include "tools/gnlc/commands.h"
#include "tools/gnlc/flags.h"
#include "tools/gnlc/format.h"

namespace gnlc::cli {
namespace {

using MembershipStub = v1::MembershipService::Stub;

// --- members ---------------------------------------------------------------------------------

template <typename Request, typename Response>
int ChangeMember(Invocation& in, grpc::Status (MembershipStub::*rpc)(grpc::ClientContext*,
                                                                     const Request&, Response*)) {
  Request request;
  request.set_city(CityName(in.Arg(1)));
  request.set_reason(absl::GetFlag(FLAGS_reason));
  Response response;
  if (auto st = in.connection.Call(rpc, request, &response); !st.ok()) return in.Fail(st);
  if (in.json) return in.PrintJson(response);
  const v1::City& city = response.city();
  std::printf("%s (%s): %s\n", city.name().c_str(), CityLabel(city).c_str(),
              MemberStatusLabel(city.membership().status()).c_str());
  return kExitOk;
}

// --- representatives -------------------------------------------------------------------------

Table RepresentativeTable() {
  return Table(
      {"REPRESENTATIVE", "ROLE", "NAME", "TITLE", "CONTACT", "APPROVAL", "ADDED", "REMOVED"});
}

void AddRepresentativeRow(Table& table, const v1::Representative& r) {
  std::vector<std::string> contact;
  if (!r.email().empty()) contact.push_back(r.email());
  if (!r.phone().empty()) contact.push_back(r.phone());
  std::vector<std::string> approval;
  for (const std::string& part :
       {r.mayor_approval().approved_by(), FormatDate(r.mayor_approval().approved_on()),
        r.mayor_approval().document_reference()}) {
    if (!part.empty()) approval.push_back(part);
  }
  std::string removed = FormatTimestamp(r.remove_time());
  if (!removed.empty() && !r.remove_reason().empty()) {
    absl::StrAppend(&removed, " (", r.remove_reason(), ")");
  }
  table.AddRow({r.name(), RepresentativeRoleLabel(r.role()), r.full_name(), r.title(),
                absl::StrJoin(contact, ", "), absl::StrJoin(approval, ", "),
                FormatTimestamp(r.add_time()), removed});
}

template <typename Response>
int ReportRepresentative(Invocation& in, const absl::Status& status, const Response& response) {
  if (!status.ok()) return in.Fail(status);
  if (in.json) return in.PrintJson(response);
  Table table = RepresentativeTable();
  AddRepresentativeRow(table, response.representative());
  std::fputs(table.Render().c_str(), stdout);
  return kExitOk;
}

int AddRepresentative(Invocation& in) {
  if (in.Arg(1).empty()) {
    return UsageError("representatives", "representatives add needs a CITY");
  }
  v1::AddRepresentativeRequest request;
  request.set_parent(CityName(in.Arg(1)));
  request.set_request_id(absl::GetFlag(FLAGS_request_id));
  v1::Representative& r = *request.mutable_representative();
  if (std::string role = absl::GetFlag(FLAGS_role); !role.empty()) {
    auto parsed = ParseRepresentativeRole("--role", role);
    if (!parsed.ok()) return BadValue(parsed.status());
    r.set_role(*parsed);
  }
  r.set_full_name(absl::GetFlag(FLAGS_name));
  r.set_title(absl::GetFlag(FLAGS_title));
  r.set_email(absl::GetFlag(FLAGS_email));
  r.set_phone(absl::GetFlag(FLAGS_phone));
  std::string approved_by = absl::GetFlag(FLAGS_approved_by);
  std::string approved_on = absl::GetFlag(FLAGS_approved_on);
  std::string document = absl::GetFlag(FLAGS_approval_document);
  if (!approved_by.empty() || !approved_on.empty() || !document.empty()) {
    v1::MayorApproval& approval = *r.mutable_mayor_approval();
    approval.set_approved_by(approved_by);
    approval.set_document_reference(document);
    if (!approved_on.empty()) {
      auto day = ParseDate("--approved_on", approved_on);
      if (!day.ok()) return BadValue(day.status());
      *approval.mutable_approved_on() = *day;
    }
  }
  v1::AddRepresentativeResponse response;
  return ReportRepresentative(
      in, in.connection.Call(&MembershipStub::AddRepresentative, request, &response), response);
}

int ListRepresentatives(Invocation& in) {
  if (in.Arg(1).empty()) {
    return UsageError("representatives", "representatives list needs a CITY");
  }
  v1::ListRepresentativesRequest request;
  request.set_parent(CityName(in.Arg(1)));
  request.set_include_removed(absl::GetFlag(FLAGS_include_removed));
  v1::ListRepresentativesResponse response;
  if (auto st = in.connection.Call(&MembershipStub::ListRepresentatives, request, &response);
      !st.ok()) {
    return in.Fail(st);
  }
  if (in.json) return in.PrintJson(response);
  Table table = RepresentativeTable();
  for (const auto& r : response.representatives()) AddRepresentativeRow(table, r);
  std::fputs(table.empty() ? "no representatives\n" : table.Render().c_str(), stdout);
  return kExitOk;
}

int RemoveRepresentative(Invocation& in) {
  if (in.Arg(1).empty()) {
    return UsageError("representatives",
                      "representatives remove needs cities/CITY/representatives/ID");
  }
  v1::RemoveRepresentativeRequest request;
  request.set_name(in.Arg(1));
  request.set_reason(absl::GetFlag(FLAGS_reason));
  v1::RemoveRepresentativeResponse response;
  return ReportRepresentative(
      in, in.connection.Call(&MembershipStub::RemoveRepresentative, request, &response), response);
}

// --- contributions ---------------------------------------------------------------------------

Table ContributionTable() {
  return Table({"CONTRIBUTION", "AMOUNT", "RECEIVED", "NOTE", "RECORDED BY"});
}

void AddContributionRow(Table& table, const v1::Contribution& c) {
  table.AddRow(
      {c.name(), FormatMoney(c.amount()), FormatDate(c.received_on()), c.note(), c.recorded_by()});
}

int RecordContribution(Invocation& in) {
  if (in.Arg(1).empty()) return UsageError("contributions", "contributions record needs a CITY");
  v1::RecordContributionRequest request;
  request.set_parent(CityName(in.Arg(1)));
  request.set_request_id(absl::GetFlag(FLAGS_request_id));
  v1::Contribution& c = *request.mutable_contribution();
  c.mutable_amount()->set_amount(absl::GetFlag(FLAGS_amount));
  c.mutable_amount()->set_currency_code(absl::GetFlag(FLAGS_currency));
  c.set_note(absl::GetFlag(FLAGS_note));
  if (std::string received = absl::GetFlag(FLAGS_received_on); !received.empty()) {
    auto day = ParseDate("--received_on", received);
    if (!day.ok()) return BadValue(day.status());
    *c.mutable_received_on() = *day;
  }
  v1::RecordContributionResponse response;
  if (auto st = in.connection.Call(&MembershipStub::RecordContribution, request, &response);
      !st.ok()) {
    return in.Fail(st);
  }
  if (in.json) return in.PrintJson(response);
  Table table = ContributionTable();
  AddContributionRow(table, response.contribution());
  std::fputs(table.Render().c_str(), stdout);
  return kExitOk;
}

int ListContributions(Invocation& in) {
  if (in.Arg(1).empty()) return UsageError("contributions", "contributions list needs a CITY");
  v1::ListContributionsRequest request;
  request.set_parent(CityName(in.Arg(1)));
  request.set_page_size(absl::GetFlag(FLAGS_page_size));
  request.set_page_token(absl::GetFlag(FLAGS_page_token));
  v1::ListContributionsResponse all;
  for (;;) {
    v1::ListContributionsResponse page;
    if (auto st = in.connection.Call(&MembershipStub::ListContributions, request, &page);
        !st.ok()) {
      return in.Fail(st);
    }
    all.mutable_contributions()->MergeFrom(page.contributions());
    all.set_next_page_token(page.next_page_token());
    if (!absl::GetFlag(FLAGS_all) || page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  if (in.json) return in.PrintJson(all);
  Table table = ContributionTable();
  for (const auto& c : all.contributions()) AddContributionRow(table, c);
  std::fputs(table.empty() ? "no contributions\n" : table.Render().c_str(), stdout);
  if (!all.next_page_token().empty()) {
    std::fprintf(stderr, "more: --page_token=%s (or --all)\n", all.next_page_token().c_str());
  }
  return kExitOk;
}

std::string UnknownVerb(absl::string_view group, absl::string_view verb) {
  return verb.empty() ? absl::StrCat(group, " needs a subcommand")
                      : absl::StrCat("unknown subcommand '", group, " ", verb, "'");
}

}  // namespace

int RunMembers(Invocation& in) {
  const std::string verb = in.Arg(0);
  if (verb != "suspend" && verb != "reinstate" && verb != "withdraw") {
    return UsageError("members", UnknownVerb("members", verb));
  }
  if (in.Arg(1).empty())
    return UsageError("members", absl::StrCat("members ", verb, " needs a CITY"));
  if (verb == "suspend") return ChangeMember(in, &MembershipStub::SuspendMember);
  if (verb == "reinstate") return ChangeMember(in, &MembershipStub::ReinstateMember);
  return ChangeMember(in, &MembershipStub::WithdrawMember);
}

int RunRepresentatives(Invocation& in) {
  const std::string verb = in.Arg(0);
  if (verb == "add") return AddRepresentative(in);
  if (verb == "list") return ListRepresentatives(in);
  if (verb == "remove") return RemoveRepresentative(in);
  return UsageError("representatives", UnknownVerb("representatives", verb));
}

int RunContributions(Invocation& in) {
  const std::string verb = in.Arg(0);
  if (verb == "record") return RecordContribution(in);
  if (verb == "list") return ListContributions(in);
  return UsageError("contributions", UnknownVerb("contributions", verb));
}

}  // namespace gnlc::cli
