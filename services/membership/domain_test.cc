#include "services/membership/domain.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gnlc::membership {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;

const absl::CivilDay kToday(2026, 11, 22);

City EligibleCity() {
  City c;
  c.id = "ie-cork";
  c.names = {{"en", "Cork"}, {"ga", "Corcaigh"}};
  c.country = "IE";
  c.kind = CityKind::kCity;
  c.population = 224000;
  c.population_year = 2022;
  c.governing_body = "Cork City Council";
  c.governing_body_elected = true;
  c.mayor = "Lord Mayor of Cork";
  return c;
}

MayorSignature CompleteSignature() {
  MayorSignature s;
  s.signatory = "Lord Mayor of Cork";
  s.signed_on = absl::CivilDay(2024, 3, 1);
  s.seal_affixed = true;
  s.beijing_declaration_adopted_on = absl::CivilDay(2024, 2, 1);
  s.key_features_adopted_on = absl::CivilDay(2024, 2, 1);
  return s;
}

std::vector<std::string> Subjects(const std::vector<PreconditionViolation>& v) {
  std::vector<std::string> out;
  for (const auto& x : v) out.push_back(x.subject);
  return out;
}

TEST(Eligibility, AnEligibleCityPasses) {
  EXPECT_THAT(EligibilityViolations(EligibleCity(), CompleteSignature()), IsEmpty());
}

TEST(Eligibility, TenThousandInhabitantsIsTheFloor) {
  City c = EligibleCity();
  c.population = kMinimumPopulation;
  EXPECT_THAT(EligibilityViolations(c, CompleteSignature()), IsEmpty());
  c.population = kMinimumPopulation - 1;
  EXPECT_THAT(Subjects(EligibilityViolations(c, CompleteSignature())),
              ElementsAre("city.population"));
}

TEST(Eligibility, EveryUnmetRequirementIsNamed) {
  City c = EligibleCity();
  c.population = 5000;
  c.governing_body_elected = false;
  c.country = "XX";
  MayorSignature s;  // nothing signed, sealed or adopted
  EXPECT_THAT(Subjects(EligibilityViolations(c, s)),
              ElementsAre("city.population", "city.governing_body.elected",
                          "mayor_signature.beijing_declaration_adopted_on",
                          "mayor_signature.key_features_adopted_on", "mayor_signature.signatory",
                          "mayor_signature.seal_affixed", "city.country_code"));
}

TEST(StateMachine, TheWholeTable) {
  using S = ApplicationState;
  using A = ApplicationAction;
  struct Case {
    S from;
    A action;
    std::optional<S> to;
  };
  const Case kCases[] = {
      {S::kDraft, A::kUpdate, S::kDraft},
      {S::kDraft, A::kSubmit, S::kSubmitted},
      {S::kDraft, A::kWithdraw, S::kWithdrawn},
      {S::kDraft, A::kEndorse, std::nullopt},
      {S::kDraft, A::kRegister, std::nullopt},
      {S::kSubmitted, A::kEndorse, S::kEndorsed},
      {S::kSubmitted, A::kReturn, S::kDraft},
      {S::kSubmitted, A::kDecline, S::kDeclined},
      {S::kSubmitted, A::kWithdraw, S::kWithdrawn},
      {S::kSubmitted, A::kUpdate, std::nullopt},
      {S::kSubmitted, A::kRegister, std::nullopt},
      {S::kEndorsed, A::kRegister, S::kRegistered},
      // Withdrawal is possible only before the National Commission decides.
      {S::kEndorsed, A::kWithdraw, std::nullopt},
      {S::kEndorsed, A::kReturn, std::nullopt},
      {S::kDeclined, A::kSubmit, std::nullopt},
      {S::kWithdrawn, A::kSubmit, std::nullopt},
      {S::kRegistered, A::kWithdraw, std::nullopt},
  };
  for (const Case& c : kCases) {
    auto next = NextState(c.from, c.action);
    if (c.to) {
      ASSERT_TRUE(next.ok()) << StateName(c.from) << " " << ActionName(c.action);
      EXPECT_EQ(*next, *c.to);
    } else {
      EXPECT_EQ(next.status().code(), absl::StatusCode::kFailedPrecondition)
          << StateName(c.from) << " " << ActionName(c.action);
    }
  }
}

TEST(StateMachine, RefusalSaysWhatIsAllowed) {
  auto next = NextState(ApplicationState::kSubmitted, ApplicationAction::kRegister);
  EXPECT_THAT(std::string(next.status().message()),
              ::testing::HasSubstr("allowed now: endorse, return, decline, withdraw"));
}

