#include "services/scoring/scores.h"

#include <cmath>

namespace gnlc::scoring {
namespace {

using indicators::Disaggregation;
using indicators::Measure;

// The weighted mean of the scored children, or nothing when too few are scored.
std::optional<double> Aggregate(const std::vector<std::pair<const NodeScore*, double>>& children,
                                Aggregation aggregation, double min_share, NodeScore& out) {
  out.children_total = static_cast<int>(children.size());
  double weights = 0, sum = 0, log_sum = 0;
  bool zero = false;
  for (const auto& [child, weight] : children) {
    if (!child->score) continue;
    ++out.children_present;
    weights += weight;
    sum += weight * *child->score;
    if (*child->score <= 0)
      zero = true;
    else
      log_sum += weight * std::log(*child->score);
  }
  if (out.children_total == 0 || out.coverage() < min_share - 1e-9 || weights <= 0) {
    return std::nullopt;
  }
  // Weights are renormalised over the children present.
  if (aggregation == Aggregation::kArithmetic) return sum / weights;
  return zero ? 0.0 : std::exp(log_sum / weights);
}

// A measure's score from its categories' values in one year.
NodeScore ScoreMeasure(const Measure& m, const Goalposts& g,
                       const std::map<std::string, double>& parts) {
  NodeScore n;
  n.code = m.code;
  n.children_total = 1;
  switch (m.disaggregation) {
    case Disaggregation::kNone:
      if (auto it = parts.find(""); it != parts.end()) n.score = ScoreValue(g, it->second);
      break;
    case Disaggregation::kSex: {
      // The total is scored; the split is reported beside it.
      if (auto it = parts.find("total"); it != parts.end()) n.score = ScoreValue(g, it->second);
      auto female = parts.find("female"), male = parts.find("male");
      if (female != parts.end() && male != parts.end()) {
        n.gender_gap = female->second - male->second;
        if (male->second != 0) n.parity_index = female->second / male->second;
      }
      break;
    }
    default: {
      // Values split by setting, sector, level or share: the mean of their parts' scores.
      double sum = 0;
      int count = 0;
      for (const auto& [category, value] : parts) {
        sum += ScoreValue(g, value);
        ++count;
      }
      if (count > 0) n.score = sum / count;
    }
  }
  if (n.score) n.children_present = 1;
  return n;
}

}  // namespace

ScoreTree ComputeScores(const Catalog& catalog, const Methodology& methodology,
                        const CityValues& values, int year, const ScoreOptions& options) {
  ScoreTree tree;
  tree.methodology_id = methodology.id();
  tree.methodology_hash = methodology.content_hash();
  tree.year = year;
  auto weight = [&](const std::string& code) {
    auto factor = options.weight_factors.find(code);
    return methodology.weight(code) *
           (factor == options.weight_factors.end() ? 1.0 : factor->second);
  };
  auto aggregation = [&](Level level) {
    return options.aggregation ? *options.aggregation : methodology.aggregation(level);
  };

  // Measures, with values carried forward from up to carry_forward_years earlier.
  int measures_present = 0;
  int lookback = options.carry_forward ? methodology.carry_forward_years() : 0;
  for (const Measure& m : catalog.measures()) {
    const Goalposts* g = methodology.For(m.code);
    NodeScore n;
    n.code = m.code;
    n.children_total = 1;
    for (int back = 0; g != nullptr && back <= lookback; ++back) {
      auto in_year = values.find(year - back);
      if (in_year == values.end()) continue;
      auto parts = in_year->second.find(m.code);
      if (parts == in_year->second.end() || parts->second.empty()) continue;
      n = ScoreMeasure(m, *g, parts->second);
      if (!n.score) continue;
      if (back > 0) n.carried_from = year - back;
      break;
    }
    if (n.score) ++measures_present;
    tree.nodes[m.code] = n;
  }
  tree.measure_coverage = static_cast<double>(measures_present) / catalog.measures().size();

  // Up the tree: features, focus areas, dimensions, index.
  std::vector<std::pair<const NodeScore*, double>> dimensions;
  for (const auto& dimension : catalog.dimensions()) {
    std::vector<std::pair<const NodeScore*, double>> areas;
    for (const std::string& area_code : dimension.focus_areas) {
      std::vector<std::pair<const NodeScore*, double>> features;
      for (const std::string& feature_code : catalog.FindFocusArea(area_code)->features) {
        std::vector<std::pair<const NodeScore*, double>> measures;
        for (const std::string& code : catalog.FindFeature(feature_code)->measures) {
          measures.push_back({&tree.nodes.at(code), weight(code)});
        }
        NodeScore f;
        f.code = feature_code;
        f.score =
            Aggregate(measures, aggregation(Level::kFeature), methodology.node_min_share(), f);
        tree.nodes[feature_code] = f;
        features.push_back({&tree.nodes.at(feature_code), weight(feature_code)});
      }
      NodeScore a;
      a.code = area_code;
      a.score =
          Aggregate(features, aggregation(Level::kFocusArea), methodology.node_min_share(), a);
      tree.nodes[area_code] = a;
      areas.push_back({&tree.nodes.at(area_code), weight(area_code)});
    }
    NodeScore d;
    d.code = dimension.code;
    d.score = Aggregate(areas, aggregation(Level::kDimension), methodology.node_min_share(), d);
    tree.nodes[dimension.code] = d;
    dimensions.push_back({&tree.nodes.at(dimension.code), weight(dimension.code)});
  }
  // The index needs every dimension and enough of all measures.
  NodeScore index;
  index.code = "";
  index.score = Aggregate(dimensions, methodology.aggregation(Level::kIndex), 1.0, index);
  if (tree.measure_coverage < methodology.index_min_measure_share() - 1e-9) index.score.reset();
  tree.nodes[""] = index;
  return tree;
}

}  // namespace gnlc::scoring
