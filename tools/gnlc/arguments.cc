#include "tools/gnlc/arguments.h"

#include <fstream>
#include <sstream>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/util/json_util.h"

namespace gnlc::cli {
namespace {

// One accepted spelling of an enum value.
struct Choice {
  absl::string_view word;
  int value;
};

// "Focal-Point" -> "focal_point".
std::string NormalizeWord(absl::string_view text) {
  std::string out = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  for (char& c : out) {
    if (c == '-' || c == ' ') c = '_';
  }
  return out;
}

// The value whose word matches, else the enum value of that name (never the UNSPECIFIED 0).
template <typename Enum, size_t N>
absl::StatusOr<Enum> ParseChoice(absl::string_view what, absl::string_view text,
                                 const Choice (&choices)[N]) {
  std::string word = NormalizeWord(text);
  for (const Choice& c : choices) {
    if (c.word == word) return static_cast<Enum>(c.value);
  }
  const auto* descriptor = google::protobuf::GetEnumDescriptor<Enum>();
  if (const auto* value = descriptor->FindValueByName(absl::AsciiStrToUpper(word));
      value != nullptr && value->number() != 0) {
    return static_cast<Enum>(value->number());
  }
  std::vector<absl::string_view> allowed;
  for (const Choice& c : choices) allowed.push_back(c.word);
  return absl::InvalidArgumentError(
      absl::StrCat(what, ": '", text, "' is not one of ", absl::StrJoin(allowed, ", ")));
}

constexpr Choice kApplicationStates[] = {
    {"draft", v1::DRAFT},
    {"submitted", v1::SUBMITTED},
    {"endorsed", v1::ENDORSED},
    {"declined", v1::DECLINED},
    {"withdrawn", v1::WITHDRAWN_BY_CITY},
    {"registered", v1::REGISTERED},
};
constexpr Choice kMemberStatuses[] = {
    {"not_a_member", v1::NOT_A_MEMBER},
    {"active", v1::ACTIVE},
    {"suspended", v1::SUSPENDED},
    {"withdrawn", v1::WITHDRAWN},
};
constexpr Choice kCityKinds[] = {
    {"city", v1::CITY},           {"town", v1::TOWN},
    {"village", v1::VILLAGE},     {"municipality", v1::MUNICIPALITY},
    {"community", v1::COMMUNITY},
};
constexpr Choice kRegions[] = {
    {"africa", common_v1::AFRICA},
    {"arab_states", common_v1::ARAB_STATES},
    {"asia_pacific", common_v1::ASIA_AND_THE_PACIFIC},
    {"europe_north_america", common_v1::EUROPE_AND_NORTH_AMERICA},
    {"latin_america_caribbean", common_v1::LATIN_AMERICA_AND_THE_CARIBBEAN},
};
constexpr Choice kRepresentativeRoles[] = {
    {"mayor", v1::MAYOR},
    {"focal_point", v1::FOCAL_POINT},
    {"other", v1::OTHER_REPRESENTATIVE},
};

std::string WithCollection(absl::string_view collection, absl::string_view id_or_name) {
  std::string prefix = absl::StrCat(collection, "/");
  if (absl::StartsWith(id_or_name, prefix)) return std::string(id_or_name);
  return absl::StrCat(prefix, id_or_name);
}

}  // namespace

absl::StatusOr<common_v1::Date> ParseDate(absl::string_view what, absl::string_view text) {
  absl::CivilDay day;
  // ParseCivilTime normalises 2023-02-29 to March 1st; printing it back catches that.
  if (text.size() != 10 || !absl::ParseCivilTime(text, &day) ||
      absl::FormatCivilTime(day) != text) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": '", text, "' is not a date; write YYYY-MM-DD, e.g. 2024-03-01"));
  }
  common_v1::Date date;
  date.set_year(static_cast<int32_t>(day.year()));
  date.set_month(day.month());
  date.set_day(day.day());
  return date;
}

