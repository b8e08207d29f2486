// Scores against hand-computed examples: both directions, the log transform, ratings, the
// band, sex splits, parts, coverage, carry-forward and the index.
#include "services/scoring/scores.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/status.h"

namespace gnlc::scoring {
namespace {

using indicators::CategoriesOf;
using indicators::Direction;
using indicators::Measure;
using indicators::ValueType;
using ::testing::DoubleNear;
using ::testing::HasSubstr;

const Catalog& C() { return Catalog::Builtin(); }

// A methodology whose goalposts are each measure's range (reversed when lower is better),
// with GDP on a log scale and the pupil-teacher ratio on a band: easy to compute by hand.
std::string TestMethodologyJson(const std::string& index_aggregation = "geometric") {
  nlohmann::json doc = {
      {"methodology_id", "test-v1"},
      {"catalog_id", C().id()},
      {"aggregation",
       {{"feature", "arithmetic"},
        {"focus_area", "arithmetic"},
        {"dimension", "arithmetic"},
        {"index", index_aggregation}}},
      {"coverage", {{"node_min_share", 0.6667}, {"index_min_measure_share", 0.8}}},
      {"carry_forward_years", 2}};
  nlohmann::json measures = nlohmann::json::array();
  for (const Measure& m : C().measures()) {
    nlohmann::json e = {{"code", m.code}, {"reason", "the measure's range"}};
    if (m.code == "1.2.1a") {
      e.update({{"worst", 1000}, {"best", 75000}, {"transform", "log"}});
    } else if (m.code == "2.5.3a") {
      e["band"] = {{"best_low", 10}, {"best_high", 20}, {"worst_low", 3}, {"worst_high", 45}};
    } else if (m.direction == Direction::kLowerIsBetter) {
      e.update({{"worst", m.max}, {"best", m.min}});
    } else {
      e.update({{"worst", m.min}, {"best", m.max}});
    }
    measures.push_back(e);
  }
  doc["measures"] = measures;
  return doc.dump();
}

const Methodology& M() {
  static const Methodology* m = [] {
    auto parsed = Methodology::Parse(TestMethodologyJson(), C());
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    return new Methodology(*parsed);
  }();
  return *m;
}

double Score(const std::string& measure, std::map<std::string, double> parts, int year = 2023) {
  CityValues values;
  values[year][measure] = std::move(parts);
  ScoreTree tree = ComputeScores(C(), M(), values, year);
  const auto& node = tree.nodes.at(measure);
  return node.score.value_or(-1);
}

TEST(ScoreValueTest, HandComputedExamplesInBothDirections) {
  EXPECT_DOUBLE_EQ(Score("1.1.2a", {{"", 61}}), 61);      // higher is better, 0..100
  EXPECT_DOUBLE_EQ(Score("1.2.2a", {{"total", 4}}), 96);  // unemployment: lower is better
  EXPECT_DOUBLE_EQ(Score("1.2.2a", {{"total", 0}}), 100);
  // GDP per capita on a log scale: ln(27600/1000) / ln(75000/1000).
  EXPECT_THAT(Score("1.2.1a", {{"", 27600}}),
              DoubleNear(100 * std::log(27.6) / std::log(75), 1e-9));
  EXPECT_DOUBLE_EQ(Score("1.2.1a", {{"", 500}}), 0);  // below the worst goalpost: clipped
  EXPECT_DOUBLE_EQ(Score("1.2.1a", {{"", 90000}}), 100);
}

TEST(ScoreValueTest, RatingsMapToQuarters) {
  for (int rating = 1; rating <= 5; ++rating) {
    EXPECT_DOUBLE_EQ(Score("1.3.2b", {{"", double(rating)}}), 25.0 * (rating - 1));
  }
}

TEST(ScoreValueTest, PupilTeacherRatioIsBestInsideItsBand) {
  // Each level scored on the band, then averaged.
  EXPECT_DOUBLE_EQ(Score("2.5.3a", {{"primary", 15}}), 100);
  EXPECT_THAT(Score("2.5.3a", {{"primary", 5}}), DoubleNear(100.0 * 2 / 7, 1e-9));  // too few
  EXPECT_DOUBLE_EQ(Score("2.5.3a", {{"primary", 30}}), 60);  // (45 - 30) / (45 - 20)
  EXPECT_DOUBLE_EQ(Score("2.5.3a", {{"primary", 50}}), 0);
  EXPECT_DOUBLE_EQ(Score("2.5.3a", {{"primary", 15}, {"secondary", 30}}), 80);
}

TEST(ScoreValueTest, SexSplitScoresTheTotalAndReportsTheGap) {
  CityValues values;
  values[2023]["1.1.1a"] = {{"male", 97}, {"female", 95}, {"total", 96}};
  const NodeScore& n = ComputeScores(C(), M(), values, 2023).nodes.at("1.1.1a");
  EXPECT_DOUBLE_EQ(*n.score, 96);
  EXPECT_DOUBLE_EQ(*n.gender_gap, -2);
  EXPECT_THAT(*n.parity_index, DoubleNear(95.0 / 97, 1e-12));
  // Without a total there is nothing to score.
  EXPECT_DOUBLE_EQ(Score("1.1.1a", {{"male", 97}, {"female", 95}}), -1);
}

TEST(ScoreValueTest, PartsBySettingAreAveraged) {
  EXPECT_DOUBLE_EQ(Score("2.4.1a", {{"schools", 80}, {"community_learning_spaces", 60}}), 70);
}

TEST(ScoreTreeTest, ANodeNeedsTwoThirdsOfItsChildren) {
  CityValues values;
  values[2023]["1.1.2a"] = {{"", 60}};
  ScoreTree one = ComputeScores(C(), M(), values, 2023);
  EXPECT_FALSE(one.nodes.at("1.1.2").score.has_value());  // 1 of 2 measures
  EXPECT_EQ(one.nodes.at("1.1.2").children_present, 1);
  values[2023]["1.1.2b"] = {{"", 40}};
  ScoreTree both = ComputeScores(C(), M(), values, 2023);
  EXPECT_DOUBLE_EQ(*both.nodes.at("1.1.2").score, 50);
  EXPECT_DOUBLE_EQ(both.nodes.at("1.1.2").coverage(), 1.0);
  EXPECT_FALSE(both.index().score.has_value());  // 2 of 60 measures
}

TEST(ScoreTreeTest, MissingValuesCarryForwardTwoYearsFlagged) {
  CityValues values;
  values[2021]["1.1.2a"] = {{"", 60}};
  ScoreTree carried = ComputeScores(C(), M(), values, 2023);
  EXPECT_DOUBLE_EQ(*carried.nodes.at("1.1.2a").score, 60);
  EXPECT_EQ(carried.nodes.at("1.1.2a").carried_from, 2021);
  EXPECT_FALSE(ComputeScores(C(), M(), values, 2024).nodes.at("1.1.2a").score.has_value());
  ScoreOptions off;
  off.carry_forward = false;
  EXPECT_FALSE(ComputeScores(C(), M(), values, 2023, off).nodes.at("1.1.2a").score.has_value());
  // A value of the year itself wins over older ones.
  values[2023]["1.1.2a"] = {{"", 70}};
  ScoreTree own = ComputeScores(C(), M(), values, 2023);
  EXPECT_DOUBLE_EQ(*own.nodes.at("1.1.2a").score, 70);
  EXPECT_FALSE(own.nodes.at("1.1.2a").carried_from.has_value());
}

// Every measure at the value that scores `score` (dimension 1 at `first_dimension`).
CityValues Uniform(double score, double first_dimension) {
  CityValues values;
  for (const Measure& m : C().measures()) {
    double s = (m.code[0] == '1' ? first_dimension : score) / 100;
    double v;
    if (m.code == "1.2.1a") {
      v = 1000 * std::pow(75.0, s);
    } else if (m.code == "2.5.3a") {
      v = 3 + 7 * s;
    } else if (m.direction == Direction::kLowerIsBetter) {
      v = m.max - s * (m.max - m.min);
    } else {
      v = m.min + s * (m.max - m.min);
    }
    if (m.type == ValueType::kRating) v = 1 + 4 * s;  // 50 -> 3, 100 -> 5
    for (const auto& category : CategoriesOf(m.disaggregation)) {
      values[2023][m.code][category] = v;
    }
  }
  return values;
}

TEST(ScoreTreeTest, IndexIsTheGeometricMeanOfTheDimensions) {
  ScoreTree flat = ComputeScores(C(), M(), Uniform(50, 50), 2023);
  EXPECT_DOUBLE_EQ(flat.measure_coverage, 1.0);
  EXPECT_THAT(*flat.index().score, DoubleNear(50, 1e-9));
  ScoreTree high = ComputeScores(C(), M(), Uniform(50, 100), 2023);
  EXPECT_THAT(*high.nodes.at("1").score, DoubleNear(100, 1e-9));
  EXPECT_THAT(*high.index().score, DoubleNear(std::cbrt(100.0 * 50 * 50), 1e-9));  // 63.0
  auto arithmetic = Methodology::Parse(TestMethodologyJson("arithmetic"), C());
  ASSERT_TRUE(arithmetic.ok());
  EXPECT_THAT(*ComputeScores(C(), *arithmetic, Uniform(50, 100), 2023).index().score,
              DoubleNear(200.0 / 3, 1e-9));
  EXPECT_EQ(high.methodology_id, "test-v1");
  EXPECT_EQ(high.methodology_hash.size(), 64u);
}

TEST(ScoreTreeTest, IndexNeedsEightyPercentOfMeasures) {
  CityValues values = Uniform(50, 50);
  int dropped = 0;
  for (auto it = values[2023].begin(); it != values[2023].end() && dropped < 13;) {
    it = values[2023].erase(it);  // 13 of 60 gone: 78% left
    ++dropped;
  }
  ScoreTree tree = ComputeScores(C(), M(), values, 2023);
  EXPECT_LT(tree.measure_coverage, 0.8);
  EXPECT_FALSE(tree.index().score.has_value());
}

TEST(MethodologyTest, ParseNamesEveryProblem) {
  nlohmann::json doc = nlohmann::json::parse(TestMethodologyJson());
  doc["measures"][0]["worst"] = 100;  // 1.1.1a is higher-is-better: worst above best
  doc["measures"][0]["best"] = 50;
  doc["measures"].erase(doc["measures"].begin() + 1);  // 1.1.2a without goalposts
  doc["aggregation"]["index"] = "median";
  auto parsed = Methodology::Parse(doc.dump(), C());
  ASSERT_FALSE(parsed.ok());
  std::vector<std::string> fields;
  for (const auto& v : FieldViolations(parsed.status())) fields.push_back(v.field);
  EXPECT_THAT(fields,
              testing::IsSupersetOf({"measures.1.1.1a", "measures.1.1.2a", "aggregation.index"}));
}

TEST(MethodologyTest, TheShippedMethodologyFitsTheCatalog) {
  std::ifstream in(std::string(GNLC_METHODOLOGY_DIR) + "/kf-2015-equal-v1.json");
  ASSERT_TRUE(in) << "data/methodology/kf-2015-equal-v1.json is missing";
  std::stringstream text;
  text << in.rdbuf();
  auto m = Methodology::Parse(text.str(), C());
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->id(), "kf-2015-equal-v1");
  EXPECT_EQ(m->aggregation(Level::kIndex), Aggregation::kGeometric);
  // GDP per capita is on a log scale between 1,000 and 75,000 PPP dollars.
  EXPECT_THAT(ScoreValue(*m->For("1.2.1a"), 28400),
              DoubleNear(100 * std::log(28.4) / std::log(75), 1e-9));
  EXPECT_TRUE(m->For("2.5.3a")->band.has_value());
  for (const Measure& measure : C().measures()) {
    EXPECT_FALSE(m->For(measure.code)->reason.empty()) << measure.code;
  }
}

}  // namespace
}  // namespace gnlc::scoring
