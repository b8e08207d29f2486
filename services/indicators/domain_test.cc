// The catalog as the seeds define it, the row checks, the warnings and the review states.
#include "services/indicators/domain.h"

#include <cmath>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/status.h"

namespace gnlc::indicators {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const Catalog& C() { return Catalog::Builtin(); }

TEST(CatalogTest, HasTheWholeKeyFeaturesTable) {
  const Catalog& c = C();
  ASSERT_EQ(c.dimensions().size(), 3u);
  size_t areas = 0, features = 0;
  for (const Dimension& d : c.dimensions()) {
    areas += d.focus_areas.size();
    for (const auto& fa : d.focus_areas) features += c.FindFocusArea(fa)->features.size();
  }
  EXPECT_EQ(areas, 12u);  // 3 benefits, 6 building blocks, 3 fundamental conditions
  EXPECT_EQ(c.dimensions()[1].focus_areas.size(), 6u);
  EXPECT_EQ(features, 42u);
  EXPECT_EQ(c.measures().size(), 60u);
  EXPECT_NE(c.FindFeature("1.1.1"), nullptr);
  EXPECT_NE(c.FindFeature("3.3.5"), nullptr);
  EXPECT_EQ(c.FindFeature("3.3.6"), nullptr);
  EXPECT_EQ(c.content_hash().size(), 64u);
}

TEST(CatalogTest, MeasuresCarryTheirShapeFromTheSeed) {
  const Catalog& c = C();
  const Measure* literacy = c.FindMeasure("1.1.1a");
  ASSERT_NE(literacy, nullptr);
  EXPECT_EQ(literacy->type, ValueType::kPercent);
  EXPECT_EQ(literacy->disaggregation, Disaggregation::kSex);
  EXPECT_EQ(literacy->source, DataSource::kOfficial);
  EXPECT_EQ(literacy->label.at("zh"), "成人识字率");
  EXPECT_FALSE(literacy->label.at("en").empty());

  // The label the seed lost, restored from the Beijing Declaration: poverty, lower is better.
  const Measure* poverty = c.FindMeasure("1.2.1b");
  ASSERT_NE(poverty, nullptr);
  EXPECT_EQ(poverty->type, ValueType::kPercent);
  EXPECT_EQ(poverty->direction, Direction::kLowerIsBetter);
  EXPECT_THAT(poverty->label.at("zh"), HasSubstr("贫困"));

  EXPECT_EQ(c.FindMeasure("1.1.4a")->direction, Direction::kLowerIsBetter);  // crime
  EXPECT_EQ(c.FindMeasure("2.3.4a")->direction, Direction::kLowerIsBetter);  // NEET
  EXPECT_EQ(c.FindMeasure("1.3.2b")->type, ValueType::kRating);
  EXPECT_EQ(c.FindMeasure("1.3.2b")->scale.size(), 5u);
  EXPECT_EQ(c.FindMeasure("2.5.3a")->disaggregation, Disaggregation::kLevel);
  EXPECT_EQ(c.FindMeasure("2.3.3a")->disaggregation, Disaggregation::kSector);
  EXPECT_EQ(c.FindMeasure("2.4.1a")->disaggregation, Disaggregation::kSetting);
  EXPECT_EQ(c.FindMeasure("3.3.1b")->disaggregation, Disaggregation::kShare);
  EXPECT_EQ(c.FindMeasure("2.2.1a")->type, ValueType::kRate);
}

TEST(CatalogTest, LinksFeaturesToSdgTargetsFromExamplesAndThemes) {
  const Feature* literacy = C().FindFeature("1.1.1");
  ASSERT_NE(literacy, nullptr);
  // Worked example: adult literacy <-> SDG 4.6 / 4.6.1.
  EXPECT_THAT(literacy->sdg_links, Contains(AllOf(Field(&SdgLink::target, "4.6"),
                                                  Field(&SdgLink::indicators, Contains("4.6.1")),
                                                  Field(&SdgLink::basis, "example"))));
  // The equitable-and-inclusive theme lists 1.1.1 and target 10.2.
  EXPECT_THAT(literacy->sdg_links, Contains(AllOf(Field(&SdgLink::target, "10.2"),
                                                  Field(&SdgLink::basis, "equitable_inclusive"))));
  EXPECT_THAT(C().FindFeature("2.3.4")->sdg_links,
              Contains(Field(&SdgLink::indicators, Contains("8.6.1"))));
  EXPECT_THAT(C().FindFeature("1.3.1")->sdg_links,
              Contains(Field(&SdgLink::indicators, Contains("11.6.1"))));
  ASSERT_NE(C().FindSdgIndicator("12.5.1"), nullptr);
  EXPECT_EQ(C().FindSdgIndicator("12.5.1")->target, "12.5");
}

TEST(CatalogTest, HasTheThreeThemesWithTheirGuidingQuestions) {
  ASSERT_EQ(C().themes().size(), 3u);
  for (const Theme& t : C().themes()) {
    size_t questions = 0;
    for (const auto& g : t.question_groups) questions += g.questions.size();
    EXPECT_GT(questions, 10u) << t.code;
    EXPECT_FALSE(t.features.empty()) << t.code;
    EXPECT_FALSE(t.sdg_targets.empty()) << t.code;
  }
}

TEST(CatalogTest, MeasuresUnderANode) {
  EXPECT_THAT(C().MeasuresUnder("2.2.1"), ElementsAre("2.2.1a", "2.2.1b"));
  EXPECT_EQ(C().MeasuresUnder("2.2").size(), 5u);
  EXPECT_THAT(C().MeasuresUnder("1.2.1b"), ElementsAre("1.2.1b"));
  EXPECT_THAT(C().MeasuresUnder("9"), IsEmpty());
  // "1.1" must not pick up "1.1x" lookalikes of other areas, nor "1.10".
  for (const auto& m : C().MeasuresUnder("1.1")) EXPECT_EQ(m.substr(0, 4), "1.1.");
}

TEST(CatalogTest, ParseNamesEveryProblem) {
  auto parsed = Catalog::Parse(R"({"catalog_id": "x", "version": "1",
    "title": {"zh": "t", "en": "t"},
    "dimensions": [{"code": "1", "name": {"zh": "a", "en": "a"}, "focus_areas": [
      {"code": "1.1", "name": {"zh": "b", "en": "b"}, "features": [
        {"code": "1.1.1", "name": {"zh": "c"}, "measures": [
          {"code": "1.1.1a", "label": {"zh": "d", "en": "d"}, "data_source": "guess",
           "value_type": "percent", "disaggregation": "none", "direction": "higher",
           "range": {"min": 0, "max": 140}}]}]}]}],
    "sdg": {"targets": [], "indicators": []}, "sdg_examples": [], "themes": []})");
  ASSERT_FALSE(parsed.ok());
  std::vector<std::string> fields;
  for (const auto& v : FieldViolations(parsed.status())) fields.push_back(v.field);
  EXPECT_THAT(fields, Contains("key feature 1.1.1"));  // name lacks en
  EXPECT_THAT(fields, Contains("measure 1.1.1a"));     // unknown source, percent beyond 100
  EXPECT_GE(FieldViolations(parsed.status()).size(), 3u);
}

