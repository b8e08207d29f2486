// The parts of the CLI that need no server: reading what users type and what gets printed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/flags/flag.h"
#include "services/common/status.h"
#include "tools/gnlc/arguments.h"
#include "tools/gnlc/flags.h"
#include "tools/gnlc/format.h"

namespace gnlc::cli {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(ParseDate, ReadsIsoDay) {
  auto date = ParseDate("--signed_on", "2024-03-01");
  ASSERT_TRUE(date.ok()) << date.status();
  EXPECT_EQ(date->year(), 2024);
  EXPECT_EQ(date->month(), 3);
  EXPECT_EQ(date->day(), 1);
}

TEST(ParseDate, RefusesMalformedAndImpossibleDays) {
  for (const char* text : {"2024-3-01", "01/03/2024", "2024-03-01T00:00", "", "2023-02-29",
                           "2024-13-01", "yesterday"}) {
    auto date = ParseDate("--signed_on", text);
    EXPECT_FALSE(date.ok()) << text;
    EXPECT_EQ(date.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(date.status().message(), HasSubstr("--signed_on")) << text;
  }
  EXPECT_TRUE(ParseDate("--signed_on", "2024-02-29").ok());  // a leap day
}

TEST(ParseApplicationState, AcceptsUserWordsAndEnumNames) {
  EXPECT_EQ(*ParseApplicationState("--state", "withdrawn"), v1::WITHDRAWN_BY_CITY);
  EXPECT_EQ(*ParseApplicationState("--state", "WITHDRAWN_BY_CITY"), v1::WITHDRAWN_BY_CITY);
  EXPECT_EQ(*ParseApplicationState("--state", "Endorsed"), v1::ENDORSED);
  EXPECT_EQ(*ParseApplicationState("--state", "draft"), v1::DRAFT);
}

TEST(ParseApplicationState, RefusesUnknownAndUnspecifiedNamingTheChoices) {
  auto state = ParseApplicationState("--state", "approved");
  ASSERT_FALSE(state.ok());
  EXPECT_THAT(state.status().message(),
              HasSubstr("draft, submitted, endorsed, declined, withdrawn, registered"));
  EXPECT_FALSE(ParseApplicationState("--state", "application_state_unspecified").ok());
  EXPECT_FALSE(ParseApplicationState("--state", "").ok());
}

TEST(ParseApplicationState, ReadsBackEveryLabelItPrints) {
  for (auto state : {v1::DRAFT, v1::SUBMITTED, v1::ENDORSED, v1::DECLINED, v1::WITHDRAWN_BY_CITY,
                     v1::REGISTERED}) {
    auto parsed = ParseApplicationState("--state", ApplicationStateLabel(state));
    ASSERT_TRUE(parsed.ok()) << ApplicationStateLabel(state);
    EXPECT_EQ(*parsed, state);
  }
}

TEST(ParseEnums, OtherEnumsTakeHyphensAndEnumNames) {
  EXPECT_EQ(*ParseRegion("--region", "asia-pacific"), common_v1::ASIA_AND_THE_PACIFIC);
  EXPECT_EQ(*ParseRegion("--region", "europe_and_north_america"),
            common_v1::EUROPE_AND_NORTH_AMERICA);
  EXPECT_FALSE(ParseRegion("--region", "europe").ok());
  EXPECT_EQ(*ParseMemberStatus("--status", "not-a-member"), v1::NOT_A_MEMBER);
  EXPECT_EQ(*ParseMemberStatus("--status", "active"), v1::ACTIVE);
  EXPECT_EQ(*ParseCityKind("--kind", "Municipality"), v1::MUNICIPALITY);
  EXPECT_EQ(*ParseRepresentativeRole("--role", "focal-point"), v1::FOCAL_POINT);
  EXPECT_EQ(*ParseRepresentativeRole("--role", "other"), v1::OTHER_REPRESENTATIVE);
  EXPECT_FALSE(ParseRepresentativeRole("--role", "deputy").ok());
}

TEST(ResourceNames, AcceptIdsAndFullNames) {
  EXPECT_EQ(CityName("cn-hangzhou"), "cities/cn-hangzhou");
  EXPECT_EQ(CityName("cities/cn-hangzhou"), "cities/cn-hangzhou");
  EXPECT_EQ(ApplicationName("app-1"), "applications/app-1");
  EXPECT_EQ(ApplicationName("applications/app-1"), "applications/app-1");
  EXPECT_EQ(ApiKeyName("k1"), "apiKeys/k1");
  EXPECT_EQ(ResourceId("cities/cn-hangzhou"), "cn-hangzhou");
  EXPECT_EQ(ResourceId("cn-hangzhou"), "cn-hangzhou");
}

TEST(ParseFieldMask, SplitsAndTrims) {
  auto mask = ParseFieldMask("--fields", "population, mayor");
  ASSERT_TRUE(mask.ok());
  EXPECT_THAT(mask->paths(), ElementsAre("population", "mayor"));
  EXPECT_FALSE(ParseFieldMask("--fields", "").ok());
  EXPECT_FALSE(ParseFieldMask("--fields", "population,,mayor").ok());
}

TEST(ParseCityJson, ReadsBothFieldSpellingsAndRefusesUnknownFields) {
  auto city = ParseCityJson("--file", R"({"display_names": [{"language": "zh", "text": "杭州"}],
      "countryCode": "CN", "kind": "CITY", "population": "12524000"})");
  ASSERT_TRUE(city.ok()) << city.status();
  EXPECT_EQ(city->display_names(0).text(), "杭州");
  EXPECT_EQ(city->country_code(), "CN");
  EXPECT_EQ(city->kind(), v1::CITY);
  EXPECT_EQ(city->population(), 12524000);
  auto typo = ParseCityJson("--file", R"({"populaton": 1})");
  ASSERT_FALSE(typo.ok());
  EXPECT_THAT(typo.status().message(), HasSubstr("--file"));
}

TEST(CommandLineErrors, NamesUnknownFlagsAndBadValues) {
  (void)absl::GetFlag(FLAGS_country);  // links the CLI's flags into this test
  EXPECT_THAT(CommandLineErrors({"gnlc", "--country=FR", "--bogus", "-all", "--noall", "--json",
                                 "cities", "list", "--", "--after_the_end"}),
              ElementsAre("unknown flag --bogus"));
  EXPECT_TRUE(CommandLineErrors({"gnlc", "cities", "list", "--page_size", "20"}).empty());
  auto errors = CommandLineErrors({"gnlc", "--page_size=abc", "--timeout=soon", "--nocountry"});
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_THAT(errors[0], AllOf(StartsWith("--page_size: "), HasSubstr("'abc'")));
  EXPECT_THAT(errors[1], AllOf(StartsWith("--timeout: "), HasSubstr("'soon'")));
  EXPECT_EQ(errors[2], "unknown flag --nocountry");  // only booleans have a --no form
  EXPECT_THAT(CommandLineErrors({"gnlc", "cities", "list", "--page_size"}),
              ElementsAre("--page_size needs a value"));
}

TEST(DisplayWidth, CountsWideCharactersTwice) {
  EXPECT_EQ(DisplayWidth("Hangzhou"), 8u);
  EXPECT_EQ(DisplayWidth("杭州"), 4u);
  EXPECT_EQ(DisplayWidth("Medellín"), 8u);
  EXPECT_EQ(DisplayWidth("e\xcc\x81"), 1u);  // e + combining acute accent
  EXPECT_EQ(DisplayWidth(""), 0u);
}

TEST(Table, AlignsColumnsByDisplayWidth) {
  Table table({"CITY", "NAME", "STATUS"});
  table.AddRow({"cn-hangzhou", "Hangzhou / 杭州", "active"});
  table.AddRow({"ie-cork", "Cork", ""});
  EXPECT_EQ(table.Render(),
            "CITY         NAME             STATUS\n"
            "cn-hangzhou  Hangzhou / 杭州  active\n"
            "ie-cork      Cork\n");
}

TEST(FormatDetails, AlignsValuesAndSkipsEmptyOnes) {
  EXPECT_EQ(FormatDetails({{"City", "cities/ie-cork"}, {"Website", ""}, {"Population", "1"}}),
            "City:        cities/ie-cork\n"
            "Population:  1\n");
}

TEST(Formatting, NumbersDatesAndTimes) {
  EXPECT_EQ(FormatCount(12524000), "12,524,000");
  EXPECT_EQ(FormatCount(224004), "224,004");
  EXPECT_EQ(FormatCount(999), "999");
  EXPECT_EQ(FormatCount(1000), "1,000");
  common_v1::Date date;
  EXPECT_EQ(FormatDate(date), "");
  date.set_year(2024);
  date.set_month(3);
  date.set_day(1);
  EXPECT_EQ(FormatDate(date), "2024-03-01");
  google::protobuf::Timestamp time;
  EXPECT_EQ(FormatTimestamp(time), "");
  time.set_seconds(1709285400);  // 2024-03-01 09:30:00 UTC
  EXPECT_EQ(FormatTimestamp(time), "2024-03-01T09:30:00Z");
  common_v1::Money money;
  money.set_amount("1500.00");
  money.set_currency_code("EUR");
  EXPECT_EQ(FormatMoney(money), "1500.00 EUR");
}

TEST(Labels, ReadLikeWords) {
  EXPECT_EQ(MemberStatusLabel(v1::NOT_A_MEMBER), "not a member");
  EXPECT_EQ(ApplicationStateLabel(v1::WITHDRAWN_BY_CITY), "withdrawn");
  EXPECT_EQ(ApplicationStateLabel(v1::APPLICATION_STATE_UNSPECIFIED), "");
  EXPECT_EQ(RegionLabel(common_v1::ARAB_STATES), "Arab States");
  EXPECT_EQ(EventKindLabel(v1::APPLICATION_ENDORSED), "application endorsed");
  EXPECT_EQ(RepresentativeRoleLabel(v1::OTHER_REPRESENTATIVE), "other");
  v1::City city;
  auto* en = city.add_display_names();
  en->set_language("en");
  en->set_text("Hangzhou");
  EXPECT_EQ(CityLabel(city), "Hangzhou");
  auto* zh = city.add_display_names();
  zh->set_language("zh");
  zh->set_text("杭州");
  EXPECT_EQ(CityLabel(city), "Hangzhou / 杭州");
}

TEST(ToJson, UsesProtoFieldNamesAndLeavesOutDefaults) {
  v1::City city;
  city.set_city_id("cn-hangzhou");
  city.set_country_code("CN");
  std::string json = ToJson(city, /*one_line=*/true);
  EXPECT_EQ(json, "{\"city_id\":\"cn-hangzhou\",\"country_code\":\"CN\"}\n");
  EXPECT_THAT(ToJson(city), HasSubstr("\"city_id\": \"cn-hangzhou\""));
}

TEST(FormatError, ListsFieldViolationsOncePerLine) {
  absl::Status status = InvalidArgumentError(
      {{"city.population", "must be a positive number"}, {"city.mayor", "is required"}});
  EXPECT_EQ(FormatError(status),
            "error: INVALID_ARGUMENT: invalid request\n"
            "  - city.population: must be a positive number\n"
            "  - city.mayor: is required\n");
}

TEST(FormatError, ListsPreconditionViolations) {
  absl::Status status =
      PreconditionError("NOT_ELIGIBLE", "the city is not eligible",
                        {{"ELIGIBILITY", "city.population", "the city has 9000 inhabitants"}});
  EXPECT_EQ(FormatError(status),
            "error: FAILED_PRECONDITION: the city is not eligible\n"
            "  - city.population: the city has 9000 inhabitants\n");
}

TEST(FormatError, PrintsPlainErrorsAsTheyCame) {
  EXPECT_EQ(FormatError(absl::FailedPreconditionError(
                "cannot endorse an application that is draft; allowed now: submit, withdraw")),
            "error: FAILED_PRECONDITION: cannot endorse an application that is draft; allowed "
            "now: submit, withdraw\n");
  EXPECT_EQ(FormatError(absl::UnavailableError("failed to connect")),
            "error: UNAVAILABLE: failed to connect\n");
}

}  // namespace
}  // namespace gnlc::cli
