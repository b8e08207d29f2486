#include "services/indicators/catalog.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/api_key.h"
#include "services/common/status.h"

namespace gnlc::indicators {

extern const absl::string_view kKeyFeaturesJson;

namespace {

using json = nlohmann::json;

// Collects every problem of a catalog file instead of stopping at the first.
class Reader {
 public:
  FieldErrors& errors() { return errors_; }

  std::string Text(const json& obj, const char* key, const std::string& where) {
    auto it = obj.find(key);
    if (it == obj.end() || !it->is_string() || it->get<std::string>().empty()) {
      errors_.Add(where, absl::StrCat("needs a non-empty string '", key, "'"));
      return "";
    }
    return it->get<std::string>();
  }

  // {"zh": "...", "en": "..."}; `required` demands both languages.
  Texts Localized(const json& obj, const char* key, const std::string& where, bool required) {
    Texts out;
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) errors_.Add(where, absl::StrCat("needs '", key, "' in zh and en"));
      return out;
    }
    if (!it->is_object()) {
      errors_.Add(where, absl::StrCat("'", key, "' must map languages to texts"));
      return out;
    }
    for (const auto& [lang, text] : it->items()) {
      if (text.is_string()) out[lang] = text.get<std::string>();
    }
    if (required && (out["zh"].empty() || out["en"].empty())) {
      errors_.Add(where, absl::StrCat("'", key, "' needs both zh and en"));
    }
    return out;
  }

  const json& Array(const json& obj, const char* key, const std::string& where) {
    static const json kEmpty = json::array();
    auto it = obj.find(key);
    if (it == obj.end() || !it->is_array()) {
      errors_.Add(where, absl::StrCat("needs an array '", key, "'"));
      return kEmpty;
    }
    return *it;
  }

  std::vector<std::string> Strings(const json& obj, const char* key, const std::string& where) {
    std::vector<std::string> out;
    for (const json& v : Array(obj, key, where)) {
      if (v.is_string()) {
        out.push_back(v.get<std::string>());
      } else {
        errors_.Add(where, absl::StrCat("'", key, "' must hold strings"));
      }
    }
    return out;
  }

  template <typename E>
  E Enum(const json& obj, const char* key, const std::string& where,
         std::initializer_list<std::pair<const char*, E>> names) {
    std::string v = Text(obj, key, where);
    for (const auto& [name, value] : names) {
      if (v == name) return value;
    }
    if (!v.empty()) errors_.Add(where, absl::StrCat("has an unknown ", key, " '", v, "'"));
    return names.begin()->second;
  }

 private:
  FieldErrors errors_;
};

}  // namespace

const std::vector<std::string>& CategoriesOf(Disaggregation d) {
  static const auto* kNone = new std::vector<std::string>{""};
  static const auto* kSex = new std::vector<std::string>{"male", "female", "total"};
  static const auto* kSetting =
      new std::vector<std::string>{"schools", "community_learning_spaces"};
  static const auto* kSector = new std::vector<std::string>{"public", "private"};
  static const auto* kLevel =
      new std::vector<std::string>{"pre_primary", "primary", "secondary", "adult_continuing"};
  static const auto* kShare = new std::vector<std::string>{"basic_education", "adult_continuing"};
  switch (d) {
    case Disaggregation::kNone:
      return *kNone;
    case Disaggregation::kSex:
      return *kSex;
    case Disaggregation::kSetting:
      return *kSetting;
    case Disaggregation::kSector:
      return *kSector;
    case Disaggregation::kLevel:
      return *kLevel;
    case Disaggregation::kShare:
      return *kShare;
  }
  return *kNone;
}

absl::string_view DisaggregationName(Disaggregation d) {
  switch (d) {
    case Disaggregation::kNone:
      return "none";
    case Disaggregation::kSex:
      return "sex";
    case Disaggregation::kSetting:
      return "setting";
    case Disaggregation::kSector:
      return "sector";
    case Disaggregation::kLevel:
      return "level";
    case Disaggregation::kShare:
      return "share";
  }
  return "none";
}