ValueWrite Row(std::string measure, std::optional<double> value, std::string category = "",
               int year = 2023) {
  ValueWrite w;
  w.key = {"cn-hangzhou", year, std::move(measure), std::move(category)};
  w.value = value;
  return w;
}

std::vector<std::string> Codes(const std::vector<RowProblem>& problems) {
  std::vector<std::string> out;
  for (const auto& p : problems) out.push_back(p.code);
  return out;
}

TEST(CheckValueWriteTest, AcceptsGoodRows) {
  EXPECT_THAT(CheckValueWrite(C(), Row("1.1.1a", 97.5, "female"), 2025), IsEmpty());
  EXPECT_THAT(CheckValueWrite(C(), Row("1.3.2b", 4), 2025), IsEmpty());
  EXPECT_THAT(CheckValueWrite(C(), Row("2.5.3a", 14.2, "primary"), 2025), IsEmpty());
  EXPECT_THAT(CheckValueWrite(C(), Row("1.2.1a", 52000), 2025), IsEmpty());
  ValueWrite na = Row("1.2.3b", std::nullopt);
  na.flags.not_applicable = true;
  EXPECT_THAT(CheckValueWrite(C(), na, 2025), IsEmpty());
  ValueWrite removal = Row("1.2.3b", std::nullopt);
  removal.remove = true;
  EXPECT_THAT(CheckValueWrite(C(), removal, 2025), IsEmpty());
}

