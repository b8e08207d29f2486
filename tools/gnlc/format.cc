#include "tools/gnlc/format.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "services/common/status.h"

namespace gnlc::cli {
namespace {

// Decodes one UTF-8 sequence at s[i], advancing i; malformed bytes count as one code point
// each, so width stays defined for any input.
char32_t NextCodePoint(absl::string_view s, size_t& i) {
  unsigned char lead = static_cast<unsigned char>(s[i]);
  int length = lead < 0x80           ? 1
               : (lead >> 5) == 0x6  ? 2
               : (lead >> 4) == 0xE  ? 3
               : (lead >> 3) == 0x1E ? 4
                                     : 0;
  if (length == 0 || i + length > s.size()) {
    ++i;
    return lead;
  }
  char32_t cp = length == 1 ? lead : lead & (0x7F >> length);
  for (int k = 1; k < length; ++k) {
    unsigned char next = static_cast<unsigned char>(s[i + k]);
    if ((next & 0xC0) != 0x80) {
      ++i;
      return lead;
    }
    cp = (cp << 6) | (next & 0x3F);
  }
  i += length;
  return cp;
}

// East Asian Wide and Fullwidth blocks (Unicode UAX #11), enough for CJK names and punctuation.
bool IsWide(char32_t cp) {
  return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) ||
         (cp >= 0x3041 && cp <= 0x33FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
         (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
         (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

bool IsZeroWidth(char32_t cp) {
  return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x200B && cp <= 0x200F) ||
         (cp >= 0xFE00 && cp <= 0xFE0F);
}

std::string PadRight(const std::string& text, size_t width) {
  size_t used = DisplayWidth(text);
  return used >= width ? text : text + std::string(width - used, ' ');
}

// "APPLICATION_ENDORSED" -> "application endorsed".
std::string WordsOf(absl::string_view enum_name) {
  std::string out = absl::AsciiStrToLower(enum_name);
  std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

template <typename Enum>
std::string EnumWords(Enum value) {
  const auto* descriptor = google::protobuf::GetEnumDescriptor<Enum>()->FindValueByNumber(value);
  if (descriptor == nullptr || value == 0) return "";
  return WordsOf(descriptor->name());
}

}  // namespace

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

void Table::AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }

std::string Table::Render() const {
  size_t columns = headers_.size();
  for (const auto& row : rows_) columns = std::max(columns, row.size());
  std::vector<size_t> widths(columns, 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], DisplayWidth(row[c]));
  };
  measure(headers_);
  for (const auto& row : rows_) measure(row);

  std::string out;
  auto render = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < columns; ++c) {
      const std::string cell = c < row.size() ? row[c] : "";
      if (c > 0) line += "  ";
      line += c + 1 < columns ? PadRight(cell, widths[c]) : cell;
    }
    absl::StrAppend(&out, absl::StripTrailingAsciiWhitespace(line), "\n");
  };
  if (!headers_.empty()) render(headers_);
  for (const auto& row : rows_) render(row);
  return out;
}

std::string FormatDetails(const std::vector<std::pair<std::string, std::string>>& details) {
  Table table({});
  for (const auto& [label, value] : details) {
    if (!value.empty()) table.AddRow({absl::StrCat(label, ":"), value});
  }
  return table.Render();
}

size_t DisplayWidth(absl::string_view utf8) {
  size_t width = 0;
  for (size_t i = 0; i < utf8.size();) {
    char32_t cp = NextCodePoint(utf8, i);
    width += IsZeroWidth(cp) ? 0 : IsWide(cp) ? 2 : 1;
  }
  return width;
}

std::string FormatTimestamp(const google::protobuf::Timestamp& time) {
  if (time.seconds() == 0 && time.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(time.seconds()),
                          absl::UTCTimeZone());
}

std::string FormatDate(const common_v1::Date& date) {
  if (date.year() == 0) return "";
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(), date.day());
}

