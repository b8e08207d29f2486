// The membership change log, shared by `cities history`, `events watch` and the demo.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "gnlc/membership/v1/membership.pb.h"
#include "tools/gnlc/client.h"
#include "tools/gnlc/format.h"

namespace gnlc::cli {

// Every event the request selects, from its after_cursor on, following cursors page by page;
// last_cursor is where the log ended.
absl::StatusOr<v1::ListMembershipEventsResponse> ListAllEvents(
    Connection& connection, v1::ListMembershipEventsRequest request);

// A table of events, one row each (AddEventRow).
Table EventTable();
void AddEventRow(Table& table, const v1::MembershipEvent& event);

// One event on one line, for a live stream:
// "#12  2026-03-01T09:30:00Z  application endorsed  cities/cn-hangzhou (CN)  ...".
std::string FormatEventLine(const v1::MembershipEvent& event);

}  // namespace gnlc::cli