TEST(CheckValueWriteTest, RefusesBadRowsWithACodeEach) {
  EXPECT_THAT(Codes(CheckValueWrite(C(), Row("9.9.9a", 1), 2025)), ElementsAre("UNKNOWN_MEASURE"));
  EXPECT_THAT(Codes(CheckValueWrite(C(), Row("1.1.2a", 140), 2025)), ElementsAre("OUT_OF_RANGE"));
  EXPECT_THAT(Codes(CheckValueWrite(C(), Row("1.3.2b", 6), 2025)), ElementsAre("OUT_OF_RANGE"));
  EXPECT_THAT(Codes(CheckValueWrite(C(), Row("1.3.2b", 2.5), 2025)), ElementsAre("NOT_AN_INTEGER"));
  EXPECT_THAT(Codes(CheckValueWrite(C(), Row("2.2.3a", -3), 2025)), ElementsAre("OUT_OF_RANGE"));
  EXPECT_THAT(Codes(CheckValueWrite(C(), Row("1.1.4a", -1), 2025)), ElementsAre("OUT_OF_RANGE"));
  EXPECT_THAT(Codes(CheckValueWrite(C(), Row("1.1.1a", 90, "girls"), 2025)),
              ElementsAre("BAD_CATEGORY"));
  EXPECT_THAT(Codes(CheckValueWrite(C(), Row("1.1.1a", 90), 2025)), ElementsAre("BAD_CATEGORY"));
  EXPECT_THAT(Codes(CheckValueWrite(C(), Row("1.1.2a", 60, "female"), 2025)),
              ElementsAre("BAD_CATEGORY"));
  EXPECT_THAT(Codes(CheckValueWrite(C(), Row("1.1.2a", 60, "", 3000), 2025)),
              ElementsAre("BAD_YEAR"));
  EXPECT_THAT(Codes(CheckValueWrite(C(), Row("1.1.2a", 60, "", 1989), 2025)),
              ElementsAre("BAD_YEAR"));
  EXPECT_THAT(Codes(CheckValueWrite(C(), Row("1.1.2a", std::nan("")), 2025)),
              ElementsAre("NOT_FINITE"));
  EXPECT_THAT(
      Codes(CheckValueWrite(C(), Row("1.1.2a", std::numeric_limits<double>::infinity()), 2025)),
      ElementsAre("NOT_FINITE"));
  EXPECT_THAT(Codes(CheckValueWrite(C(), Row("1.1.2a", std::nullopt), 2025)),
              ElementsAre("MISSING_VALUE"));
  ValueWrite na_with_number = Row("1.1.2a", 5);
  na_with_number.flags.not_applicable = true;
  EXPECT_THAT(Codes(CheckValueWrite(C(), na_with_number, 2025)),
              ElementsAre("VALUE_NOT_APPLICABLE"));
  // Several problems of one row are all named.
  EXPECT_THAT(Codes(CheckValueWrite(C(), Row("1.3.2b", 7.5, "", 3000), 2025)),
              ElementsAre("BAD_YEAR", "NOT_AN_INTEGER", "OUT_OF_RANGE"));
}

StoredValue Stored(const std::string& measure, const std::string& category, double v) {
  StoredValue s;
  s.key = {"cn-hangzhou", 2023, measure, category};
  s.value = v;
  return s;
}

TEST(WarningsTest, SexSplitInconsistentWithItsTotal) {
  const Measure& m = *C().FindMeasure("1.1.1a");
  EXPECT_THAT(WarningsFor(C(), m, Stored(m.code, "total", 95),
                          {{"male", 96}, {"female", 94}, {"total", 95}}, std::nullopt),
              IsEmpty());
  auto w = WarningsFor(C(), m, Stored(m.code, "total", 99),
                       {{"male", 96}, {"female", 94}, {"total", 99}}, std::nullopt);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].code, "SEX_SPLIT_INCONSISTENT");
  // Incomplete splits are not judged.
  EXPECT_THAT(
      WarningsFor(C(), m, Stored(m.code, "total", 99), {{"male", 96}, {"total", 99}}, std::nullopt),
      IsEmpty());
}

TEST(WarningsTest, JumpAgainstTheCitysOwnHistory) {
  const Measure& percent = *C().FindMeasure("1.1.2a");
  EXPECT_THAT(WarningsFor(C(), percent, Stored(percent.code, "", 60), {}, {{2022, 50}}), IsEmpty());
  auto w = WarningsFor(C(), percent, Stored(percent.code, "", 90), {}, {{2022, 50}});
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].code, "JUMP_AGAINST_HISTORY");
  EXPECT_THAT(w[0].message, HasSubstr("2022"));

  const Measure& gdp = *C().FindMeasure("1.2.1a");
  EXPECT_THAT(WarningsFor(C(), gdp, Stored(gdp.code, "", 30000), {}, {{2021, 25000}}), IsEmpty());
  EXPECT_EQ(WarningsFor(C(), gdp, Stored(gdp.code, "", 60000), {}, {{2021, 25000}}).size(), 1u);
}

TEST(ReviewTest, StatesMoveOnlyAlongTheWorkflow) {
  using S = DatasetState;
  using A = DatasetAction;
  EXPECT_EQ(*NextDatasetState(S::kDraft, A::kSubmit), S::kSubmitted);
  EXPECT_EQ(*NextDatasetState(S::kSubmitted, A::kValidate), S::kValidated);
  EXPECT_EQ(*NextDatasetState(S::kValidated, A::kPublish), S::kPublished);
  EXPECT_EQ(*NextDatasetState(S::kSubmitted, A::kReturn), S::kDraft);
  EXPECT_EQ(*NextDatasetState(S::kValidated, A::kReturn), S::kDraft);
  EXPECT_EQ(*NextDatasetState(S::kPublished, A::kUnpublish), S::kValidated);
  EXPECT_EQ(*NextDatasetState(S::kPublished, A::kOpenRevision), S::kDraft);
  auto refused = NextDatasetState(S::kDraft, A::kPublish);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("draft"));
  EXPECT_FALSE(NextDatasetState(S::kPublished, A::kSubmit).ok());
  EXPECT_FALSE(NextDatasetState(S::kDraft, A::kReturn).ok());
}

TEST(ValueFlagsTest, RoundTripThroughBits) {
  for (int bits = 0; bits < 16; ++bits) EXPECT_EQ(ValueFlags::FromBits(bits).Bits(), bits);
}

}  // namespace
}  // namespace gnlc::indicators
