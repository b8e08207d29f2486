#include "services/membership/domain.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "services/common/countries.h"
#include "services/common/principal.h"

namespace gnlc::membership {
namespace {

bool IsLanguageTag(absl::string_view tag) {
  // BCP 47, loosely: a 2-3 letter primary subtag, then alphanumeric subtags ("zh-Hans").
  if (tag.size() < 2 || tag.size() > 35) return false;
  size_t primary = tag.find('-');
  absl::string_view first = tag.substr(0, primary);
  if (first.size() < 2 || first.size() > 3) return false;
  for (char c : first) {
    if (!absl::ascii_islower(c)) return false;
  }
  for (char c : tag) {
    if (!absl::ascii_isalnum(c) && c != '-') return false;
  }
  return true;
}

bool LooksLikeEmail(absl::string_view s) {
  size_t at = s.find('@');
  return at != absl::string_view::npos && at > 0 && s.find('.', at) != absl::string_view::npos &&
         s.back() != '.' && s.find(' ') == absl::string_view::npos;
}

}  // namespace

void ValidateCityFields(const City& city, absl::CivilDay today, FieldErrors& errors,
                        absl::string_view prefix) {
  auto field = [&](absl::string_view name) { return absl::StrCat(prefix, name); };
  if (city.names.empty() || !city.names.contains("en")) {
    errors.Add(field("display_names"), "must include an English (\"en\") name");
  }
  for (const auto& [language, name] : city.names) {
    if (!IsLanguageTag(language)) {
      errors.Add(field("display_names"),
                 absl::StrCat("'", language, "' is not a BCP 47 language tag such as zh or en"));
    } else if (absl::StripAsciiWhitespace(name).empty() || name.size() > 200) {
      errors.Add(field("display_names"),
                 absl::StrCat("the ", language, " name must be 1-200 characters"));
    }
  }
  const Country* country = ReferenceData::Get().FindCountry(city.country);
  if (country == nullptr) {
    errors.Add(field("country_code"),
               absl::StrCat("'", city.country, "' is not an ISO 3166-1 alpha-2 country code"));
  }
  if (city.kind == CityKind::kUnspecified) {
    errors.Add(field("kind"), "must be CITY, TOWN, VILLAGE, MUNICIPALITY or COMMUNITY");
  }
  if (city.population <= 0) errors.Add(field("population"), "must be a positive number");
  if (city.population_year < 1900 || city.population_year > today.year()) {
    errors.Add(field("population_year"),
               absl::StrCat("must be a year between 1900 and ", today.year()));
  }
  if (absl::StripAsciiWhitespace(city.governing_body).empty()) {
    errors.Add(field("governing_body.name"), "is required (e.g. \"City Council\")");
  }
  if (absl::StripAsciiWhitespace(city.mayor).empty()) errors.Add(field("mayor"), "is required");
  if (!city.contact.email.empty() && !LooksLikeEmail(city.contact.email)) {
    errors.Add(field("contact.email"), "is not an e-mail address");
  }
  if (!city.website.empty() && !absl::StartsWith(city.website, "https://") &&
      !absl::StartsWith(city.website, "http://")) {
    errors.Add(field("website"), "must be an http:// or https:// URL");
  }
}

std::string DeriveCityId(absl::string_view country, absl::string_view english_name) {
  std::string id = absl::AsciiStrToLower(country);
  id += '-';
  bool dash = true;
  for (char c : FoldLatinToAscii(english_name)) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) {
      id += absl::ascii_tolower(static_cast<unsigned char>(c));
      dash = false;
    } else if (!dash) {
      id += '-';
      dash = true;
    }
  }
  while (!id.empty() && id.back() == '-') id.pop_back();
  if (id.size() <= country.size() + 1) return "";  // nothing of the name survived
  if (id.size() > 63) id.resize(63);
  while (!id.empty() && id.back() == '-') id.pop_back();
  return id;
}

bool IsValidCityId(absl::string_view id) { return IsValidId(id); }

void ValidateSignature(const MayorSignature& s, absl::CivilDay today, FieldErrors& errors,
                       absl::string_view prefix) {
  auto check_day = [&](const std::optional<absl::CivilDay>& day, absl::string_view name) {
    if (day && *day > today) {
      errors.Add(absl::StrCat(prefix, name), "must not be in the future");
    } else if (day && day->year() < 2013) {
      // The two documents date from the first International Conference (Beijing, 2013).
      errors.Add(absl::StrCat(prefix, name), "must not be before 2013");
    }
  };
  check_day(s.signed_on, "signed_on");
  check_day(s.beijing_declaration_adopted_on, "beijing_declaration_adopted_on");
  check_day(s.key_features_adopted_on, "key_features_adopted_on");
}

