// A scoring methodology as data: fixed goalposts per measure (so that a city's score never
// moves because another city reported), transforms, targets, weights, aggregation per level,
// coverage rules and carry-forward. Parsed from data/methodology/*.json and checked against the
// catalog; immutable once loaded. Every score names the methodology id and content hash.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/indicators/catalog.h"

namespace gnlc::scoring {

using indicators::Catalog;

enum class Transform { kIdentity, kLog };
enum class Aggregation { kArithmetic, kGeometric };

// A value best between best_low and best_high, scoring 0 at worst_low and below and at
// worst_high and above, linearly in between (the pupil-teacher ratio).
struct Band {
  double best_low = 0, best_high = 0, worst_low = 0, worst_high = 0;
};

struct Target {
  double value = 0;
  int year = 0;
  std::string source;
};

struct Goalposts {
  // Worst and best values: worst > best for lower-is-better measures. Unused with a band.
  double worst = 0, best = 0;
  Transform transform = Transform::kIdentity;
  std::optional<Band> band;
  std::optional<Target> target;
  std::string reason;
};

// The levels of the tree above measures.
enum class Level { kFeature, kFocusArea, kDimension, kIndex };

class Methodology {
 public:
  // Parses and checks a methodology against `catalog`: a goalpost for every measure, in range,
  // agreeing with the measure's direction. INVALID_ARGUMENT names every problem.
  static absl::StatusOr<Methodology> Parse(absl::string_view json, const Catalog& catalog);

  const std::string& id() const { return id_; }
  // SHA-256 (hex) of the methodology text.
  const std::string& content_hash() const { return content_hash_; }
  const Goalposts* For(absl::string_view measure) const;
  Aggregation aggregation(Level level) const { return aggregation_.at(level); }
  // The weight of a node among its siblings (1 unless the methodology says otherwise).
  double weight(absl::string_view code) const;
  // A node is scored only when at least this share of its children are.
  double node_min_share() const { return node_min_share_; }
  // The index is scored only when at least this share of all measures are.
  double index_min_measure_share() const { return index_min_measure_share_; }
  // How many years back a missing value may be carried forward.
  int carry_forward_years() const { return carry_forward_years_; }

 private:
  std::string id_, content_hash_;
  absl::flat_hash_map<std::string, Goalposts> goalposts_;
  absl::flat_hash_map<std::string, double> weights_;
  std::map<Level, Aggregation> aggregation_;
  double node_min_share_ = 2.0 / 3;
  double index_min_measure_share_ = 0.8;
  int carry_forward_years_ = 2;
};

// The score (0..100) of a value against its goalposts:
// 100 · clip((g(x) − g(W)) / (g(B) − g(W)), 0, 1), or the band's shape.
double ScoreValue(const Goalposts& goalposts, double value);

}  // namespace gnlc::scoring
