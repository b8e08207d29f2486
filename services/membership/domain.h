// The membership domain: plain records and the rules of the network's membership (seed 003):
// who may join, the application's state machine, membership status over time. No I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "services/common/status.h"

namespace gnlc::membership {

// A member must have at least this many inhabitants (concept note, section 1).
inline constexpr int64_t kMinimumPopulation = 10000;

// Values match the protos' enums.
enum class CityKind { kUnspecified = 0, kCity, kTown, kVillage, kMunicipality, kCommunity };
enum class MemberStatus { kUnspecified = 0, kNotAMember, kActive, kSuspended, kWithdrawn };
enum class ApplicationState {
  kUnspecified = 0,
  kDraft,
  kSubmitted,
  kEndorsed,
  kDeclined,
  kWithdrawn,
  kRegistered,
};
enum class RepresentativeRole { kUnspecified = 0, kMayor, kFocalPoint, kOther };
enum class EventKind {
  kUnspecified = 0,
  kCityCreated,
  kCityUpdated,
  kApplicationCreated,
  kApplicationUpdated,
  kApplicationSubmitted,
  kApplicationEndorsed,
  kApplicationReturned,
  kApplicationDeclined,
  kApplicationWithdrawn,
  kMemberRegistered,
  kMemberSuspended,
  kMemberReinstated,
  kMemberWithdrawn,
  kRepresentativeAdded,
  kRepresentativeRemoved,
  kContributionRecorded,
};

struct Contact {
  std::string name, email, phone, address;
};

struct MemberStatusChange {
  MemberStatus status = MemberStatus::kUnspecified;
  std::string change;  // "registered", "suspended", "reinstated", "withdrawn"
  std::string reason;
  std::string actor;
  int64_t time_us = 0;
};

struct City {
  std::string id;
  std::map<std::string, std::string> names;  // BCP 47 language -> name
  std::string country;                       // ISO 3166-1 alpha-2
  CityKind kind = CityKind::kUnspecified;
  int64_t population = 0;
  int32_t population_year = 0;
  std::string governing_body;
  bool governing_body_elected = false;
  std::string mayor;
  Contact contact;
  std::string website;
  MemberStatus member_status = MemberStatus::kNotAMember;
  int64_t member_since_us = 0;
  std::string member_application;  // application id
  std::vector<MemberStatusChange> status_history;
  int64_t revision = 0;
  int64_t create_time_us = 0;
  int64_t update_time_us = 0;