absl::StatusOr<Catalog> Catalog::Parse(absl::string_view text) {
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return absl::InvalidArgumentError("the catalog is not a JSON object");
  }
  Catalog c;
  Reader r;
  c.content_hash_ = Sha256Hex(text);
  c.id_ = r.Text(doc, "catalog_id", "catalog");
  c.version_ = r.Text(doc, "version", "catalog");
  c.title_ = r.Localized(doc, "title", "catalog", true);
  if (auto it = doc.find("history_jump_warning"); it != doc.end() && it->is_object()) {
    c.jump_relative_change_ = it->value("relative_change", 0.5);
    c.jump_percentage_points_ = it->value("percentage_points", 25.0);
  }

  for (const json& d : r.Array(doc, "dimensions", "catalog")) {
    Dimension dim;
    dim.code = r.Text(d, "code", "dimension");
    std::string at = absl::StrCat("dimension ", dim.code);
    dim.name = r.Localized(d, "name", at, true);
    for (const json& fa : r.Array(d, "focus_areas", at)) {
      FocusArea area;
      area.code = r.Text(fa, "code", at);
      std::string fa_at = absl::StrCat("focus area ", area.code);
      if (!absl::StartsWith(area.code, dim.code + "."))
        r.errors().Add(fa_at, "is not under its dimension");
      area.name = r.Localized(fa, "name", fa_at, true);
      for (const json& f : r.Array(fa, "features", fa_at)) {
        Feature feature;
        feature.code = r.Text(f, "code", fa_at);
        std::string f_at = absl::StrCat("key feature ", feature.code);
        if (!absl::StartsWith(feature.code, area.code + ".")) {
          r.errors().Add(f_at, "is not under its focus area");
        }
        feature.name = r.Localized(f, "name", f_at, true);
        for (const json& m : r.Array(f, "measures", f_at)) {
          Measure measure;
          measure.code = r.Text(m, "code", f_at);
          measure.feature = feature.code;
          std::string m_at = absl::StrCat("measure ", measure.code);
          if (!absl::StartsWith(measure.code, feature.code) ||
              measure.code.size() != feature.code.size() + 1) {
            r.errors().Add(m_at, "must be its key feature's code and one letter");
          }
          measure.label = r.Localized(m, "label", m_at, true);
          measure.definition = r.Localized(m, "definition", m_at, false);
          measure.unit = r.Localized(m, "unit", m_at, false);
          measure.note = r.Localized(m, "note", m_at, false);
          measure.source = r.Enum<DataSource>(m, "data_source", m_at,
                                              {{"official", DataSource::kOfficial},
                                               {"survey", DataSource::kSurvey},
                                               {"expert", DataSource::kExpert}});
          measure.type = r.Enum<ValueType>(m, "value_type", m_at,
                                           {{"percent", ValueType::kPercent},
                                            {"rating", ValueType::kRating},
                                            {"rate", ValueType::kRate},
                                            {"amount", ValueType::kAmount},
                                            {"count", ValueType::kCount},
                                            {"years", ValueType::kYears},
                                            {"hours", ValueType::kHours},
                                            {"ratio", ValueType::kRatio}});
          measure.disaggregation = r.Enum<Disaggregation>(m, "disaggregation", m_at,
                                                          {{"none", Disaggregation::kNone},
                                                           {"sex", Disaggregation::kSex},
                                                           {"setting", Disaggregation::kSetting},
                                                           {"sector", Disaggregation::kSector},
                                                           {"level", Disaggregation::kLevel},
                                                           {"share", Disaggregation::kShare}});
          measure.direction = r.Enum<Direction>(
              m, "direction", m_at,
              {{"higher", Direction::kHigherIsBetter}, {"lower", Direction::kLowerIsBetter}});
          auto range = m.find("range");
          if (range == m.end() || !range->is_object() || !(*range)["min"].is_number() ||
              !(*range)["max"].is_number()) {
            r.errors().Add(m_at, "needs a numeric range {min, max}");
          } else {
            measure.min = (*range)["min"].get<double>();
            measure.max = (*range)["max"].get<double>();
            if (!(measure.min < measure.max)) r.errors().Add(m_at, "range min must be below max");
          }
          if (measure.type == ValueType::kPercent && (measure.min < 0 || measure.max > 100)) {
            r.errors().Add(m_at, "a percent must lie within 0..100");
          }
          if (measure.type == ValueType::kRating) {
            if (measure.min != 1 || measure.max != 5) r.errors().Add(m_at, "a rating is 1..5");
            if (auto s = m.find("scale"); s != m.end() && s->is_array()) {
              for (const json& level : *s) {
                measure.scale.push_back(
                    {level.value("value", 0), r.Localized(level, "label", m_at, true)});
              }
            }
            if (measure.scale.size() != 5) r.errors().Add(m_at, "a rating needs its 5-level scale");
          }
          if (c.measure_index_.contains(measure.code)) r.errors().Add(m_at, "is defined twice");
          c.measure_index_[measure.code] = c.measures_.size();
          feature.measures.push_back(measure.code);
          c.measures_.push_back(std::move(measure));
        }
        if (feature.measures.empty()) r.errors().Add(f_at, "has no measure");
        if (c.feature_index_.contains(feature.code)) r.errors().Add(f_at, "is defined twice");
        c.feature_index_[feature.code] = c.features_.size();
        area.features.push_back(feature.code);
        c.features_.push_back(std::move(feature));
      }
      if (c.focus_area_index_.contains(area.code)) r.errors().Add(fa_at, "is defined twice");
      c.focus_area_index_[area.code] = c.focus_areas_.size();
      dim.focus_areas.push_back(area.code);
      c.focus_areas_.push_back(std::move(area));
    }
    c.dimension_index_[dim.code] = c.dimensions_.size();
    c.dimensions_.push_back(std::move(dim));
  }

  // SDG targets and indicators.
  if (auto sdg = doc.find("sdg"); sdg != doc.end() && sdg->is_object()) {
    for (const json& t : r.Array(*sdg, "targets", "sdg")) {
      SdgTarget target{r.Text(t, "code", "sdg target"), {}};
      target.text = r.Localized(t, "text", absl::StrCat("sdg target ", target.code), true);
      c.target_index_[target.code] = c.sdg_targets_.size();
      c.sdg_targets_.push_back(std::move(target));
    }
    for (const json& i : r.Array(*sdg, "indicators", "sdg")) {
      SdgIndicator ind{
          r.Text(i, "code", "sdg indicator"), r.Text(i, "target", "sdg indicator"), {}};
      std::string at = absl::StrCat("sdg indicator ", ind.code);
      ind.text = r.Localized(i, "text", at, true);
      if (!c.target_index_.contains(ind.target)) r.errors().Add(at, "names an unknown target");
      c.indicator_index_[ind.code] = c.sdg_indicators_.size();
      c.sdg_indicators_.push_back(std::move(ind));
    }
  } else {
    r.errors().Add("catalog", "needs an 'sdg' object with targets and indicators");
  }

  // Worked examples: feature -> targets with indicators.
  for (const json& e : r.Array(doc, "sdg_examples", "catalog")) {
    std::string code = r.Text(e, "feature", "sdg example");
    auto f = c.feature_index_.find(code);
    if (f == c.feature_index_.end()) {
      r.errors().Add("sdg example", absl::StrCat("names an unknown key feature '", code, "'"));
      continue;
    }
    for (const json& link : r.Array(e, "links", "sdg example")) {
      SdgLink l{r.Text(link, "target", "sdg example"), r.Strings(link, "indicators", "sdg example"),
                "example"};
      if (!c.target_index_.contains(l.target)) {
        r.errors().Add("sdg example", absl::StrCat("names an unknown target '", l.target, "'"));
      }
      for (const auto& i : l.indicators) {
        if (!c.indicator_index_.contains(i)) {
          r.errors().Add("sdg example", absl::StrCat("names an unknown indicator '", i, "'"));
        }
      }
      c.features_[f->second].sdg_links.push_back(std::move(l));
    }
  }

  // Themes: their features link to their targets.
  for (const json& t : r.Array(doc, "themes", "catalog")) {
    Theme theme;
    theme.code = r.Text(t, "code", "theme");
    std::string at = absl::StrCat("theme ", theme.code);
    theme.name = r.Localized(t, "name", at, true);
    theme.features = r.Strings(t, "features", at);
    theme.sdg_targets = r.Strings(t, "sdg_targets", at);
    for (const auto& target : theme.sdg_targets) {
      if (!c.target_index_.contains(target)) {
        r.errors().Add(at, absl::StrCat("names an unknown target '", target, "'"));
      }
    }
    for (const auto& code : theme.features) {
      auto f = c.feature_index_.find(code);
      if (f == c.feature_index_.end()) {
        r.errors().Add(at, absl::StrCat("names an unknown key feature '", code, "'"));
        continue;
      }
      for (const auto& target : theme.sdg_targets) {
        c.features_[f->second].sdg_links.push_back({target, {}, theme.code});
      }
    }
    for (const json& g : r.Array(t, "question_groups", at)) {
      QuestionGroup group;
      group.code = r.Text(g, "code", at);
      group.name = r.Localized(g, "name", at, true);
      for (const json& q : r.Array(g, "questions", at)) {
        Question question{r.Text(q, "code", at), {}};
        question.text = r.Localized(q, "text", absl::StrCat("question ", question.code), true);
        group.questions.push_back(std::move(question));
      }
      theme.question_groups.push_back(std::move(group));
    }
    c.themes_.push_back(std::move(theme));
  }

  if (!r.errors().empty()) return r.errors().ToStatus();
  return c;
}