TEST(MemberStatus, SuspendReinstateWithdraw) {
  using M = MemberStatus;
  EXPECT_EQ(*NextMemberStatus(M::kActive, MemberAction::kSuspend), M::kSuspended);
  EXPECT_EQ(*NextMemberStatus(M::kSuspended, MemberAction::kReinstate), M::kActive);
  EXPECT_EQ(*NextMemberStatus(M::kActive, MemberAction::kWithdraw), M::kWithdrawn);
  EXPECT_EQ(*NextMemberStatus(M::kSuspended, MemberAction::kWithdraw), M::kWithdrawn);
  EXPECT_FALSE(NextMemberStatus(M::kNotAMember, MemberAction::kSuspend).ok());
  EXPECT_FALSE(NextMemberStatus(M::kActive, MemberAction::kReinstate).ok());
  EXPECT_FALSE(NextMemberStatus(M::kWithdrawn, MemberAction::kReinstate).ok());
}

TEST(City, OnlyActiveMembersMayCompeteForTheAward) {
  City c = EligibleCity();
  c.member_status = MemberStatus::kActive;
  EXPECT_TRUE(c.award_eligible());
  EXPECT_TRUE(c.published());
  c.member_status = MemberStatus::kSuspended;
  EXPECT_FALSE(c.award_eligible());
  EXPECT_TRUE(c.published());
  c.member_status = MemberStatus::kNotAMember;
  EXPECT_FALSE(c.published());
}

TEST(ValidateCityFields, NamesEveryBadField) {
  City c;
  c.names = {{"zh", "坏"}, {"Not A Tag", "x"}};
  c.country = "XX";
  c.population = -1;
  c.population_year = 2030;
  c.contact.email = "nobody";
  c.website = "ftp://x";
  FieldErrors errors;
  ValidateCityFields(c, kToday, errors);
  std::vector<std::string> fields;
  for (const auto& v : errors.violations()) fields.push_back(v.field);
  for (const char* f : {"city.display_names", "city.country_code", "city.kind", "city.population",
                        "city.population_year", "city.governing_body.name", "city.mayor",
                        "city.contact.email", "city.website"}) {
    EXPECT_THAT(fields, Contains(f));
  }
  FieldErrors none;
  ValidateCityFields(EligibleCity(), kToday, none);
  EXPECT_TRUE(none.empty());
}

TEST(ValidateSignature, DatesMustBeBetweenBeijing2013AndToday) {
  MayorSignature s = CompleteSignature();
  s.signed_on = absl::CivilDay(2027, 1, 1);
  s.key_features_adopted_on = absl::CivilDay(2012, 1, 1);
  FieldErrors errors;
  ValidateSignature(s, kToday, errors);
  EXPECT_THAT(
      errors.violations(),
      ElementsAre(Field(&FieldViolation::field, "mayor_signature.signed_on"),
                  Field(&FieldViolation::field, "mayor_signature.key_features_adopted_on")));
}

TEST(CityId, DerivedFromCountryAndEnglishName) {
  EXPECT_EQ(DeriveCityId("CN", "Hangzhou"), "cn-hangzhou");
  EXPECT_EQ(DeriveCityId("CO", "Santiago de Cali"), "co-santiago-de-cali");
  EXPECT_EQ(DeriveCityId("FR", "  Saint-Étienne!"), "fr-saint-etienne");
  EXPECT_EQ(DeriveCityId("CO", "Medellín"), "co-medellin");
  EXPECT_EQ(DeriveCityId("PL", "Kraków"), "pl-krakow");
  EXPECT_EQ(DeriveCityId("CN", "杭州"), "");  // nothing to derive from: the caller must choose
  EXPECT_FALSE(IsValidCityId("Bad Id"));
}

TEST(Folding, LatinLettersLoseTheirAccentsOtherScriptsStay) {
  EXPECT_EQ(FoldLatinToAscii("Medellín, Kraków, Łódź, Straße, Ærøskøbing"),
            "Medellin, Krakow, Lodz, Strasse, AEroskobing");
  EXPECT_EQ(FoldLatinToAscii("杭州 القاهرة"), "杭州 القاهرة");
  EXPECT_EQ(FoldForSearch("MEDELLÍN"), "medellin");
}

TEST(Days, ParseOnlyIsoDates) {
  EXPECT_EQ(FormatDay(ParseDay("2024-02-29")), "2024-02-29");
  EXPECT_FALSE(ParseDay("2023-02-29"));  // normalised away: not a date
  EXPECT_FALSE(ParseDay("2024-2-1"));
  EXPECT_FALSE(ParseDay(""));
}

}  // namespace
}  // namespace gnlc::membership