absl::StatusOr<v1::ApplicationState> ParseApplicationState(absl::string_view what,
                                                           absl::string_view text) {
  return ParseChoice<v1::ApplicationState>(what, text, kApplicationStates);
}

absl::StatusOr<v1::MemberStatus> ParseMemberStatus(absl::string_view what, absl::string_view text) {
  return ParseChoice<v1::MemberStatus>(what, text, kMemberStatuses);
}

absl::StatusOr<v1::CityKind> ParseCityKind(absl::string_view what, absl::string_view text) {
  return ParseChoice<v1::CityKind>(what, text, kCityKinds);
}

absl::StatusOr<common_v1::UnescoRegion> ParseRegion(absl::string_view what,
                                                    absl::string_view text) {
  return ParseChoice<common_v1::UnescoRegion>(what, text, kRegions);
}

absl::StatusOr<v1::RepresentativeRole> ParseRepresentativeRole(absl::string_view what,
                                                               absl::string_view text) {
  return ParseChoice<v1::RepresentativeRole>(what, text, kRepresentativeRoles);
}

std::string CityName(absl::string_view id_or_name) { return WithCollection("cities", id_or_name); }

std::string ApplicationName(absl::string_view id_or_name) {
  return WithCollection("applications", id_or_name);
}

std::string ApiKeyName(absl::string_view id_or_name) {
  return WithCollection("apiKeys", id_or_name);
}

std::string ResourceId(absl::string_view name) {
  size_t slash = name.rfind('/');
  return std::string(slash == absl::string_view::npos ? name : name.substr(slash + 1));
}

absl::StatusOr<google::protobuf::FieldMask> ParseFieldMask(absl::string_view what,
                                                           absl::string_view fields) {
  google::protobuf::FieldMask mask;
  for (absl::string_view field : absl::StrSplit(fields, ',')) {
    field = absl::StripAsciiWhitespace(field);
    if (field.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what,
                       ": list the fields to change, separated by commas, e.g. "
                       "population,mayor"));
    }
    mask.add_paths(std::string(field));
  }
  return mask;
}

absl::StatusOr<v1::City> ParseCityJson(absl::string_view what, absl::string_view json) {
  v1::City city;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &city, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": not a JSON gnlc.membership.v1.City: ", status.message().as_string()));
  }
  return city;
}

absl::StatusOr<std::string> ReadFile(absl::string_view path) {
  std::ifstream in{std::string(path), std::ios::binary};
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

std::vector<std::string> CommandLineErrors(const std::vector<std::string>& args) {
  std::vector<std::string> errors;
  for (size_t i = 1; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--") break;  // everything after is positional
    if (arg.size() < 2 || arg[0] != '-') continue;
    absl::ConsumePrefix(&arg, "-");
    absl::ConsumePrefix(&arg, "-");
    size_t equals = arg.find('=');
    absl::string_view name = arg.substr(0, equals);
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr && absl::StartsWith(name, "no")) {
      // --noflag sets a boolean flag to false.
      if (auto* negated = absl::FindCommandLineFlag(name.substr(2));
          negated != nullptr && negated->IsOfType<bool>() && equals == absl::string_view::npos) {
        continue;
      }
    }
    if (flag == nullptr) {
      errors.push_back(absl::StrCat("unknown flag --", name));
      continue;
    }
    std::string value;
    if (equals != absl::string_view::npos) {
      value = std::string(arg.substr(equals + 1));
    } else if (flag->IsOfType<bool>()) {
      value = "true";
    } else if (i + 1 < args.size()) {
      value = args[++i];  // "--flag value"
    } else {
      errors.push_back(absl::StrCat("--", name, " needs a value"));
      continue;
    }
    // Sets the flag now; ParseCommandLine sets it again (environment, then command line).
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      errors.push_back(absl::StrCat("--", name, ": ", error));
    }
  }
  return errors;
}

}  // namespace gnlc::cli
