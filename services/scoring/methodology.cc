#include "services/scoring/methodology.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "services/common/api_key.h"
#include "services/common/status.h"

namespace gnlc::scoring {

using json = nlohmann::json;
using indicators::Direction;
using indicators::Measure;

namespace {

std::optional<Aggregation> AggregationFrom(const json& v) {
  if (v == "arithmetic") return Aggregation::kArithmetic;
  if (v == "geometric") return Aggregation::kGeometric;
  return std::nullopt;
}

}  // namespace

absl::StatusOr<Methodology> Methodology::Parse(absl::string_view text, const Catalog& catalog) {
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return absl::InvalidArgumentError("the methodology is not a JSON object");
  }
  Methodology m;
  FieldErrors errors;
  m.content_hash_ = Sha256Hex(text);
  m.id_ = doc.value("methodology_id", "");
  if (m.id_.empty()) errors.Add("methodology_id", "is required");
  if (doc.value("catalog_id", "") != catalog.id()) {
    errors.Add("catalog_id", absl::StrCat("must be the catalog's id '", catalog.id(), "'"));
  }

  const json aggregation = doc.value("aggregation", json::object());
  const std::pair<Level, const char*> kLevels[] = {{Level::kFeature, "feature"},
                                                   {Level::kFocusArea, "focus_area"},
                                                   {Level::kDimension, "dimension"},
                                                   {Level::kIndex, "index"}};
  for (const auto& [level, name] : kLevels) {
    auto a = AggregationFrom(aggregation.value(name, json()));
    if (!a) {
      errors.Add(absl::StrCat("aggregation.", name), "must be arithmetic or geometric");
      continue;
    }
    m.aggregation_[level] = *a;
  }
  for (const auto& [code, w] : doc.value("weights", json::object()).items()) {
    if (!catalog.IsNode(code) || !w.is_number() || w.get<double>() <= 0) {
      errors.Add(absl::StrCat("weights.", code), "needs a node code and a positive weight");
      continue;
    }
    m.weights_[code] = w.get<double>();
  }
  const json coverage = doc.value("coverage", json::object());
  m.node_min_share_ = coverage.value("node_min_share", m.node_min_share_);
  m.index_min_measure_share_ =
      coverage.value("index_min_measure_share", m.index_min_measure_share_);
  if (m.node_min_share_ <= 0 || m.node_min_share_ > 1 || m.index_min_measure_share_ <= 0 ||
      m.index_min_measure_share_ > 1) {
    errors.Add("coverage", "shares must lie in (0, 1]");
  }
  m.carry_forward_years_ = doc.value("carry_forward_years", m.carry_forward_years_);
  if (m.carry_forward_years_ < 0 || m.carry_forward_years_ > 5) {
    errors.Add("carry_forward_years", "must be 0..5");
  }

  for (const json& entry : doc.value("measures", json::array())) {
    std::string code = entry.value("code", "");
    std::string at = absl::StrCat("measures.", code);
    const Measure* measure = catalog.FindMeasure(code);
    if (measure == nullptr) {
      errors.Add(at, "is not a measure of the catalog");
      continue;
    }
    Goalposts g;
    g.reason = entry.value("reason", "");
    if (g.reason.empty()) errors.Add(at, "needs the reason for its goalposts");
    std::string transform = entry.value("transform", "identity");
    if (transform == "log") {
      g.transform = Transform::kLog;
    } else if (transform != "identity") {
      errors.Add(at, "transform must be identity or log");
    }
    auto in_range = [&](double v) { return v >= measure->min && v <= measure->max; };
    if (auto band = entry.find("band"); band != entry.end()) {
      g.band = Band{band->value("best_low", 0.0), band->value("best_high", 0.0),
                    band->value("worst_low", 0.0), band->value("worst_high", 0.0)};
      const Band& b = *g.band;
      if (!(b.worst_low < b.best_low && b.best_low <= b.best_high && b.best_high < b.worst_high) ||
          !in_range(b.worst_low) || !in_range(b.worst_high)) {
        errors.Add(at, "band must be worst_low < best_low <= best_high < worst_high, in range");
      }
    } else {
      if (!entry.contains("worst") || !entry.contains("best")) {
        errors.Add(at, "needs worst and best (or a band)");
        continue;
      }
      g.worst = entry.value("worst", 0.0);
      g.best = entry.value("best", 0.0);
      bool lower = measure->direction == Direction::kLowerIsBetter;
      if (g.worst == g.best || (lower != (g.worst > g.best))) {
        errors.Add(at, lower ? "is lower-is-better: worst must exceed best"
                             : "is higher-is-better: best must exceed worst");
      }
      if (!in_range(g.worst) || !in_range(g.best)) errors.Add(at, "goalposts outside the range");
      if (g.transform == Transform::kLog && (g.worst <= 0 || g.best <= 0)) {
        errors.Add(at, "a log transform needs positive goalposts");
      }
    }
    if (auto t = entry.find("target"); t != entry.end()) {
      g.target = Target{t->value("value", 0.0), t->value("year", 0), t->value("source", "")};
      if (!g.band && (g.target->value - g.worst) * (g.target->value - g.best) > 0) {
        errors.Add(at, "target must lie between worst and best");
      }
    }
    if (m.goalposts_.contains(code)) errors.Add(at, "is given twice");
    m.goalposts_[code] = std::move(g);
  }
  for (const Measure& measure : catalog.measures()) {
    if (!m.goalposts_.contains(measure.code)) {
      errors.Add(absl::StrCat("measures.", measure.code), "has no goalposts");
    }
  }
  GNLC_RETURN_IF_ERROR(errors.ToStatus());
  return m;
}

const Goalposts* Methodology::For(absl::string_view measure) const {
  auto it = goalposts_.find(measure);
  return it == goalposts_.end() ? nullptr : &it->second;
}

double Methodology::weight(absl::string_view code) const {
  auto it = weights_.find(code);
  return it == weights_.end() ? 1.0 : it->second;
}

double ScoreValue(const Goalposts& g, double x) {
  if (g.band) {
    const Band& b = *g.band;
    double s = 1;
    if (x < b.best_low) s = (x - b.worst_low) / (b.best_low - b.worst_low);
    if (x > b.best_high) s = (b.worst_high - x) / (b.worst_high - b.best_high);
    return 100 * std::clamp(s, 0.0, 1.0);
  }
  auto f = [&](double v) { return g.transform == Transform::kLog ? std::log(v) : v; };
  // Below a log's domain the value is as bad as it gets.
  if (g.transform == Transform::kLog && x <= 0) return g.worst < g.best ? 0 : 100;
  double s = (f(x) - f(g.worst)) / (f(g.best) - f(g.worst));
  return 100 * std::clamp(s, 0.0, 1.0);
}

}  // namespace gnlc::scoring
