// CSV as ministries' systems write it (RFC 4180: comma-separated, fields quoted with '"' when
// they hold commas, quotes or line breaks), and the mapping between CSV rows and indicator
// values used by `gnlc indicators import` and `export`.
#pragma once

#include <istream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gnlc/indicators/v1/indicators.pb.h"

namespace gnlc::cli {

// Reads one record at a time, so a file of any size streams in constant memory.
class CsvReader {
 public:
  explicit CsvReader(std::istream& in) : in_(in) {}
  // The next record's fields, nullopt at the end; INVALID_ARGUMENT for an unterminated quote.
  absl::StatusOr<std::optional<std::vector<std::string>>> Next();
  // The line the last record returned started on (1-based), for error messages.
  int64_t line() const { return record_line_; }

 private:
  std::istream& in_;
  int64_t next_line_ = 1;
  int64_t record_line_ = 0;
};

// A field, quoted when it needs to be.
std::string CsvField(const std::string& text);

// The columns of an indicator CSV file, in the order export writes them. Import needs the
// first five; the rest are optional, and the output-only ones are ignored on import.
inline constexpr const char* kValueColumns[] = {"city_id",  "year",      "measure",   "category",
                                                "value",    "flags",     "source",    "comment",
                                                "warnings", "stored_by", "store_time"};

// Where each known column is in a header; INVALID_ARGUMENT naming unknown or missing columns.
absl::StatusOr<std::map<std::string, size_t>> ValueColumnsOf(
    const std::vector<std::string>& header);

// A row of the file as a value to write: numbers parsed, flags ("estimate;provisional",
// "not_applicable", "confidential") read. INVALID_ARGUMENT says what is wrong.
absl::StatusOr<gnlc::indicators::v1::ValueWrite> ValueFromCsv(
    const std::map<std::string, size_t>& columns, const std::vector<std::string>& fields);

// The header line and a value's line, each ending with '\n'.
std::string ValueCsvHeader();
std::string ValueToCsv(const gnlc::indicators::v1::Value& value);

}  // namespace gnlc::cli
