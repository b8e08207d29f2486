#include "services/indicators/domain.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "services/common/status.h"

namespace gnlc::indicators {

int ValueFlags::Bits() const {
  return (estimate ? 1 : 0) | (provisional ? 2 : 0) | (not_applicable ? 4 : 0) |
         (confidential ? 8 : 0);
}

ValueFlags ValueFlags::FromBits(int bits) {
  return {(bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0, (bits & 8) != 0};
}

std::string ValueKey::DatasetName() const {
  return absl::StrCat("cities/", city_id, "/datasets/", year);
}

namespace {

std::string Number(double v) { return absl::StrFormat("%g", v); }

bool IsWhole(double v) { return std::floor(v) == v; }

}  // namespace

std::vector<RowProblem> CheckValueWrite(const Catalog& catalog, const ValueWrite& row,
                                        int this_year) {
  std::vector<RowProblem> problems;
  if (row.key.year < kFirstReportingYear || row.key.year > this_year) {
    problems.push_back({"BAD_YEAR", "year",
                        absl::StrCat("reporting year ", row.key.year, " is outside ",
                                     kFirstReportingYear, "..", this_year)});
  }
  const Measure* m = catalog.FindMeasure(row.key.measure);
  if (m == nullptr) {
    problems.push_back(
        {"UNKNOWN_MEASURE", "measure",
         absl::StrCat("'", row.key.measure,
                      "' is not a measure of the catalog (codes look like 1.1.1a)")});
    return problems;
  }
  const auto& categories = CategoriesOf(m->disaggregation);
  if (std::find(categories.begin(), categories.end(), row.key.category) == categories.end()) {
    problems.push_back(
        {"BAD_CATEGORY", "category",
         m->disaggregation == Disaggregation::kNone
             ? absl::StrCat("measure ", m->code, " is not disaggregated; leave category empty")
             : absl::StrCat("measure ", m->code, " is split by ",
                            DisaggregationName(m->disaggregation), ": one of ",
                            absl::StrJoin(categories, ", "), "; got '", row.key.category, "'")});
  }
  if (row.remove) return problems;

  if (row.flags.not_applicable) {
    if (row.value.has_value()) {
      problems.push_back(
          {"VALUE_NOT_APPLICABLE", "value", "a value marked not applicable carries no number"});
    }
    return problems;
  }
  if (!row.value.has_value()) {
    problems.push_back(
        {"MISSING_VALUE", "value", "a value is required unless the row is marked not applicable"});
    return problems;
  }
  double v = *row.value;
  if (!std::isfinite(v)) {
    problems.push_back({"NOT_FINITE", "value", "must be a finite number"});
    return problems;
  }
  if ((m->type == ValueType::kRating || m->type == ValueType::kCount) && !IsWhole(v)) {
    problems.push_back({"NOT_AN_INTEGER", "value",
                        absl::StrCat("measure ", m->code, " takes a whole number (",
                                     m->type == ValueType::kRating ? "a rating 1-5" : "a count",
                                     "), got ", Number(v))});
  }
  if (v < m->min || v > m->max) {
    problems.push_back({"OUT_OF_RANGE", "value",
                        absl::StrCat("measure ", m->code, " takes ", Number(m->min), "..",
                                     Number(m->max), ", got ", Number(v))});
  }
  return problems;
}

std::vector<Warning> WarningsFor(const Catalog& catalog, const Measure& measure,
                                 const StoredValue& value,
                                 const std::map<std::string, double>& siblings,
                                 std::optional<std::pair<int, double>> previous) {
  std::vector<Warning> out;
  if (!value.value) return out;
  double v = *value.value;
  if (measure.disaggregation == Disaggregation::kSex) {
    auto male = siblings.find("male"), female = siblings.find("female"),
         total = siblings.find("total");
    if (male != siblings.end() && female != siblings.end() && total != siblings.end()) {
      // The total of a rate or an average lies between its two parts; allow for rounding.
      constexpr double kRounding = 0.5;
      double low = std::min(male->second, female->second) - kRounding;
      double high = std::max(male->second, female->second) + kRounding;
      if (total->second < low || total->second > high) {
        out.push_back({"SEX_SPLIT_INCONSISTENT",
                       absl::StrCat("total ", Number(total->second), " does not lie between male ",
                                    Number(male->second), " and female ", Number(female->second))});
      }
    }
  }
  if (previous) {
    auto [year, before] = *previous;
    bool jump = false;
    std::string by;
    if (measure.type == ValueType::kPercent) {
      double points = std::fabs(v - before);
      jump = points > catalog.jump_percentage_points();
      by = absl::StrFormat("%.1f percentage points", points);
    } else if (before != 0) {
      double relative = std::fabs(v - before) / std::fabs(before);
      jump = relative > catalog.jump_relative_change();
      by = absl::StrFormat("%.0f%%", relative * 100);
    }
    if (jump) {
      out.push_back({"JUMP_AGAINST_HISTORY", absl::StrCat("moved ", by, " from ", Number(before),
                                                          " in ", year, " to ", Number(v))});
    }
  }
  return out;
}

const DatasetStep& StepOf(DatasetAction action) {
  using S = DatasetState;
  static const auto* kSteps = new std::vector<DatasetStep>{
      {DatasetAction::kSubmit,
       "submit",
       "submitted",
       ChangeKind::kDatasetSubmitted,
       {S::kDraft},
       S::kSubmitted,
       false},
      {DatasetAction::kValidate,
       "validate",
       "validated",
       ChangeKind::kDatasetValidated,
       {S::kSubmitted},
       S::kValidated,
       false},
      {DatasetAction::kReturn,
       "return",
       "returned",
       ChangeKind::kDatasetReturned,
       {S::kSubmitted, S::kValidated},
       S::kDraft,
       true},
      {DatasetAction::kPublish,
       "publish",
       "published",
       ChangeKind::kDatasetPublished,
       {S::kValidated},
       S::kPublished,
       false},
      {DatasetAction::kUnpublish,
       "unpublish",
       "unpublished",
       ChangeKind::kDatasetUnpublished,
       {S::kPublished},
       S::kValidated,
       true},
      {DatasetAction::kOpenRevision,
       "open a revision of",
       "revision_opened",
       ChangeKind::kDatasetRevisionOpened,
       {S::kPublished},
       S::kDraft,
       false},
  };
  return (*kSteps)[static_cast<size_t>(action)];
}

absl::string_view StateName(DatasetState state) {
  switch (state) {
    case DatasetState::kDraft:
      return "draft";
    case DatasetState::kSubmitted:
      return "submitted";
    case DatasetState::kValidated:
      return "validated";
    case DatasetState::kPublished:
      return "published";
    case DatasetState::kUnspecified:
      break;
  }
  return "unspecified";
}

absl::StatusOr<DatasetState> NextDatasetState(DatasetState from, DatasetAction action) {
  const DatasetStep& step = StepOf(action);
  if (std::find(step.from.begin(), step.from.end(), from) != step.from.end()) return step.to;
  std::vector<std::string> allowed;
  for (DatasetState s : step.from) allowed.emplace_back(StateName(s));
  return PreconditionError("DATASET_STATE",
                           absl::StrCat("cannot ", step.name, " a ", StateName(from), " dataset"),
                           {{"DATASET_STATE", "dataset.state",
                             absl::StrCat("the dataset is ", StateName(from), "; ", step.name,
                                          " needs it ", absl::StrJoin(allowed, " or "))}});
}

}  // namespace gnlc::indicators
