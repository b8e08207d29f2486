// The rules of indicator data, without I/O: what a value is, how a row is checked against the
// catalog (errors reject it), what deserves a warning (stored with the value), and how a
// dataset moves through review.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/indicators/catalog.h"

namespace gnlc::indicators {

// The reporting years a dataset may have: the Key Features date from 2013; allow earlier
// baselines back to 1990, and nothing in the future.
inline constexpr int kFirstReportingYear = 1990;

struct ValueFlags {
  bool estimate = false;
  bool provisional = false;
  bool not_applicable = false;
  bool confidential = false;

  int Bits() const;
  static ValueFlags FromBits(int bits);
  bool operator==(const ValueFlags&) const = default;
};

// Which value: a city's dataset for a year, a measure, a disaggregation category.
struct ValueKey {
  std::string city_id;
  int year = 0;
  std::string measure;
  std::string category;  // "" when the measure is not disaggregated

  auto operator<=>(const ValueKey&) const = default;
  // "cities/{city}/datasets/{year}".
  std::string DatasetName() const;
};

struct Warning {
  std::string code;
  std::string message;
  bool operator==(const Warning&) const = default;
};

struct StoredValue {
  ValueKey key;
  std::optional<double> value;  // absent when not applicable
  ValueFlags flags;
  std::string source;
  std::string comment;
  std::vector<Warning> warnings;
  std::string stored_by;
  int64_t stored_at_us = 0;

  // Same content (who stored it and when aside).
  bool SameContent(const StoredValue& other) const {
    return value == other.value && flags == other.flags && source == other.source &&
           comment == other.comment;
  }
};

// One row to store or remove.
struct ValueWrite {
  ValueKey key;
  std::optional<double> value;
  ValueFlags flags;
  std::string source;
  std::string comment;
  bool remove = false;
};

// One reason a row is refused. `code` groups rejections of a bulk import ("OUT_OF_RANGE");
// `field` names the field of the row ("value", "measure"...).
struct RowProblem {
  std::string code;
  std::string field;
  std::string message;
};

// Checks a row against the catalog alone (the city and the dataset's state are checked
// elsewhere). Empty when the row is acceptable. `this_year` bounds the reporting year.
std::vector<RowProblem> CheckValueWrite(const Catalog& catalog, const ValueWrite& row,
                                        int this_year);

// The warnings a value gets from its neighbours: `siblings` holds the values of the same
// measure in the same dataset by category (after this write), `previous` the same value in
// the city's latest earlier dataset and that dataset's year.
std::vector<Warning> WarningsFor(const Catalog& catalog, const Measure& measure,
                                 const StoredValue& value,
                                 const std::map<std::string, double>& siblings,
                                 std::optional<std::pair<int, double>> previous);

// Review: draft -> submitted -> validated -> published; return sends a submitted or
// validated dataset back to draft; unpublish takes a published one back to validated; a
// new revision reopens a published dataset as a draft.
enum class DatasetState {
  kUnspecified = 0,
  kDraft = 1,
  kSubmitted = 2,
  kValidated = 3,
  kPublished = 4
};
enum class DatasetAction { kSubmit, kValidate, kReturn, kPublish, kUnpublish, kOpenRevision };

// What the change feed records. Numbers are stored; never renumber.
enum class ChangeKind {
  kValueWritten = 1,
  kValueRemoved = 2,
  kDatasetSubmitted = 3,
  kDatasetValidated = 4,
  kDatasetReturned = 5,
  kDatasetPublished = 6,
  kDatasetUnpublished = 7,
  kDatasetRevisionOpened = 8,
};

struct DatasetStep {
  DatasetAction action;
  const char* name;  // "submit"
  const char* done;  // "submitted": the word in the review history
  ChangeKind change;
  std::vector<DatasetState> from;
  DatasetState to;
  bool comment_required;
};

const DatasetStep& StepOf(DatasetAction action);
absl::string_view StateName(DatasetState state);

// The state after `action`, or FAILED_PRECONDITION saying which states allow it.
absl::StatusOr<DatasetState> NextDatasetState(DatasetState from, DatasetAction action);

// Row rejections of a bulk import grouped by code, with every row number.
struct Rejection {
  std::vector<int64_t> rows;
  std::string example;
};
using Rejections = std::map<std::string, Rejection>;

}  // namespace gnlc::indicators