const Catalog& Catalog::Builtin() {
  static const Catalog* builtin = [] {
    auto parsed = Parse(kKeyFeaturesJson);
    if (!parsed.ok()) {
      // The file is part of the build and checked by the tests: failing here is a build error.
      std::fprintf(stderr, "the built-in catalog is broken: %s\n",
                   std::string(parsed.status().message()).c_str());
      std::abort();
    }
    return new Catalog(std::move(*parsed));
  }();
  return *builtin;
}

const Measure* Catalog::FindMeasure(absl::string_view code) const {
  auto it = measure_index_.find(code);
  return it == measure_index_.end() ? nullptr : &measures_[it->second];
}
const Feature* Catalog::FindFeature(absl::string_view code) const {
  auto it = feature_index_.find(code);
  return it == feature_index_.end() ? nullptr : &features_[it->second];
}
const FocusArea* Catalog::FindFocusArea(absl::string_view code) const {
  auto it = focus_area_index_.find(code);
  return it == focus_area_index_.end() ? nullptr : &focus_areas_[it->second];
}
const SdgTarget* Catalog::FindSdgTarget(absl::string_view code) const {
  auto it = target_index_.find(code);
  return it == target_index_.end() ? nullptr : &sdg_targets_[it->second];
}
const SdgIndicator* Catalog::FindSdgIndicator(absl::string_view code) const {
  auto it = indicator_index_.find(code);
  return it == indicator_index_.end() ? nullptr : &sdg_indicators_[it->second];
}

bool Catalog::IsNode(absl::string_view code) const {
  return dimension_index_.contains(code) || focus_area_index_.contains(code) ||
         feature_index_.contains(code) || measure_index_.contains(code);
}

std::vector<std::string> Catalog::MeasuresUnder(absl::string_view node) const {
  std::vector<std::string> out;
  if (!IsNode(node)) return out;
  std::string prefix = absl::StrCat(node, ".");
  for (const Measure& m : measures_) {
    // A measure is under itself, its feature ("2.2.1"), and every prefix ending at a dot.
    if (m.code == node || m.feature == node || absl::StartsWith(m.feature, prefix)) {
      out.push_back(m.code);
    }
  }
  return out;
}

}  // namespace gnlc::indicators