std::string FormatMoney(const common_v1::Money& money) {
  if (money.amount().empty()) return "";
  return absl::StrCat(money.amount(), " ", money.currency_code());
}

std::string FormatCount(int64_t n) {
  std::string digits = absl::StrCat(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? absl::StrCat("-", out) : out;
}

std::string DisplayName(const v1::City& city, absl::string_view language) {
  for (const auto& name : city.display_names()) {
    if (name.language() == language) return name.text();
  }
  return "";
}

std::string CityLabel(const v1::City& city) {
  std::string en = DisplayName(city, "en");
  std::string zh = DisplayName(city, "zh");
  if (en.empty()) return zh;
  if (zh.empty()) return en;
  return absl::StrCat(en, " / ", zh);
}

std::string RegionLabel(common_v1::UnescoRegion region) {
  switch (region) {
    case common_v1::AFRICA:
      return "Africa";
    case common_v1::ARAB_STATES:
      return "Arab States";
    case common_v1::ASIA_AND_THE_PACIFIC:
      return "Asia and the Pacific";
    case common_v1::EUROPE_AND_NORTH_AMERICA:
      return "Europe and North America";
    case common_v1::LATIN_AMERICA_AND_THE_CARIBBEAN:
      return "Latin America and the Caribbean";
    default:
      return "";
  }
}

std::string MemberStatusLabel(v1::MemberStatus status) { return EnumWords(status); }

std::string ApplicationStateLabel(v1::ApplicationState state) {
  // The only state whose enum name is not the word users type (see ParseApplicationState).
  if (state == v1::WITHDRAWN_BY_CITY) return "withdrawn";
  return EnumWords(state);
}

std::string CityKindLabel(v1::CityKind kind) { return EnumWords(kind); }

std::string RepresentativeRoleLabel(v1::RepresentativeRole role) {
  if (role == v1::OTHER_REPRESENTATIVE) return "other";
  return EnumWords(role);
}

std::string EventKindLabel(v1::MembershipEventKind kind) { return EnumWords(kind); }

std::string ToJson(const google::protobuf::Message& message, bool one_line) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = !one_line;
  options.always_print_primitive_fields = false;
  options.preserve_proto_field_names = true;
  std::string out;
  auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok()) {
    // Only a message holding invalid UTF-8 fails here; say so instead of printing half.
    return absl::StrCat("{\"error\": \"cannot print as JSON: ", status.message().as_string(),
                        "\"}\n");
  }
  if (one_line || !absl::EndsWith(out, "\n")) out += '\n';
  return out;
}

std::string FormatError(const absl::Status& status) {
  std::vector<FieldViolation> fields = FieldViolations(status);
  std::vector<PreconditionViolation> preconditions = PreconditionViolations(status);
  std::string message(status.message());
  // Servers repeat the violations in the message for clients that read only the message; the
  // list below says the same thing one per line, so drop that repetition when it is exact.
  if (!fields.empty()) {
    std::vector<std::string> parts;
    for (const auto& v : fields) parts.push_back(absl::StrCat(v.field, ": ", v.description));
    std::string suffix = absl::StrCat(": ", absl::StrJoin(parts, "; "));
    if (absl::EndsWith(message, suffix)) message.resize(message.size() - suffix.size());
  }
  if (!preconditions.empty()) {
    std::vector<std::string> parts;
    for (const auto& v : preconditions) parts.push_back(v.description);
    std::string suffix = absl::StrCat(": ", absl::StrJoin(parts, "; "));
    if (absl::EndsWith(message, suffix)) message.resize(message.size() - suffix.size());
  }
  std::string out =
      absl::StrCat("error: ", absl::StatusCodeToString(status.code()), ": ", message, "\n");
  for (const auto& v : fields) absl::StrAppend(&out, "  - ", v.field, ": ", v.description, "\n");
  for (const auto& v : preconditions) {
    absl::StrAppend(&out, "  - ", v.subject.empty() ? v.type : v.subject, ": ", v.description,
                    "\n");
  }
  return out;
}

}  // namespace gnlc::cli