std::vector<PreconditionViolation> EligibilityViolations(const City& city,
                                                         const MayorSignature& signature) {
  std::vector<PreconditionViolation> out;
  auto add = [&](std::string subject, std::string description) {
    out.push_back({"ELIGIBILITY", std::move(subject), std::move(description)});
  };
  if (city.population < kMinimumPopulation) {
    add("city.population", absl::StrFormat("the city has %d inhabitants; members need at least "
                                           "%d",
                                           city.population, kMinimumPopulation));
  }
  if (!city.governing_body_elected) {
    add("city.governing_body.elected",
        "the city must be governed by an elected council or other elected body");
  }
  if (!signature.beijing_declaration_adopted_on) {
    add("mayor_signature.beijing_declaration_adopted_on",
        "the mayor must formally adopt the Beijing Declaration on Building Learning Cities");
  }
  if (!signature.key_features_adopted_on) {
    add("mayor_signature.key_features_adopted_on",
        "the mayor must formally adopt the Key Features of Learning Cities");
  }
  if (absl::StripAsciiWhitespace(signature.signatory).empty() || !signature.signed_on) {
    add("mayor_signature.signatory", "the application must be signed by the mayor, with a date");
  }
  if (!signature.seal_affixed) {
    add("mayor_signature.seal_affixed", "the application must bear the city's official seal");
  }
  if (ReferenceData::Get().FindCountry(city.country) == nullptr) {
    add("city.country_code", absl::StrCat("'", city.country, "' is not a known country"));
  }
  return out;
}

absl::string_view StateName(ApplicationState state) {
  switch (state) {
    case ApplicationState::kDraft:
      return "draft";
    case ApplicationState::kSubmitted:
      return "submitted";
    case ApplicationState::kEndorsed:
      return "endorsed";
    case ApplicationState::kDeclined:
      return "declined";
    case ApplicationState::kWithdrawn:
      return "withdrawn";
    case ApplicationState::kRegistered:
      return "registered";
    default:
      return "unspecified";
  }
}

namespace {

// Every application action: its name in messages, the word the history records, and the event
// it emits.
struct ActionText {
  ApplicationAction action;
  absl::string_view verb;
  absl::string_view recorded;
  EventKind event;
};

constexpr ActionText kActionTexts[] = {
    {ApplicationAction::kUpdate, "update", "updated", EventKind::kApplicationUpdated},
    {ApplicationAction::kSubmit, "submit", "submitted", EventKind::kApplicationSubmitted},
    {ApplicationAction::kEndorse, "endorse", "endorsed", EventKind::kApplicationEndorsed},
    {ApplicationAction::kReturn, "return", "returned", EventKind::kApplicationReturned},
    {ApplicationAction::kDecline, "decline", "declined", EventKind::kApplicationDeclined},
    {ApplicationAction::kWithdraw, "withdraw", "withdrawn", EventKind::kApplicationWithdrawn},
    {ApplicationAction::kRegister, "register", "registered", EventKind::kMemberRegistered},
};

const ActionText& TextOf(ApplicationAction action) {
  for (const ActionText& t : kActionTexts) {
    if (t.action == action) return t;
  }
  return kActionTexts[0];  // unreachable: every action is in the table
}

}  // namespace

absl::string_view ActionName(ApplicationAction action) { return TextOf(action).verb; }
absl::string_view RecordedActionName(ApplicationAction action) { return TextOf(action).recorded; }
EventKind EventKindFor(ApplicationAction action) { return TextOf(action).event; }

absl::StatusOr<ApplicationState> NextState(ApplicationState from, ApplicationAction action) {
  using S = ApplicationState;
  using A = ApplicationAction;
  // The whole state machine. Withdrawal is possible until the National Commission decides.
  struct Edge {
    S from;
    A action;
    S to;
  };
  static constexpr Edge kEdges[] = {
      {S::kDraft, A::kUpdate, S::kDraft},           {S::kDraft, A::kSubmit, S::kSubmitted},
      {S::kDraft, A::kWithdraw, S::kWithdrawn},     {S::kSubmitted, A::kEndorse, S::kEndorsed},
      {S::kSubmitted, A::kReturn, S::kDraft},       {S::kSubmitted, A::kDecline, S::kDeclined},
      {S::kSubmitted, A::kWithdraw, S::kWithdrawn}, {S::kEndorsed, A::kRegister, S::kRegistered},
  };
  std::vector<std::string> allowed;
  for (const Edge& e : kEdges) {
    if (e.from != from) continue;
    if (e.action == action) return e.to;
    allowed.emplace_back(ActionName(e.action));
  }
  return ErrorWithReason(
      absl::StatusCode::kFailedPrecondition, "INVALID_APPLICATION_STATE",
      absl::StrCat("cannot ", ActionName(action), " an application that is ", StateName(from),
                   allowed.empty() ? "; it is final"
                                   : absl::StrCat("; allowed now: ", absl::StrJoin(allowed, ", "))),
      {{"state", std::string(StateName(from))}, {"action", std::string(ActionName(action))}});
}

absl::string_view MemberStatusName(MemberStatus status) {
  switch (status) {
    case MemberStatus::kNotAMember:
      return "not a member";
    case MemberStatus::kActive:
      return "active";
    case MemberStatus::kSuspended:
      return "suspended";
    case MemberStatus::kWithdrawn:
      return "withdrawn";
    default:
      return "unspecified";
  }
}

