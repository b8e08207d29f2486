// What the CLI prints: aligned tables, labels for enum values, times, JSON, and errors with
// the google.rpc details a server attached.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gnlc/common/v1/common.pb.h"
#include "gnlc/membership/v1/membership.pb.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"

namespace gnlc::cli {

namespace v1 = ::gnlc::membership::v1;
namespace common_v1 = ::gnlc::common::v1;

// Columns of text aligned for a terminal: two spaces between columns, no trailing blanks,
// Chinese (and other East Asian wide) characters counted as two columns.
class Table {
 public:
  // Upper-case headers by convention; an empty list gives a table without a header line.
  explicit Table(std::vector<std::string> headers);
  // A row with fewer cells than columns is padded with empty cells.
  void AddRow(std::vector<std::string> cells);
  bool empty() const { return rows_.empty(); }
  // The table, one line per row, each ending with '\n'.
  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// "Label:  value" lines aligned on the values; pairs with an empty value are left out.
std::string FormatDetails(const std::vector<std::pair<std::string, std::string>>& details);

// Terminal columns a UTF-8 string takes (wide CJK characters 2, combining marks 0).
size_t DisplayWidth(absl::string_view utf8);

// "2026-03-01T09:30:00Z" (UTC), or "" for an unset timestamp.
std::string FormatTimestamp(const google::protobuf::Timestamp& time);
// "2024-03-01", or "" for an unset date.
std::string FormatDate(const common_v1::Date& date);
// "1500.00 EUR".
std::string FormatMoney(const common_v1::Money& money);
// "12,380,000".
std::string FormatCount(int64_t n);

// The city's name in one language ("" when it has none).
std::string DisplayName(const v1::City& city, absl::string_view language);
// "Hangzhou / 杭州": the English and Chinese names, or just the English one.
std::string CityLabel(const v1::City& city);

// Human labels of enum values ("Asia and the Pacific", "not a member", "withdrawn").
std::string RegionLabel(common_v1::UnescoRegion region);
std::string MemberStatusLabel(v1::MemberStatus status);
std::string ApplicationStateLabel(v1::ApplicationState state);
std::string CityKindLabel(v1::CityKind kind);
std::string RepresentativeRoleLabel(v1::RepresentativeRole role);
std::string EventKindLabel(v1::MembershipEventKind kind);

// The message as JSON with proto field names; default-valued fields are left out. `one_line`
// for streams (one document per line); otherwise indented.
std::string ToJson(const google::protobuf::Message& message, bool one_line = false);

// "error: FAILED_PRECONDITION: <message>" and a "  - subject: description" line for every
// field or precondition violation the status carries; ends with '\n'.
std::string FormatError(const absl::Status& status);

}  // namespace gnlc::cli