  // Registered members (active or suspended) are public; others are visible only to those
  // who act on the city.
  bool published() const {
    return member_status == MemberStatus::kActive || member_status == MemberStatus::kSuspended;
  }
  // Only an active member may compete for the UNESCO Learning City Award.
  bool award_eligible() const { return member_status == MemberStatus::kActive; }
};

struct MayorSignature {
  std::string signatory;
  std::optional<absl::CivilDay> signed_on;
  bool seal_affixed = false;
  std::optional<absl::CivilDay> beijing_declaration_adopted_on;
  std::optional<absl::CivilDay> key_features_adopted_on;
};

struct ApplicationTransition {
  ApplicationState from = ApplicationState::kUnspecified;
  ApplicationState to = ApplicationState::kUnspecified;
  std::string action;
  std::string actor;
  std::string comment;
  int64_t time_us = 0;
};

struct Application {
  std::string id;
  std::string city_id;
  std::string country;
  ApplicationState state = ApplicationState::kDraft;
  std::string motivation;
  Contact contact;
  MayorSignature signature;
  std::string commission_reference;
  std::vector<ApplicationTransition> history;
  int64_t revision = 0;
  int64_t create_time_us = 0;
  int64_t update_time_us = 0;
};

struct MayorApproval {
  std::string approved_by;
  std::optional<absl::CivilDay> approved_on;
  std::string document_reference;
};

struct Representative {
  std::string id;
  std::string city_id;
  RepresentativeRole role = RepresentativeRole::kUnspecified;
  std::string full_name, title, email, phone;
  MayorApproval approval;
  int64_t add_time_us = 0;
  std::string added_by;
  int64_t remove_time_us = 0;
  std::string removed_by, remove_reason;
};

struct Contribution {
  std::string id;
  std::string city_id;
  std::string currency;
  std::string amount;  // decimal text, e.g. "1500.00"
  std::optional<absl::CivilDay> received_on;
  std::string note;
  std::string recorded_by;
  int64_t create_time_us = 0;
};

struct Event {
  int64_t seq = 0;
  EventKind kind = EventKind::kUnspecified;
  std::string city_id;
  std::string country;
  std::string resource;  // "applications/x", "cities/c/representatives/r", ...
  MemberStatus member_status = MemberStatus::kUnspecified;
  std::string actor;
  std::string comment;
  bool published = false;
  int64_t time_us = 0;
};

// --- Rules -----------------------------------------------------------------------------

// Checks a city's own fields (not its membership), adding every violation under `prefix`
// ("city."). `today` bounds the population year.
void ValidateCityFields(const City& city, absl::CivilDay today, FieldErrors& errors,
                        absl::string_view prefix = "city.");

// A city id from its country and English name: "CN" + "Hangzhou" -> "cn-hangzhou",
// "CO" + "Medellín" -> "co-medellin"; "" when the name has no Latin letters or digits.
std::string DeriveCityId(absl::string_view country, absl::string_view english_name);
// True for 2-63 lower-case letters, digits and hyphens starting with a letter.
bool IsValidCityId(absl::string_view id);

// Checks the mayor's signature fields of a submission, naming each bad field.
void ValidateSignature(const MayorSignature& signature, absl::CivilDay today, FieldErrors& errors,
                       absl::string_view prefix = "mayor_signature.");

// The membership requirements of the concept note, checked when an application is submitted:
// at least 10,000 inhabitants, an elected governing body, both founding documents adopted by
// the mayor, the application signed and sealed, a known country. Returns every unmet one.
std::vector<PreconditionViolation> EligibilityViolations(const City& city,
                                                         const MayorSignature& signature);

// What an actor may do to an application, as the state machine allows it.
enum class ApplicationAction {
  kUpdate,
  kSubmit,
  kEndorse,
  kReturn,
  kDecline,
  kWithdraw,
  kRegister
};

// The state an application moves to, or FAILED_PRECONDITION naming the state and what is
// allowed from it.
absl::StatusOr<ApplicationState> NextState(ApplicationState from, ApplicationAction action);

// Member status changes: suspend (active -> suspended), reinstate (suspended -> active),
// withdraw (active or suspended -> withdrawn).
enum class MemberAction { kSuspend, kReinstate, kWithdraw };
absl::StatusOr<MemberStatus> NextMemberStatus(MemberStatus from, MemberAction action);

// Names used in messages and history ("draft", "submitted", ...).
absl::string_view StateName(ApplicationState state);
absl::string_view ActionName(ApplicationAction action);
// The word an application's history records for an action ("submitted", "returned"...).
absl::string_view RecordedActionName(ApplicationAction action);
// The change-log event an action emits.
EventKind EventKindFor(ApplicationAction action);
absl::string_view MemberStatusName(MemberStatus status);
absl::string_view MemberActionName(MemberAction action);

// "2015-09-30"; parsing accepts only that form.
std::string FormatDay(const std::optional<absl::CivilDay>& day);
std::optional<absl::CivilDay> ParseDay(absl::string_view text);

// Latin letters with accents to ASCII ("Medellín" -> "Medellin", "Kraków" -> "Krakow",
// "Straße" -> "Strasse"); other text (Chinese, Arabic...) unchanged.
std::string FoldLatinToAscii(absl::string_view text);
// What name search compares: Latin letters folded to ASCII, then ASCII lower case, so that
// "medellin" finds "Medellín" and "杭" finds "杭州".
std::string FoldForSearch(absl::string_view text);

}  // namespace gnlc::membership