absl::string_view MemberActionName(MemberAction action) {
  switch (action) {
    case MemberAction::kSuspend:
      return "suspended";
    case MemberAction::kReinstate:
      return "reinstated";
    case MemberAction::kWithdraw:
      return "withdrawn";
  }
  return "";
}

absl::StatusOr<MemberStatus> NextMemberStatus(MemberStatus from, MemberAction action) {
  switch (action) {
    case MemberAction::kSuspend:
      if (from == MemberStatus::kActive) return MemberStatus::kSuspended;
      break;
    case MemberAction::kReinstate:
      if (from == MemberStatus::kSuspended) return MemberStatus::kActive;
      break;
    case MemberAction::kWithdraw:
      if (from == MemberStatus::kActive || from == MemberStatus::kSuspended) {
        return MemberStatus::kWithdrawn;
      }
      break;
  }
  absl::string_view verb = action == MemberAction::kSuspend     ? "suspend"
                           : action == MemberAction::kReinstate ? "reinstate"
                                                                : "withdraw";
  return ErrorWithReason(
      absl::StatusCode::kFailedPrecondition, "INVALID_MEMBER_STATUS",
      absl::StrCat("cannot ", verb, " a city whose membership is ", MemberStatusName(from),
                   action == MemberAction::kReinstate
                       ? "; only a suspended member can be reinstated "
                         "(a withdrawn city applies again)"
                       : "; only a registered member can be"),
      {{"member_status", std::string(MemberStatusName(from))}});
}

std::string FormatDay(const std::optional<absl::CivilDay>& day) {
  return day ? absl::FormatCivilTime(*day) : "";
}

std::optional<absl::CivilDay> ParseDay(absl::string_view text) {
  absl::CivilDay day;
  // ParseCivilTime normalises "2023-02-29" to March 1st: accept only dates that round-trip.
  if (text.size() != 10 || !absl::ParseCivilTime(text, &day)) return std::nullopt;
  if (absl::FormatCivilTime(day) != text) return std::nullopt;
  return day;
}

namespace {

// ASCII for U+00C0..U+017F (Latin-1 Supplement letters and Latin Extended-A), generated from
// each letter's Unicode decomposition with its accents dropped; letters that do not decompose
// (Æ, Ø, ß, Þ, Ł, Œ...) get their usual transcription, and × and ÷ are dropped.
constexpr absl::string_view kLatinToAscii[] = {
    "A", "A", "A",  "A",  "A", "A", "AE", "C",  "E",  "E", "E", "E", "I",  "I",  "I", "I", "D", "N",
    "O", "O", "O",  "O",  "O", "",  "O",  "U",  "U",  "U", "U", "Y", "TH", "ss", "a", "a", "a", "a",
    "a", "a", "ae", "c",  "e", "e", "e",  "e",  "i",  "i", "i", "i", "d",  "n",  "o", "o", "o", "o",
    "o", "",  "o",  "u",  "u", "u", "u",  "y",  "th", "y", "A", "a", "A",  "a",  "A", "a", "C", "c",
    "C", "c", "C",  "c",  "C", "c", "D",  "d",  "D",  "d", "E", "e", "E",  "e",  "E", "e", "E", "e",
    "E", "e", "G",  "g",  "G", "g", "G",  "g",  "G",  "g", "H", "h", "H",  "h",  "I", "i", "I", "i",
    "I", "i", "I",  "i",  "I", "i", "IJ", "ij", "J",  "j", "K", "k", "k",  "L",  "l", "L", "l", "L",
    "l", "L", "l",  "L",  "l", "N", "n",  "N",  "n",  "N", "n", "n", "N",  "n",  "O", "o", "O", "o",
    "O", "o", "OE", "oe", "R", "r", "R",  "r",  "R",  "r", "S", "s", "S",  "s",  "S", "s", "S", "s",
    "T", "t", "T",  "t",  "T", "t", "U",  "u",  "U",  "u", "U", "u", "U",  "u",  "U", "u", "U", "u",
    "W", "w", "Y",  "y",  "Y", "Z", "z",  "Z",  "z",  "Z", "z", "s",
};

}  // namespace

std::string FoldLatinToAscii(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    auto byte = static_cast<unsigned char>(text[i]);
    // A two-byte UTF-8 sequence 0xC3..0xC5 xx encodes U+00C0..U+017F.
    if (byte >= 0xC3 && byte <= 0xC5 && i + 1 < text.size()) {
      auto next = static_cast<unsigned char>(text[i + 1]);
      int code_point = ((byte & 0x1F) << 6) | (next & 0x3F);
      if ((next & 0xC0) == 0x80 && code_point >= 0xC0 && code_point < 0x180) {
        absl::StrAppend(&out, kLatinToAscii[code_point - 0xC0]);
        ++i;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

std::string FoldForSearch(absl::string_view text) {
  return absl::AsciiStrToLower(FoldLatinToAscii(text));
}

}  // namespace gnlc::membership
