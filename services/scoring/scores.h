// Scores for every node of the Key Features tree (measure → feature → focus area → dimension
// → index) for one city and year, from that city's own values only, against a methodology's
// fixed goalposts. No I/O: the values come in, the tree goes out.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "services/scoring/methodology.h"

namespace gnlc::scoring {

// One city's values: year -> measure -> category ("" when not split) -> value. Values marked
// not applicable are left out by the caller.
using CityValues = std::map<int, std::map<std::string, std::map<std::string, double>>>;

struct NodeScore {
  std::string code;             // "1.1.1a", "1.1.1", "1.1", "1", or "" for the index
  std::optional<double> score;  // 0..100; absent when coverage is too low
  int children_present = 0;     // measures: 1 when a value was found
  int children_total = 0;
  // The year whose value a measure used, when it was carried forward from an earlier year.
  std::optional<int> carried_from;
  // Sex-split measures: female minus male, and female / male.
  std::optional<double> gender_gap;
  std::optional<double> parity_index;

  double coverage() const {
    return children_total == 0 ? 0 : static_cast<double>(children_present) / children_total;
  }
};

// Choices a what-if or an uncertainty draw may vary; the methodology's own by default.
struct ScoreOptions {
  bool carry_forward = true;
  // Replaces the methodology's aggregation of features, focus areas and dimensions.
  std::optional<Aggregation> aggregation;
  // Multiplies the methodology's weights, per node code.
  std::map<std::string, double> weight_factors;
};

struct ScoreTree {
  std::string methodology_id;
  std::string methodology_hash;
  int year = 0;
  // Every node, keyed by code ("" is the index).
  std::map<std::string, NodeScore> nodes;
  // Share of all measures with a value (carried ones included).
  double measure_coverage = 0;

  const NodeScore& index() const { return nodes.at(""); }
};

ScoreTree ComputeScores(const Catalog& catalog, const Methodology& methodology,
                        const CityValues& values, int year, const ScoreOptions& options = {});

}  // namespace gnlc::scoring
