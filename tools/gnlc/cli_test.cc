// The parts of the CLI that need no server: reading what users type and what gets printed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "absl/flags/flag.h"
#include "services/common/status.h"
#include "tools/gnlc/arguments.h"
#include "tools/gnlc/csv.h"
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

std::vector<std::vector<std::string>> ReadAll(const std::string& text,
                                              std::vector<int64_t>* lines = nullptr) {
  std::istringstream in(text);
  CsvReader reader(in);
  std::vector<std::vector<std::string>> out;
  for (;;) {
    auto record = reader.Next();
    EXPECT_TRUE(record.ok()) << record.status();
    if (!record.ok() || !*record) break;
    out.push_back(**record);
    if (lines) lines->push_back(reader.line());
  }
  return out;
}

TEST(CsvReader, ReadsQuotedFieldsAcrossLinesAndCountsLines) {
  std::vector<int64_t> lines;
  auto records =
      ReadAll("a,b,c\r\n\"Bureau, Statistics\",\"say \"\"hi\"\"\",\"two\nlines\"\nx,,\n", &lines);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_THAT(records[0], ElementsAre("a", "b", "c"));  // CR of CRLF dropped
  EXPECT_THAT(records[1], ElementsAre("Bureau, Statistics", "say \"hi\"", "two\nlines"));
  EXPECT_THAT(records[2], ElementsAre("x", "", ""));
  EXPECT_THAT(lines, ElementsAre(1, 2, 4));  // the quoted line break counts
}

TEST(CsvReader, RefusesAnUnclosedQuote) {
  std::istringstream in("a,\"never closed\n");
  CsvReader reader(in);
  auto record = reader.Next();
  ASSERT_FALSE(record.ok());
  EXPECT_THAT(std::string(record.status().message()), HasSubstr("line 1"));
}

TEST(ValueCsv, HeaderNamesMissingAndUnknownColumns) {
  auto columns = ValueColumnsOf({"city_id", "year", "measure", "value", "colour"});
  ASSERT_FALSE(columns.ok());
  EXPECT_THAT(std::string(columns.status().message()),
              AllOf(HasSubstr("lacks category"), HasSubstr("unknown columns colour")));
  EXPECT_TRUE(ValueColumnsOf({"\xEF\xBB\xBF"
                              "city_id",
                              "Year", "measure", "category", "value"})
                  .ok());
}

TEST(ValueCsv, RowsBecomeValuesAndExportsReadBack) {
  auto columns = ValueColumnsOf(
      {"city_id", "year", "measure", "category", "value", "flags", "source", "comment"});
  ASSERT_TRUE(columns.ok());
  auto row = ValueFromCsv(*columns, {"cn-hangzhou", "2023", "1.1.1a", "female", "97.25",
                                     "estimate;confidential", "Bureau, Statistics", "ok"});
  ASSERT_TRUE(row.ok()) << row.status();
  EXPECT_EQ(row->year(), 2023);
  EXPECT_EQ(row->value(), 97.25);
  EXPECT_TRUE(row->flags().estimate());
  EXPECT_TRUE(row->flags().confidential());
  EXPECT_FALSE(row->flags().provisional());

  auto na = ValueFromCsv(*columns, {"cn-hangzhou", "2023", "1.2.3b", "", "", "not_applicable"});
  ASSERT_TRUE(na.ok());
  EXPECT_FALSE(na->has_value());
  EXPECT_TRUE(na->flags().not_applicable());

  auto bad = ValueFromCsv(*columns, {"cn-hangzhou", "20x3", "1.1.2a", "", "lots", "maybe"});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(
      std::string(bad.status().message()),
      AllOf(HasSubstr("year '20x3'"), HasSubstr("value 'lots'"), HasSubstr("flag 'maybe'")));

  // An exported value reads back as the same row, every digit kept.
  gnlc::indicators::v1::Value v;
  v.set_dataset("cities/cn-hangzhou/datasets/2023");
  v.set_measure("1.2.1a");
  v.set_value(27600.123456789);
  v.mutable_flags()->set_provisional(true);
  v.set_source("Bureau, \"Statistics\"");
  auto records = ReadAll(ValueCsvHeader() + ValueToCsv(v));
  ASSERT_EQ(records.size(), 2u);
  auto header = ValueColumnsOf(records[0]);
  ASSERT_TRUE(header.ok()) << header.status();
  auto back = ValueFromCsv(*header, records[1]);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->city_id(), "cn-hangzhou");
  EXPECT_EQ(back->year(), 2023);
  EXPECT_EQ(back->value(), 27600.123456789);
  EXPECT_TRUE(back->flags().provisional());
  EXPECT_EQ(back->source(), "Bureau, \"Statistics\"");
}

}  // namespace
}  // namespace gnlc::cli
