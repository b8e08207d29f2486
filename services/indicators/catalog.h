// The Key Features of Learning Cities as data: dimensions, focus areas, key features and their
// measures (seed 001), the SDG targets and indicators they link to and the three themes with
// their guiding questions (seed 000). Parsed from data/catalog/key_features.json, which the
// build compiles into the binary; read-only once loaded.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace gnlc::indicators {

enum class DataSource { kOfficial, kSurvey, kExpert };
enum class ValueType { kPercent, kRating, kRate, kAmount, kCount, kYears, kHours, kRatio };
enum class Direction { kHigherIsBetter, kLowerIsBetter };
enum class Disaggregation { kNone, kSex, kSetting, kSector, kLevel, kShare };

// BCP 47 language tag -> text.
using Texts = std::map<std::string, std::string>;

// The categories a value of a measure with this disaggregation may carry; {""} for kNone.
const std::vector<std::string>& CategoriesOf(Disaggregation d);
absl::string_view DisaggregationName(Disaggregation d);

struct RatingLevel {
  int value = 0;
  Texts labels;
};

struct Measure {
  std::string code;     // "1.1.1a"
  std::string feature;  // "1.1.1"
  Texts label, definition, unit, note;
  DataSource source = DataSource::kOfficial;
  ValueType type = ValueType::kPercent;
  Disaggregation disaggregation = Disaggregation::kNone;
  Direction direction = Direction::kHigherIsBetter;
  double min = 0, max = 0;
  std::vector<RatingLevel> scale;
};

struct SdgLink {
  std::string target;
  std::vector<std::string> indicators;
  std::string basis;  // "example" or the code of the theme that makes the link
};

struct Feature {
  std::string code;
  Texts name;
  std::vector<std::string> measures;
  std::vector<SdgLink> sdg_links;
};

struct FocusArea {
  std::string code;
  Texts name;
  std::vector<std::string> features;
};

struct Dimension {
  std::string code;
  Texts name;
  std::vector<std::string> focus_areas;
};

struct SdgTarget {
  std::string code;
  Texts text;
};

struct SdgIndicator {
  std::string code, target;
  Texts text;
};

struct Question {
  std::string code;
  Texts text;
};

struct QuestionGroup {
  std::string code;
  Texts name;
  std::vector<Question> questions;
};

struct Theme {
  std::string code;
  Texts name;
  std::vector<std::string> features;
  std::vector<std::string> sdg_targets;
  std::vector<QuestionGroup> question_groups;
};

class Catalog {
 public:
  // Parses and checks a catalog: unique codes, every reference resolvable, ranges sane.
  // Returns INVALID_ARGUMENT naming every problem.
  static absl::StatusOr<Catalog> Parse(absl::string_view json);
  // The catalog compiled into the binary.
  static const Catalog& Builtin();

  const std::string& id() const { return id_; }
  const std::string& version() const { return version_; }
  // SHA-256 (hex) of the catalog text.
  const std::string& content_hash() const { return content_hash_; }
  const Texts& title() const { return title_; }
  double jump_relative_change() const { return jump_relative_change_; }
  double jump_percentage_points() const { return jump_percentage_points_; }

  // In the source's order.
  const std::vector<Dimension>& dimensions() const { return dimensions_; }
  const std::vector<SdgTarget>& sdg_targets() const { return sdg_targets_; }
  const std::vector<SdgIndicator>& sdg_indicators() const { return sdg_indicators_; }
  const std::vector<Theme>& themes() const { return themes_; }
  // Every measure, in the source's order.
  const std::vector<Measure>& measures() const { return measures_; }

  const Measure* FindMeasure(absl::string_view code) const;
  const Feature* FindFeature(absl::string_view code) const;
  const FocusArea* FindFocusArea(absl::string_view code) const;
  const SdgTarget* FindSdgTarget(absl::string_view code) const;
  const SdgIndicator* FindSdgIndicator(absl::string_view code) const;
  // True for the code of a dimension, focus area, key feature or measure.
  bool IsNode(absl::string_view code) const;
  // The codes of the measures under a node ("2", "2.2", "2.2.1" or a measure code itself).
  std::vector<std::string> MeasuresUnder(absl::string_view node) const;

 private:
  std::string id_, version_, content_hash_;
  Texts title_;
  double jump_relative_change_ = 0.5, jump_percentage_points_ = 25;
  std::vector<Dimension> dimensions_;
  std::vector<FocusArea> focus_areas_;
  std::vector<Feature> features_;
  std::vector<Measure> measures_;
  std::vector<SdgTarget> sdg_targets_;
  std::vector<SdgIndicator> sdg_indicators_;
  std::vector<Theme> themes_;
  absl::flat_hash_map<std::string, size_t> measure_index_, feature_index_, focus_area_index_,
      dimension_index_, target_index_, indicator_index_;
};

}  // namespace gnlc::indicators
