// events: the change log as pages and as a live stream.
#include "tools/gnlc/events.h"

#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/gnlc/arguments.h"
#include "tools/gnlc/commands.h"
#include "tools/gnlc/flags.h"

namespace gnlc::cli {
namespace {

using MembershipStub = v1::MembershipService::Stub;

int Watch(Invocation& in) {
  v1::WatchMembershipEventsRequest request;
  if (std::string city = absl::GetFlag(FLAGS_city); !city.empty()) {
    request.set_city(CityName(city));
  }
  request.set_country_code(absl::GetFlag(FLAGS_country));
  request.set_after_cursor(absl::GetFlag(FLAGS_after));
  request.set_start_at_now(absl::GetFlag(FLAGS_from_now));
  if (request.start_at_now() && !request.after_cursor().empty()) {
    return UsageError("events", "--after and --from_now exclude each other");
  }

  grpc::ClientContext context;
  in.connection.Prepare(context, /*with_deadline=*/false);  // a watch runs until stopped
  // Ctrl-C cancels the stream instead of killing the process, so it ends like any other call.
  SetInterruptHook([&context] { context.TryCancel(); });
  std::fprintf(stderr, "watching membership events at %s (Ctrl-C stops)\n",
               in.connection.settings().address.c_str());
  auto reader = in.connection.membership().WatchMembershipEvents(&context, request);
  v1::WatchMembershipEventsResponse response;
  std::string last_cursor = request.after_cursor();
  while (reader->Read(&response)) {
    const v1::MembershipEvent& event = response.event();
    last_cursor = event.cursor();
    std::fputs(in.json ? ToJson(event, /*one_line=*/true).c_str()
                       : absl::StrCat(FormatEventLine(event), "\n").c_str(),
               stdout);
    std::fflush(stdout);  // a follower (| grep, a log) sees each event as it happens
  }
  grpc::Status status = reader->Finish();
  SetInterruptHook(nullptr);
  std::string resume =
      last_cursor.empty() ? "" : absl::StrCat("; resume with --after=", last_cursor);
  if (Interrupted()) {
    std::fprintf(stderr, "stopped%s\n", resume.c_str());
    return kExitOk;
  }
  if (!status.ok()) {
    int code = in.Fail(FromGrpcStatus(status));
    if (!resume.empty()) std::fprintf(stderr, "%s\n", resume.substr(2).c_str());
    return code;
  }
  return kExitOk;
}

}  // namespace

absl::StatusOr<v1::ListMembershipEventsResponse> ListAllEvents(
    Connection& connection, v1::ListMembershipEventsRequest request) {
  constexpr int kPageSize = 500;  // the server's maximum
  request.set_page_size(kPageSize);
  v1::ListMembershipEventsResponse all;
  all.set_last_cursor(request.after_cursor());
  for (;;) {
    v1::ListMembershipEventsResponse page;
    GNLC_RETURN_IF_ERROR(connection.Call(&MembershipStub::ListMembershipEvents, request, &page));
    all.mutable_events()->MergeFrom(page.events());
    all.set_last_cursor(page.last_cursor());
    if (page.events_size() < kPageSize || page.last_cursor() == request.after_cursor()) break;
    request.set_after_cursor(page.last_cursor());
  }
  return all;
}

Table EventTable() {
  return Table({"CURSOR", "TIME", "EVENT", "RESOURCE", "MEMBER STATUS", "BY", "COMMENT"});
}

void AddEventRow(Table& table, const v1::MembershipEvent& event) {
  table.AddRow({event.cursor(), FormatTimestamp(event.time()), EventKindLabel(event.kind()),
                event.resource().empty() ? event.city() : event.resource(),
                MemberStatusLabel(event.member_status()), event.actor(), event.comment()});
}

std::string FormatEventLine(const v1::MembershipEvent& event) {
  std::vector<std::string> parts = {absl::StrCat("#", event.cursor()),
                                    FormatTimestamp(event.time()), EventKindLabel(event.kind()),
                                    absl::StrCat(event.city(), " (", event.country_code(), ")")};
  if (!event.resource().empty()) parts.push_back(event.resource());
  parts.push_back(absl::StrCat("member status: ", MemberStatusLabel(event.member_status())));
  if (!event.actor().empty()) parts.push_back(absl::StrCat("by ", event.actor()));
  if (!event.comment().empty()) parts.push_back(absl::StrCat("\"", event.comment(), "\""));
  return absl::StrJoin(parts, "  ");
}

int RunEvents(Invocation& in) {
  const std::string verb = in.Arg(0);
  if (verb == "watch") return Watch(in);
  return UsageError("events", verb.empty()
                                  ? "events needs a subcommand"
                                  : absl::StrCat("unknown subcommand 'events ", verb, "'"));
}

}  // namespace gnlc::cli
