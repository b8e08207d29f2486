#include "tools/gnlc/csv.h"

#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/time_util.h"

namespace gnlc::cli {

namespace iv1 = ::gnlc::indicators::v1;

absl::StatusOr<std::optional<std::vector<std::string>>> CsvReader::Next() {
  std::string line;
  if (!std::getline(in_, line)) return std::nullopt;
  record_line_ = next_line_++;
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (;;) {
    for (size_t i = 0; i < line.size(); ++i) {
      char c = line[i];
      if (quoted) {
        if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
          fields.back() += '"';
          ++i;
        } else if (c == '"') {
          quoted = false;
        } else {
          fields.back() += c;
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        fields.emplace_back();
      } else if (c != '\r' || i + 1 != line.size()) {
        fields.back() += c;
      }
    }
    if (!quoted) break;
    // A quoted field goes on over a line break.
    if (!std::getline(in_, line)) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", record_line_, ": a quoted field is never closed"));
    }
    ++next_line_;
    fields.back() += '\n';
  }
  return fields;
}

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

absl::StatusOr<std::map<std::string, size_t>> ValueColumnsOf(
    const std::vector<std::string>& header) {
  std::map<std::string, size_t> columns;
  std::vector<std::string> unknown;
  for (size_t i = 0; i < header.size(); ++i) {
    std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(header[i]));
    if (i == 0 && absl::StartsWith(name, "\xEF\xBB\xBF")) name = name.substr(3);  // a BOM
    bool known = false;
    for (const char* c : kValueColumns) known = known || name == c;
    if (!known) unknown.push_back(header[i]);
    columns[name] = i;
  }
  std::vector<std::string> missing;
  for (const char* required : {"city_id", "year", "measure", "category", "value"}) {
    if (!columns.contains(required)) missing.push_back(required);
  }
  if (unknown.empty() && missing.empty()) return columns;
  std::string message = "the header line";
  if (!missing.empty()) absl::StrAppend(&message, " lacks ", absl::StrJoin(missing, ", "));
  if (!unknown.empty()) {
    absl::StrAppend(&message, missing.empty() ? "" : " and", " has unknown columns ",
                    absl::StrJoin(unknown, ", "));
  }
  absl::StrAppend(&message, " (columns: ", absl::StrJoin(kValueColumns, ","), ")");
  return absl::InvalidArgumentError(message);
}

absl::StatusOr<iv1::ValueWrite> ValueFromCsv(const std::map<std::string, size_t>& columns,
                                             const std::vector<std::string>& fields) {
  auto get = [&](const char* name) -> std::string {
    auto it = columns.find(name);
    if (it == columns.end() || it->second >= fields.size()) return "";
    return std::string(absl::StripAsciiWhitespace(fields[it->second]));
  };
  iv1::ValueWrite w;
  std::vector<std::string> problems;
  w.set_city_id(get("city_id"));
  int year = 0;
  if (!absl::SimpleAtoi(get("year"), &year)) {
    problems.push_back(absl::StrCat("year '", get("year"), "' is not a number"));
  }
  w.set_year(year);
  w.set_measure(get("measure"));
  w.set_category(get("category"));
  for (absl::string_view flag :
       absl::StrSplit(get("flags"), absl::ByAnyChar(";| "), absl::SkipEmpty())) {
    if (flag == "estimate") {
      w.mutable_flags()->set_estimate(true);
    } else if (flag == "provisional") {
      w.mutable_flags()->set_provisional(true);
    } else if (flag == "not_applicable") {
      w.mutable_flags()->set_not_applicable(true);
    } else if (flag == "confidential") {
      w.mutable_flags()->set_confidential(true);
    } else {
      problems.push_back(absl::StrCat("unknown flag '", flag,
                                      "' (estimate, provisional, not_applicable, confidential)"));
    }
  }
  if (std::string value = get("value"); !value.empty()) {
    double v = 0;
    if (!absl::SimpleAtod(value, &v)) {
      problems.push_back(absl::StrCat("value '", value, "' is not a number"));
    } else {
      w.set_value(v);  // NaN and infinities go to the server, which names them
    }
  }
  w.set_source(get("source"));
  w.set_comment(get("comment"));
  if (!problems.empty()) return absl::InvalidArgumentError(absl::StrJoin(problems, "; "));
  return w;
}

// The shortest text that reads back as the same double.
std::string ExactNumber(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

std::string ValueCsvHeader() { return absl::StrCat(absl::StrJoin(kValueColumns, ","), "\n"); }

std::string ValueToCsv(const iv1::Value& v) {
  // "cities/{city}/datasets/{year}"
  std::vector<std::string> name = absl::StrSplit(v.dataset(), '/');
  std::vector<std::string> flags;
  if (v.flags().estimate()) flags.push_back("estimate");
  if (v.flags().provisional()) flags.push_back("provisional");
  if (v.flags().not_applicable()) flags.push_back("not_applicable");
  if (v.flags().confidential()) flags.push_back("confidential");
  std::vector<std::string> warnings;
  for (const auto& w : v.warnings()) warnings.push_back(w.code());
  std::string time =
      v.has_store_time() ? google::protobuf::util::TimeUtil::ToString(v.store_time()) : "";
  std::vector<std::string> cells = {name.size() == 4 ? name[1] : "",
                                    name.size() == 4 ? name[3] : "",
                                    v.measure(),
                                    v.category(),
                                    v.has_value() ? ExactNumber(v.value()) : "",
                                    absl::StrJoin(flags, ";"),
                                    v.source(),
                                    v.comment(),
                                    absl::StrJoin(warnings, ";"),
                                    v.stored_by(),
                                    time};
  std::string out;
  for (size_t i = 0; i < cells.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? "" : ",", CsvField(cells[i]));
  }
  return out + "\n";
}

}  // namespace gnlc::cli
