#include "services/indicators/indicator_store.h"

#include <sodium.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/api_fields.h"
#include "services/common/status.h"

namespace gnlc::indicators {

using sql::Connection;
using sql::Row;
using sql::TextRef;
using sql::Value;
using json = nlohmann::json;

namespace {

absl::Status NotFound(absl::string_view type, absl::string_view name) {
  return ErrorWithReason(absl::StatusCode::kNotFound, "NOT_FOUND",
                         absl::StrCat(type, " '", name, "' does not exist"),
                         {{"resource", std::string(name)}});
}

Value OptionalReal(const std::optional<double>& v) { return v ? Value{*v} : sql::Null(); }

std::optional<double> RealOrNone(const Row& row, size_t i) {
  if (row.IsNull(i)) return std::nullopt;
  return row.Real(i);
}

// --- Warnings, rejections and summaries as JSON text ----------------------------------------

std::string EncodeWarnings(const std::vector<Warning>& warnings) {
  if (warnings.empty()) return "";
  json out = json::array();
  for (const Warning& w : warnings) out.push_back({{"code", w.code}, {"message", w.message}});
  return out.dump();
}

std::vector<Warning> DecodeWarnings(const std::string& text) {
  std::vector<Warning> out;
  if (text.empty()) return out;
  json doc = json::parse(text, nullptr, false);
  if (!doc.is_array()) return out;
  for (const json& w : doc) out.push_back({w.value("code", ""), w.value("message", "")});
  return out;
}

json EncodeRejections(const Rejections& rejections) {
  json out = json::object();
  for (const auto& [code, r] : rejections) {
    out[code] = {{"rows", r.rows}, {"example", r.example}};
  }
  return out;
}

Rejections DecodeRejections(const json& doc) {
  Rejections out;
  if (!doc.is_object()) return out;
  for (const auto& [code, r] : doc.items()) {
    out[code] = {r.value("rows", std::vector<int64_t>{}), r.value("example", "")};
  }
  return out;
}

void MergeRejections(Rejections& into, const Rejections& from) {
  for (const auto& [code, r] : from) {
    Rejection& target = into[code];
    if (target.example.empty()) target.example = r.example;
    target.rows.insert(target.rows.end(), r.rows.begin(), r.rows.end());
  }
}

void Reject(Rejections& rejections, const std::string& code, int64_t row,
            const std::string& message) {
  Rejection& r = rejections[code];
  if (r.example.empty()) r.example = absl::StrCat("row ", row, ": ", message);
  r.rows.push_back(row);
}

// Counts as JSON, with `extra` fields of the batch or job around them.
json EncodeCounts(const ImportCounts& c, json extra) {
  extra.update({{"rows", c.rows},
                {"applied", c.applied},
                {"unchanged", c.unchanged},
                {"rejected", c.rejected},
                {"warnings", c.warnings},
                {"rejections", EncodeRejections(c.rejections)}});
  return extra;
}

void DecodeCounts(const json& doc, ImportCounts& c) {
  c.rows = doc.value("rows", int64_t{0});
  c.applied = doc.value("applied", int64_t{0});
  c.unchanged = doc.value("unchanged", int64_t{0});
  c.rejected = doc.value("rejected", int64_t{0});
  c.warnings = doc.value("warnings", int64_t{0});
  c.rejections = DecodeRejections(doc.value("rejections", json::object()));
}

std::string EncodeBatch(const BatchResult& b) {
  return EncodeCounts(b, {{"batch_id", b.batch_id}}).dump();
}

BatchResult DecodeBatch(const std::string& text) {
  json doc = json::parse(text, nullptr, false);
  BatchResult b;
  if (!doc.is_object()) return b;
  DecodeCounts(doc, b);
  b.batch_id = doc.value("batch_id", "");
  return b;
}

std::string EncodeSummary(const JobSummary& s) {
  return EncodeCounts(s, {{"batches", s.batches}, {"removed", s.removed}}).dump();
}

JobSummary DecodeSummary(const std::string& text) {
  json doc = json::parse(text, nullptr, false);
  JobSummary s;
  if (!doc.is_object()) return s;
  DecodeCounts(doc, s);
  s.batches = doc.value("batches", int64_t{0});
  s.removed = doc.value("removed", int64_t{0});
  return s;
}

// --- Rows ---------------------------------------------------------------------------------

constexpr absl::string_view kValueColumns =
    "city_id, year, measure, category, value, flags, source, comment, warnings, stored_by, "
    "stored_at_us";

StoredValue ValueFromRow(const Row& r) {
  StoredValue v;
  v.key = {r.Text(0), static_cast<int>(r.Int(1)), r.Text(2), r.Text(3)};
  v.value = RealOrNone(r, 4);
  v.flags = ValueFlags::FromBits(static_cast<int>(r.Int(5)));
  v.source = r.Text(6);
  v.comment = r.Text(7);
  v.warnings = DecodeWarnings(r.Text(8));
  v.stored_by = r.Text(9);
  v.stored_at_us = r.Int(10);
  return v;
}

constexpr absl::string_view kDatasetColumns =
    "city_id, year, country_code, state, revision, published_revision, etag, return_comment, "
    "created_at_us, updated_at_us";

Dataset DatasetFromRow(const Row& r) {
  Dataset d;
  d.city_id = r.Text(0);
  d.year = static_cast<int>(r.Int(1));
  d.country = r.Text(2);
  d.state = static_cast<DatasetState>(r.Int(3));
  d.revision = static_cast<int>(r.Int(4));
  d.published_revision = static_cast<int>(r.Int(5));
  d.etag = r.Int(6);
  d.return_comment = r.Text(7);
  d.created_at_us = r.Int(8);
  d.updated_at_us = r.Int(9);
  return d;
}

absl::StatusOr<std::optional<Dataset>> LoadDataset(Connection& conn, const std::string& city_id,
                                                   int year) {
  GNLC_ASSIGN_OR_RETURN(auto rows, conn.Query(absl::StrCat("SELECT ", kDatasetColumns,
                                                           " FROM datasets WHERE city_id = $1 "
                                                           "AND year = $2"),
                                              {city_id, int64_t{year}}));
  if (rows.empty()) return std::nullopt;
  return DatasetFromRow(rows[0]);
}

// Reads a dataset and locks its row until the transaction ends: every writer of a dataset's
// values or state takes this first, so on PostgreSQL (READ COMMITTED) two writers of one
// dataset run one after the other, and nobody writes into a dataset being submitted.
absl::StatusOr<std::optional<Dataset>> LockDataset(Connection& conn, const std::string& city_id,
                                                   int year) {
  GNLC_ASSIGN_OR_RETURN(
      auto rows, conn.Query(absl::StrCat("UPDATE datasets SET etag = etag WHERE city_id = $1 AND "
                                         "year = $2 RETURNING ",
                                         kDatasetColumns),
                            {city_id, int64_t{year}}));
  if (rows.empty()) return std::nullopt;
  return DatasetFromRow(rows[0]);
}

absl::Status AddReviewStep(Connection& conn, const Dataset& d, const std::string& action,
                           const std::string& actor, const std::string& comment, int64_t now) {
  return conn
      .Execute(
          "INSERT INTO review_steps (city_id, year, step, action, state, revision, actor, "
          "comment, at_us) SELECT $1, $2, COALESCE(MAX(step), 0) + 1, $3, $4, $5, $6, $7, $8 "
          "FROM review_steps WHERE city_id = $1 AND year = $2",
          {d.city_id, int64_t{d.year}, action, int64_t(d.state), int64_t{d.revision}, actor,
           comment, now})
      .status();
}

// Rows per multi-row INSERT: one statement instead of many is what makes bulk writes fast,
// and 64 rows x 23 columns stays far below both databases' parameter limits.
constexpr size_t kRowsPerStatement = 64;

// "INSERT INTO <table> (<columns>) VALUES ($1, ...), (...)" for `rows` rows of `width`
// columns, then `suffix`. Built once per shape and kept: the drivers cache statements by text.
const std::string& MultiRowInsert(absl::string_view head, size_t width, size_t rows,
                                  absl::string_view suffix) {
  static std::mutex mu;
  static auto* cache = new std::map<std::tuple<std::string, size_t, size_t>, std::string>();
  std::lock_guard lock(mu);
  auto key = std::make_tuple(std::string(head), width, rows);
  auto it = cache->find(key);
  if (it != cache->end()) return it->second;
  std::string sql = absl::StrCat(head, " VALUES ");
  for (size_t r = 0; r < rows; ++r) {
    absl::StrAppend(&sql, r == 0 ? "(" : ", (");
    for (size_t c = 0; c < width; ++c) {
      absl::StrAppend(&sql, c == 0 ? "$" : ", $", r * width + c + 1);
    }
    absl::StrAppend(&sql, ")");
  }
  absl::StrAppend(&sql, suffix);
  return cache->emplace(std::move(key), std::move(sql)).first->second;
}

constexpr absl::string_view kInsertChange =
    "INSERT INTO changes (seq, kind, city_id, country_code, year, measure, category, has_new, "
    "new_value, new_flags, new_source, new_comment, new_warnings, revision, actor, origin, "
    "comment, at_us)";
constexpr size_t kChangeWidth = 18;

// One row of the change log as the insert needs it: views of values that outlive the insert.
struct ChangeRow {
  int64_t seq = 0;
  ChangeKind kind = ChangeKind::kValueWritten;
  std::string_view city_id, country, measure, category;
  int year = 0;
  int revision = 0;
  const StoredValue* new_value = nullptr;  // the value after the change; none for a removal
};

// Inserts change rows (seq already assigned) in multi-row statements.
absl::Status InsertChangeRows(Connection& conn, std::span<const ChangeRow> rows,
                              std::string_view actor, std::string_view origin,
                              std::string_view comment, int64_t at_us) {
  static const StoredValue kNone;
  std::vector<Value> params;
  std::vector<std::string> warnings;  // encoded, alive until each statement ran
  for (size_t first = 0; first < rows.size(); first += kRowsPerStatement) {
    size_t n = std::min(kRowsPerStatement, rows.size() - first);
    params.clear();
    params.reserve(n * kChangeWidth);
    warnings.clear();
    warnings.reserve(n);
    for (size_t i = first; i < first + n; ++i) {
      const ChangeRow& c = rows[i];
      const StoredValue& w = c.new_value ? *c.new_value : kNone;
      warnings.push_back(EncodeWarnings(w.warnings));
      params.insert(params.end(), {c.seq, int64_t(c.kind), TextRef{c.city_id}, TextRef{c.country},
                                   int64_t{c.year}, TextRef{c.measure}, TextRef{c.category},
                                   int64_t{c.new_value != nullptr}, OptionalReal(w.value),
                                   int64_t{w.flags.Bits()}, TextRef{w.source}, TextRef{w.comment},
                                   TextRef{warnings.back()}, int64_t{c.revision}, TextRef{actor},
                                   TextRef{origin}, TextRef{comment}, at_us});
    }
    GNLC_RETURN_IF_ERROR(
        conn.Execute(MultiRowInsert(kInsertChange, kChangeWidth, n, ""), params).status());
  }
  return absl::OkStatus();
}

// Appends changes, numbered from the counters row, which this takes and holds until commit
// (see schema.cc). For the few changes of a review step or a job's commit.
absl::Status AppendChanges(Connection& conn, std::vector<Change>& changes) {
  if (changes.empty()) return absl::OkStatus();
  GNLC_ASSIGN_OR_RETURN(auto rows,
                        conn.Query("UPDATE counters SET value = value + $1 WHERE name = 'changes' "
                                   "RETURNING value",
                                   {int64_t(changes.size())}));
  if (rows.empty()) return absl::InternalError("the changes counter row is missing");
  int64_t seq = rows[0].Int(0) - static_cast<int64_t>(changes.size());
  // All changes of one call share actor, origin, comment and time.
  std::vector<ChangeRow> change_rows;
  change_rows.reserve(changes.size());
  for (Change& c : changes) {
    c.seq = ++seq;
    change_rows.push_back({c.seq, c.kind, c.city_id, c.country, c.measure, c.category, c.year,
                           c.revision, c.new_value ? &*c.new_value : nullptr});
  }
  const Change& first = changes.front();
  return InsertChangeRows(conn, change_rows, first.actor, first.origin, first.comment, first.at_us);
}

constexpr absl::string_view kChangeColumns =
    "seq, kind, city_id, country_code, year, measure, category, has_new, new_value, new_flags, "
    "new_source, new_comment, new_warnings, revision, actor, origin, comment, at_us";

// A change as logged. Its old value is not stored: it is the new value of the same key's
// previous change (see ValueHistory), which keeps each logged row, and each sync, smaller.
Change ChangeFromRow(const Row& r) {
  Change c;
  c.seq = r.Int(0);
  c.kind = static_cast<ChangeKind>(r.Int(1));
  c.city_id = r.Text(2);
  c.country = r.Text(3);
  c.year = static_cast<int>(r.Int(4));
  c.measure = r.Text(5);
  c.category = r.Text(6);
  c.revision = static_cast<int>(r.Int(13));
  c.actor = r.Text(14);
  c.origin = r.Text(15);
  c.comment = r.Text(16);
  c.at_us = r.Int(17);
  if (r.Bool(7)) {
    c.new_value = StoredValue{{c.city_id, c.year, c.measure, c.category},
                              RealOrNone(r, 8),
                              ValueFlags::FromBits(int(r.Int(9))),
                              r.Text(10),
                              r.Text(11),
                              DecodeWarnings(r.Text(12)),
                              c.actor,
                              c.at_us};
  }
  return c;
}

// --- Applying rows ------------------------------------------------------------------------

// What a transaction knows about one dataset it writes to.
struct DatasetContext {
  Dataset dataset;
  bool writable = false;
  bool touched = false;
  // The values as they are now, by (measure, category). A map: pending writes point into it.
  std::map<std::pair<std::string, std::string>, StoredValue> current;
  int previous_year = 0;
  std::map<std::pair<std::string, std::string>, double> previous;
};

// Applies rows in one transaction. Writes are queued and sent in multi-row statements; the
// change log rows go with them, numbered from the counters row, which the first change takes
// and holds until commit (so seq order stays commit order, see schema.cc).
class RowApplier {
 public:
  RowApplier(Connection& conn, const Catalog& catalog,
             const std::map<std::string, std::string>& countries, const WriteOrigin& origin,
             bool strict, int64_t now)
      : conn_(conn),
        catalog_(catalog),
        countries_(countries),
        origin_(origin),
        strict_(strict),
        now_(now) {}

  // The keys of the rows applied (stored, removed or found unchanged) by Apply, in order:
  // what a replace-scope job has sent. They point into Apply's rows.
  const std::vector<const ValueKey*>& accepted() const { return accepted_; }

  absl::Status Apply(std::span<const NumberedWrite> rows, WriteOutcome& out) {
    for (const NumberedWrite& row : rows) {
      const ValueKey& key = row.write.key;
      GNLC_ASSIGN_OR_RETURN(DatasetContext * ctx,
                            Context(key.city_id, key.year, /*create=*/!row.write.remove));
      if (ctx == nullptr) {  // removing from a dataset that does not exist
        ++out.unchanged;
        accepted_.push_back(&key);
        continue;
      }
      if (!ctx->writable) {
        std::string message = absl::StrCat(
            key.DatasetName(), " is ", StateName(ctx->dataset.state),
            "; values change only in a draft (open a revision of a published dataset)");
        if (strict_) {
          return PreconditionError("DATASET_LOCKED", message,
                                   {{"DATASET_STATE", key.DatasetName(), message}});
        }
        Reject(out.rejections, "DATASET_LOCKED", row.row, message);
        ++out.rejected;
        continue;
      }
      if (row.write.remove) {
        GNLC_RETURN_IF_ERROR(Remove(*ctx, key, out));
      } else {
        GNLC_RETURN_IF_ERROR(Store(*ctx, row.write, out));
      }
      accepted_.push_back(&key);
    }
    GNLC_RETURN_IF_ERROR(Flush());
    for (auto& [id, ctx] : contexts_) {
      if (!ctx.touched) continue;
      GNLC_RETURN_IF_ERROR(conn_
                               .Execute("UPDATE datasets SET etag = etag + 1, updated_at_us = $3 "
                                        "WHERE city_id = $1 AND year = $2",
                                        {id.first, int64_t{id.second}, now_})
                               .status());
    }
    if (next_seq_ > 0) {
      GNLC_RETURN_IF_ERROR(
          conn_.Execute("UPDATE counters SET value = $1 WHERE name = 'changes'", {next_seq_ - 1})
              .status());
    }
    return absl::OkStatus();
  }

 private:
  // A queued write: the value (in its context's `current`) to upsert and log.
  struct Pending {
    const DatasetContext* ctx;
    const StoredValue* value;
  };

  // The context of a dataset, read (and locked) on first use. Without `create`, nullptr when
  // the dataset does not exist: removing a value of a dataset nobody wrote creates nothing.
  absl::StatusOr<DatasetContext*> Context(const std::string& city_id, int year, bool create) {
    auto id = std::make_pair(city_id, year);
    if (auto it = contexts_.find(id); it != contexts_.end()) return &it->second;
    DatasetContext ctx;
    GNLC_ASSIGN_OR_RETURN(auto existing, LockDataset(conn_, city_id, year));
    if (!existing && !create) return nullptr;
    if (!existing) {
      // The first value written to a city's year creates its dataset, as a draft. Another
      // writer may create it at the same moment: whoever inserts first, both then lock it.
      auto country = countries_.find(city_id);
      if (country == countries_.end()) {
        return absl::InternalError(absl::StrCat("no country given for city ", city_id));
      }
      GNLC_ASSIGN_OR_RETURN(
          int64_t inserted,
          conn_.Execute(
              "INSERT INTO datasets (city_id, year, country_code, state, revision, "
              "published_revision, etag, return_comment, created_at_us, updated_at_us) "
              "VALUES ($1, $2, $3, $4, 1, 0, 1, '', $5, $5) "
              "ON CONFLICT (city_id, year) DO NOTHING",
              {city_id, int64_t{year}, country->second, int64_t(DatasetState::kDraft), now_}));
      GNLC_ASSIGN_OR_RETURN(existing, LockDataset(conn_, city_id, year));
      if (!existing) return absl::InternalError("a dataset vanished while it was created");
      if (inserted == 1) {
        GNLC_RETURN_IF_ERROR(AddReviewStep(conn_, *existing, "created", origin_.actor, "", now_));
      }
    }
    ctx.dataset = *existing;
    ctx.writable = ctx.dataset.state == DatasetState::kDraft;
    if (ctx.writable) {
      GNLC_ASSIGN_OR_RETURN(auto rows,
                            conn_.Query(absl::StrCat("SELECT ", kValueColumns,
                                                     " FROM dataset_values WHERE city_id = $1 AND "
                                                     "year = $2"),
                                        {city_id, int64_t{year}}));
      for (const Row& r : rows) {
        StoredValue v = ValueFromRow(r);
        ctx.current[{v.key.measure, v.key.category}] = std::move(v);
      }
      // The city's own history: its latest earlier dataset.
      GNLC_ASSIGN_OR_RETURN(auto prev, conn_.Query("SELECT MAX(year) FROM datasets WHERE "
                                                   "city_id = $1 AND year < $2",
                                                   {city_id, int64_t{year}}));
      if (!prev.empty() && !prev[0].IsNull(0)) {
        ctx.previous_year = static_cast<int>(prev[0].Int(0));
        if (auto in_memory = contexts_.find({city_id, ctx.previous_year});
            in_memory != contexts_.end() && in_memory->second.writable) {
          // Written in this transaction, perhaps still queued: the context knows it as it is.
          for (const auto& [slot, v] : in_memory->second.current) {
            if (v.value) ctx.previous[slot] = *v.value;
          }
        } else {
          GNLC_ASSIGN_OR_RETURN(
              auto prev_rows,
              conn_.Query("SELECT measure, category, value FROM dataset_values WHERE city_id = "
                          "$1 AND year = $2 AND value IS NOT NULL",
                          {city_id, int64_t{ctx.previous_year}}));
          for (const Row& r : prev_rows) ctx.previous[{r.Text(0), r.Text(1)}] = r.Real(2);
        }
      }
    }
    return &contexts_.emplace(id, std::move(ctx)).first->second;
  }

  // The next change number; the first call takes the counters row for this transaction.
  absl::StatusOr<int64_t> NextSeq() {
    if (next_seq_ == 0) {
      GNLC_ASSIGN_OR_RETURN(auto rows, conn_.Query("UPDATE counters SET value = value WHERE name = "
                                                   "'changes' RETURNING value"));
      if (rows.empty()) return absl::InternalError("the changes counter row is missing");
      next_seq_ = rows[0].Int(0) + 1;
    }
    return next_seq_++;
  }

  absl::Status Remove(DatasetContext& ctx, const ValueKey& key, WriteOutcome& out) {
    auto it = ctx.current.find({key.measure, key.category});
    if (it == ctx.current.end()) {
      ++out.unchanged;
      return absl::OkStatus();
    }
    GNLC_RETURN_IF_ERROR(Flush());  // the value may be a pending write
    GNLC_RETURN_IF_ERROR(conn_
                             .Execute("DELETE FROM dataset_values WHERE city_id = $1 AND year = "
                                      "$2 AND measure = $3 AND category = $4",
                                      {key.city_id, int64_t{key.year}, key.measure, key.category})
                             .status());
    GNLC_ASSIGN_OR_RETURN(int64_t seq, NextSeq());
    ChangeRow change{seq,         ChangeKind::kValueRemoved,
                     key.city_id, ctx.dataset.country,
                     key.measure, key.category,
                     key.year,    ctx.dataset.revision,
                     nullptr};
    GNLC_RETURN_IF_ERROR(
        InsertChangeRows(conn_, {&change, 1}, origin_.actor, origin_.origin, "", now_));
    ctx.current.erase(it);
    ctx.touched = true;
    ++out.removed;
    return absl::OkStatus();
  }

  absl::Status Store(DatasetContext& ctx, const ValueWrite& w, WriteOutcome& out) {
    const Measure* measure = catalog_.FindMeasure(w.key.measure);
    if (measure == nullptr) return absl::InternalError("row was not checked against the catalog");
    auto slot = std::make_pair(w.key.measure, w.key.category);
    auto existing = ctx.current.find(slot);
    StoredValue v{w.key,         w.flags.not_applicable ? std::nullopt : w.value,
                  w.flags,       w.source,
                  w.comment,     {},
                  origin_.actor, now_};
    if (existing != ctx.current.end() && existing->second.SameContent(v)) {
      ++out.unchanged;
      if (strict_) out.stored.push_back(existing->second);
      return absl::OkStatus();
    }
    std::map<std::string, double> siblings;
    if (measure->disaggregation == Disaggregation::kSex) {
      for (const auto& category : CategoriesOf(Disaggregation::kSex)) {
        auto sibling = ctx.current.find({w.key.measure, category});
        if (sibling != ctx.current.end() && sibling->second.value) {
          siblings[category] = *sibling->second.value;
        }
      }
      if (v.value) {
        siblings[w.key.category] = *v.value;
      } else {
        siblings.erase(w.key.category);
      }
    }
    std::optional<std::pair<int, double>> previous;
    if (auto p = ctx.previous.find(slot); p != ctx.previous.end()) {
      previous = std::make_pair(ctx.previous_year, p->second);
    }
    v.warnings = WarningsFor(catalog_, *measure, v, siblings, previous);
    out.warnings += static_cast<int64_t>(v.warnings.size());
    ++out.applied;
    ctx.touched = true;
    if (strict_) out.stored.push_back(v);  // unary writes answer with the values; batches count
    if (existing != ctx.current.end()) {
      // A second write of a key in one batch: the first must be written before it is replaced.
      if (queued_.contains(&existing->second)) GNLC_RETURN_IF_ERROR(Flush());
      existing->second = std::move(v);
    } else {
      existing = ctx.current.emplace(slot, std::move(v)).first;
    }
    return Queue({&ctx, &existing->second});
  }

  absl::Status Queue(Pending pending) {
    // PostgreSQL refuses one statement that upserts a row twice.
    if (!queued_.insert(pending.value).second) {
      GNLC_RETURN_IF_ERROR(Flush());
      queued_.insert(pending.value);
    }
    pending_.push_back(pending);
    return absl::OkStatus();
  }

  // Sends the queued upserts and their change rows.
  absl::Status Flush() {
    if (pending_.empty()) return absl::OkStatus();
    constexpr absl::string_view kHead =
        "INSERT INTO dataset_values (city_id, year, measure, category, country_code, value, "
        "flags, source, comment, warnings, stored_by, stored_at_us)";
    constexpr absl::string_view kUpsert =
        " ON CONFLICT (city_id, year, measure, category) DO UPDATE SET value = excluded.value, "
        "flags = excluded.flags, source = excluded.source, comment = excluded.comment, "
        "warnings = excluded.warnings, stored_by = excluded.stored_by, stored_at_us = "
        "excluded.stored_at_us";
    constexpr size_t kWidth = 12;
    std::vector<Value> params;
    std::vector<std::string> warnings;  // encoded, alive until each statement ran
    std::vector<ChangeRow> changes;
    for (size_t first = 0; first < pending_.size(); first += kRowsPerStatement) {
      size_t n = std::min(kRowsPerStatement, pending_.size() - first);
      params.clear();
      params.reserve(n * kWidth);
      warnings.clear();
      warnings.reserve(n);
      for (size_t i = first; i < first + n; ++i) {
        const Pending& p = pending_[i];
        const StoredValue& v = *p.value;
        warnings.push_back(EncodeWarnings(v.warnings));
        params.insert(
            params.end(),
            {TextRef{v.key.city_id}, int64_t{v.key.year}, TextRef{v.key.measure},
             TextRef{v.key.category}, TextRef{p.ctx->dataset.country}, OptionalReal(v.value),
             int64_t{v.flags.Bits()}, TextRef{v.source}, TextRef{v.comment},
             TextRef{warnings.back()}, TextRef{v.stored_by}, v.stored_at_us});
        GNLC_ASSIGN_OR_RETURN(int64_t seq, NextSeq());
        changes.push_back({seq, ChangeKind::kValueWritten, v.key.city_id, p.ctx->dataset.country,
                           v.key.measure, v.key.category, v.key.year, p.ctx->dataset.revision, &v});
      }
      GNLC_RETURN_IF_ERROR(
          conn_.Execute(MultiRowInsert(kHead, kWidth, n, kUpsert), params).status());
    }
    GNLC_RETURN_IF_ERROR(InsertChangeRows(conn_, changes, origin_.actor, origin_.origin, "", now_));
    pending_.clear();
    queued_.clear();
    return absl::OkStatus();
  }

  Connection& conn_;
  const Catalog& catalog_;
  const std::map<std::string, std::string>& countries_;
  const WriteOrigin& origin_;
  const bool strict_;
  const int64_t now_;
  std::map<std::pair<std::string, int>, DatasetContext> contexts_;
  std::vector<Pending> pending_;
  absl::flat_hash_set<const StoredValue*> queued_;
  std::vector<const ValueKey*> accepted_;
  int64_t next_seq_ = 0;  // 0: the counters row is not taken yet
};

absl::StatusOr<std::optional<std::string>> FindAnswer(Connection& conn, const Idempotency& idem,
                                                      absl::string_view method) {
  if (idem.request_id.empty()) return std::nullopt;
  GNLC_ASSIGN_OR_RETURN(auto rows, conn.Query("SELECT method, fingerprint, answer FROM idempotency "
                                              "WHERE principal = $1 AND request_id = $2",
                                              {idem.principal, idem.request_id}));
  if (rows.empty()) return std::nullopt;
  if (rows[0].Text(0) != method || rows[0].Text(1) != idem.fingerprint) {
    return InvalidArgumentError(
        {{"request_id", absl::StrCat("'", idem.request_id,
                                     "' was already used for a different request; use a new "
                                     "request_id for a new request")}});
  }
  return rows[0].Text(2);
}

std::string NewJobId() {
  unsigned char bytes[8];
  randombytes_buf(bytes, sizeof bytes);
  return absl::StrCat("job-",
                      absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(bytes), 8)));
}

json ScopeJson(const ImportJob& job) {
  return {{"cities", job.scope_cities}, {"years", job.scope_years}};
}

// Records the keys a replace-scope job sent (once each).
absl::Status RecordJobKeys(Connection& conn, const std::string& job_id,
                           const std::vector<const ValueKey*>& keys) {
  constexpr absl::string_view kHead =
      "INSERT INTO import_job_keys (job_id, city_id, year, measure, category)";
  constexpr absl::string_view kOnce =
      " ON CONFLICT (job_id, city_id, year, measure, category) DO NOTHING";
  constexpr size_t kWidth = 5;
  using Key = std::tuple<std::string_view, int, std::string_view, std::string_view>;
  // One statement must not name a key twice (PostgreSQL), so keys are deduplicated first.
  std::set<Key> unique;
  for (const ValueKey* k : keys) unique.insert({k->city_id, k->year, k->measure, k->category});
  std::vector<Key> all(unique.begin(), unique.end());
  std::vector<Value> params;
  for (size_t first = 0; first < all.size(); first += kRowsPerStatement) {
    size_t n = std::min(kRowsPerStatement, all.size() - first);
    params.clear();
    for (size_t i = first; i < first + n; ++i) {
      const auto& [city, year, measure, category] = all[i];
      params.insert(params.end(), {TextRef{job_id}, TextRef{city}, int64_t{year}, TextRef{measure},
                                   TextRef{category}});
    }
    GNLC_RETURN_IF_ERROR(conn.Execute(MultiRowInsert(kHead, kWidth, n, kOnce), params).status());
  }
  return absl::OkStatus();
}

absl::StatusOr<ImportJob> LoadJob(Connection& conn, const std::string& job_id) {
  GNLC_ASSIGN_OR_RETURN(auto rows,
                        conn.Query("SELECT job_id, owner, mode, scope, dry_run, description, "
                                   "state, summary, created_at_us, updated_at_us FROM "
                                   "import_jobs WHERE job_id = $1",
                                   {job_id}));
  if (rows.empty()) return NotFound("import job", absl::StrCat("importJobs/", job_id));
  const Row& r = rows[0];
  ImportJob job;
  job.job_id = r.Text(0);
  job.owner = r.Text(1);
  job.mode = static_cast<SyncMode>(r.Int(2));
  json scope = json::parse(r.Text(3), nullptr, false);
  if (scope.is_object()) {
    job.scope_cities = scope.value("cities", std::vector<std::string>{});
    job.scope_years = scope.value("years", std::vector<int>{});
  }
  job.dry_run = r.Bool(4);
  job.description = r.Text(5);
  job.state = static_cast<JobState>(r.Int(6));
  job.summary = DecodeSummary(r.Text(7));
  job.created_at_us = r.Int(8);
  job.updated_at_us = r.Int(9);
  GNLC_ASSIGN_OR_RETURN(auto batches, conn.Query("SELECT batch_id FROM import_batches WHERE "
                                                 "job_id = $1 ORDER BY ordinal",
                                                 {job_id}));
  for (const Row& b : batches) job.batches.push_back(b.Text(0));
  return job;
}

}  // namespace

void ImportCounts::Add(const ImportCounts& other) {
  rows += other.rows;
  applied += other.applied;
  unchanged += other.unchanged;
  rejected += other.rejected;
  warnings += other.warnings;
  MergeRejections(rejections, other.rejections);
}

absl::Status IndicatorStore::Migrate() { return sql::ApplyMigrations(db_, IndicatorMigrations()); }

absl::StatusOr<WriteOutcome> IndicatorStore::WriteValues(
    std::span<const NumberedWrite> rows, const std::map<std::string, std::string>& countries,
    const WriteOrigin& origin, bool strict, const Idempotency& idem,
    const std::function<std::string(const WriteOutcome&)>& encode) {
  WriteOutcome out;
  int64_t now = NowMicros();
  absl::Status st = db_.Write([&](Connection& conn) -> absl::Status {
    out = WriteOutcome();
    if (!idem.request_id.empty()) {
      GNLC_ASSIGN_OR_RETURN(auto answered, FindAnswer(conn, idem, "WriteValues"));
      if (answered) {
        return ErrorWithReason(absl::StatusCode::kAlreadyExists, "REQUEST_REPLAYED",
                               "this request_id was already answered");
      }
    }
    RowApplier applier(conn, catalog_, countries, origin, strict, now);
    GNLC_RETURN_IF_ERROR(applier.Apply(rows, out));
    if (!idem.request_id.empty() && encode) {
      absl::Status recorded =
          conn.Execute(
                  "INSERT INTO idempotency (principal, request_id, method, "
                  "fingerprint, answer, created_at_us) VALUES ($1, $2, "
                  "'WriteValues', $3, $4, $5)",
                  {idem.principal, idem.request_id, idem.fingerprint, encode(out), now})
              .status();
      if (recorded.code() == absl::StatusCode::kAlreadyExists) {
        // A concurrent retry of this request committed first: this one writes nothing.
        return ErrorWithReason(absl::StatusCode::kAlreadyExists, "REQUEST_REPLAYED",
                               "this request_id was already answered");
      }
      GNLC_RETURN_IF_ERROR(recorded);
    }
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  return out;
}

absl::StatusOr<std::optional<std::string>> IndicatorStore::RecordedAnswer(
    const Idempotency& idem, absl::string_view method) {
  std::optional<std::string> answer;
  GNLC_RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(answer, FindAnswer(conn, idem, method));
    return absl::OkStatus();
  }));
  return answer;
}

absl::StatusOr<Dataset> IndicatorStore::GetDataset(const std::string& city_id, int year) {
  Dataset out;
  GNLC_RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(auto d, LoadDataset(conn, city_id, year));
    if (!d) return NotFound("dataset", ValueKey{city_id, year, "", ""}.DatasetName());
    out = *d;
    for (bool published : {false, true}) {
      GNLC_ASSIGN_OR_RETURN(
          auto counts,
          conn.Query(absl::StrCat("SELECT COUNT(*), COALESCE(SUM(CASE WHEN warnings = '' THEN 0 "
                                  "ELSE 1 END), 0) FROM ",
                                  published ? "published_values" : "dataset_values",
                                  " WHERE city_id = $1 AND year = $2"),
                     {city_id, int64_t{year}}));
      (published ? out.published_value_count : out.value_count) =
          static_cast<int>(counts[0].Int(0));
      (published ? out.published_warning_count : out.warning_count) =
          static_cast<int>(counts[0].Int(1));
    }
    GNLC_ASSIGN_OR_RETURN(auto steps,
                          conn.Query("SELECT action, state, revision, actor, comment, at_us FROM "
                                     "review_steps WHERE city_id = $1 AND year = $2 ORDER BY step",
                                     {city_id, int64_t{year}}));
    for (const Row& r : steps) {
      out.history.push_back({r.Text(0), static_cast<DatasetState>(r.Int(1)),
                             static_cast<int>(r.Int(2)), r.Text(3), r.Text(4), r.Int(5)});
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<Dataset>> IndicatorStore::ListDatasets(const DatasetFilter& f) {
  // The value and warning counts of each dataset come along, as GetDataset gives them.
  std::string sql = absl::StrCat(
      "SELECT ", kDatasetColumns,
      ", (SELECT COUNT(*) FROM dataset_values v WHERE v.city_id = datasets.city_id AND v.year = "
      "datasets.year), (SELECT COUNT(*) FROM dataset_values v WHERE v.city_id = "
      "datasets.city_id AND v.year = datasets.year AND v.warnings <> ''), (SELECT COUNT(*) FROM "
      "published_values v WHERE v.city_id = datasets.city_id AND v.year = datasets.year), "
      "(SELECT COUNT(*) FROM published_values v WHERE v.city_id = datasets.city_id AND v.year = "
      "datasets.year AND v.warnings <> '') FROM datasets WHERE 1 = 1");
  std::vector<Value> params;
  auto param = [&](Value v) {
    params.push_back(std::move(v));
    return absl::StrCat("$", params.size());
  };
  if (!f.city_id.empty()) absl::StrAppend(&sql, " AND city_id = ", param(f.city_id));
  if (!f.country.empty()) absl::StrAppend(&sql, " AND country_code = ", param(f.country));
  if (f.year != 0) absl::StrAppend(&sql, " AND year = ", param(int64_t{f.year}));
  if (f.state != DatasetState::kUnspecified) {
    absl::StrAppend(&sql, " AND state = ", param(int64_t(f.state)));
  }
  if (f.published_only || !f.scope_country.empty() || !f.scope_city.empty()) {
    absl::StrAppend(&sql, " AND (published_revision > 0");
    if (!f.scope_country.empty()) {
      absl::StrAppend(&sql, " OR country_code = ", param(f.scope_country));
    }
    if (!f.scope_city.empty()) absl::StrAppend(&sql, " OR city_id = ", param(f.scope_city));
    absl::StrAppend(&sql, ")");
  }
  if (!f.after_city.empty()) {
    // One placeholder per use: the order StrAppend evaluates its arguments in is unspecified.
    std::string after_city = param(f.after_city);
    std::string same_city = param(f.after_city);
    std::string after_year = param(int64_t{f.after_year});
    absl::StrAppend(&sql, " AND (city_id > ", after_city, " OR (city_id = ", same_city,
                    " AND year > ", after_year, "))");
  }
  absl::StrAppend(&sql, " ORDER BY city_id, year LIMIT ", param(int64_t{f.limit}));
  std::vector<Dataset> out;
  GNLC_RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(auto rows, conn.Query(sql, params));
    for (const Row& r : rows) {
      out.push_back(DatasetFromRow(r));
      out.back().value_count = static_cast<int>(r.Int(10));
      out.back().warning_count = static_cast<int>(r.Int(11));
      out.back().published_value_count = static_cast<int>(r.Int(12));
      out.back().published_warning_count = static_cast<int>(r.Int(13));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<Dataset> IndicatorStore::Step(const std::string& city_id, int year,
                                             DatasetAction action, const std::string& actor,
                                             const std::string& comment,
                                             std::optional<int64_t> etag) {
  int64_t now = NowMicros();
  const DatasetStep& step = StepOf(action);
  GNLC_RETURN_IF_ERROR(db_.Write([&](Connection& conn) -> absl::Status {
    std::string name = ValueKey{city_id, year, "", ""}.DatasetName();
    GNLC_ASSIGN_OR_RETURN(auto found, LockDataset(conn, city_id, year));
    if (!found) return NotFound("dataset", name);
    Dataset d = *found;
    if (etag && *etag != d.etag) {
      return ErrorWithReason(absl::StatusCode::kAborted, "ETAG_MISMATCH",
                             absl::StrCat(name, " was changed by someone else (now at etag r",
                                          d.etag, "); read it again and retry"),
                             {{"resource", name}, {"etag", absl::StrCat("r", d.etag)}});
    }
    GNLC_ASSIGN_OR_RETURN(DatasetState next, NextDatasetState(d.state, action));
    if (action == DatasetAction::kSubmit) {
      GNLC_ASSIGN_OR_RETURN(auto count, conn.Query("SELECT COUNT(*) FROM dataset_values WHERE "
                                                   "city_id = $1 AND year = $2",
                                                   {city_id, int64_t{year}}));
      if (count[0].Int(0) == 0) {
        return PreconditionError("DATASET_EMPTY", absl::StrCat(name, " has no values to submit"),
                                 {{"DATASET_EMPTY", name, "store at least one value first"}});
      }
    }
    d.state = next;
    switch (action) {
      case DatasetAction::kSubmit:
        d.return_comment.clear();
        break;
      case DatasetAction::kReturn:
        d.return_comment = comment;
        break;
      case DatasetAction::kPublish:
        d.published_revision = d.revision;
        GNLC_RETURN_IF_ERROR(conn.Execute("DELETE FROM published_values WHERE city_id = $1 AND "
                                          "year = $2",
                                          {city_id, int64_t{year}})
                                 .status());
        GNLC_RETURN_IF_ERROR(
            conn.Execute(absl::StrCat("INSERT INTO published_values (", kValueColumns,
                                      ", country_code) SELECT ", kValueColumns,
                                      ", country_code FROM dataset_values WHERE city_id = $1 AND "
                                      "year = $2"),
                         {city_id, int64_t{year}})
                .status());
        break;
      case DatasetAction::kUnpublish:
        d.published_revision = 0;
        GNLC_RETURN_IF_ERROR(conn.Execute("DELETE FROM published_values WHERE city_id = $1 AND "
                                          "year = $2",
                                          {city_id, int64_t{year}})
                                 .status());
        break;
      case DatasetAction::kOpenRevision:
        ++d.revision;
        break;
      case DatasetAction::kValidate:
        break;
    }
    ++d.etag;
    d.updated_at_us = now;
    GNLC_RETURN_IF_ERROR(
        conn.Execute("UPDATE datasets SET state = $3, revision = $4, published_revision = $5, "
                     "etag = $6, return_comment = $7, updated_at_us = $8 WHERE city_id = $1 AND "
                     "year = $2",
                     {city_id, int64_t{year}, int64_t(d.state), int64_t{d.revision},
                      int64_t{d.published_revision}, d.etag, d.return_comment, now})
            .status());
    GNLC_RETURN_IF_ERROR(AddReviewStep(conn, d, step.done, actor, comment, now));
    std::vector<Change> changes(1);
    Change& c = changes[0];
    c.kind = step.change;
    c.city_id = city_id;
    c.country = d.country;
    c.year = year;
    c.revision = d.revision;
    c.actor = actor;
    c.comment = comment;
    c.at_us = now;
    return AppendChanges(conn, changes);
  }));
  return GetDataset(city_id, year);
}

absl::StatusOr<std::vector<StoredValue>> IndicatorStore::ListValues(const ValueFilter& f) {
  std::string table = f.working_copy ? "dataset_values" : "published_values";
  std::string sql = absl::StrCat("SELECT ", kValueColumns, " FROM ", table, " WHERE 1 = 1");
  std::vector<Value> params;
  auto param = [&](Value v) {
    params.push_back(std::move(v));
    return absl::StrCat("$", params.size());
  };
  if (!f.city_id.empty()) absl::StrAppend(&sql, " AND city_id = ", param(f.city_id));
  if (!f.country.empty())
    absl::StrAppend(&sql, " AND city_id IN (SELECT city_id FROM datasets WHERE country_code = ",
                    param(f.country), ")");
  if (f.year != 0) absl::StrAppend(&sql, " AND year = ", param(int64_t{f.year}));
  if (!f.measures.empty()) {
    std::vector<std::string> in;
    for (const auto& m : f.measures) in.push_back(param(m));
    absl::StrAppend(&sql, " AND measure IN (", absl::StrJoin(in, ", "), ")");
  }
  if (!f.scope_country.empty())
    absl::StrAppend(&sql, " AND city_id IN (SELECT city_id FROM datasets WHERE country_code = ",
                    param(f.scope_country), ")");
  if (!f.scope_city.empty()) absl::StrAppend(&sql, " AND city_id = ", param(f.scope_city));
  if (!f.confidential_everywhere) {
    absl::StrAppend(&sql, " AND ((flags & 8) = 0");
    if (!f.confidential_country.empty()) {
      absl::StrAppend(&sql, " OR country_code = ", param(f.confidential_country));
    }
    if (!f.confidential_city.empty()) {
      absl::StrAppend(&sql, " OR city_id = ", param(f.confidential_city));
    }
    absl::StrAppend(&sql, ")");
  }
  if (f.after) {
    absl::StrAppend(&sql, " AND (city_id, year, measure, category) > (", param(f.after->city_id),
                    ", ", param(int64_t{f.after->year}), ", ", param(f.after->measure), ", ",
                    param(f.after->category), ")");
  }
  absl::StrAppend(&sql, " ORDER BY city_id, year, measure, category LIMIT ",
                  param(int64_t{f.limit}));
  std::vector<StoredValue> out;
  GNLC_RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(auto rows, conn.Query(sql, params));
    out.reserve(rows.size());
    for (const Row& r : rows) out.push_back(ValueFromRow(r));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<Change>> IndicatorStore::ValueHistory(const ValueKey& key) {
  std::vector<Change> out;
  GNLC_RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(
        auto rows, conn.Query(absl::StrCat("SELECT ", kChangeColumns,
                                           " FROM changes WHERE city_id = $1 AND year = $2 AND "
                                           "measure = $3 AND category = $4 AND kind IN (1, 2) "
                                           "ORDER BY seq"),
                              {key.city_id, int64_t{key.year}, key.measure, key.category}));
    // Each change replaced what the one before it left.
    std::optional<StoredValue> before;
    for (const Row& r : rows) {
      Change c = ChangeFromRow(r);
      c.old_value = std::move(before);
      before = c.new_value;
      out.push_back(std::move(c));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<StoredValue>> IndicatorStore::DatasetAsOf(const std::string& city_id,
                                                                     int year, int64_t at_us) {
  std::map<std::pair<std::string, std::string>, StoredValue> state;
  GNLC_RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(auto rows,
                          conn.Query(absl::StrCat("SELECT ", kChangeColumns,
                                                  " FROM changes WHERE city_id = $1 AND year = "
                                                  "$2 AND kind IN (1, 2) AND at_us <= $3 ORDER "
                                                  "BY seq"),
                                     {city_id, int64_t{year}, at_us}));
    for (const Row& r : rows) {
      Change c = ChangeFromRow(r);
      auto slot = std::make_pair(c.measure, c.category);
      if (c.new_value) {
        state[slot] = *c.new_value;
      } else {
        state.erase(slot);
      }
    }
    return absl::OkStatus();
  }));
  std::vector<StoredValue> out;
  for (auto& [slot, v] : state) out.push_back(std::move(v));
  return out;
}

absl::StatusOr<IndicatorStore::ChangePage> IndicatorStore::ListChanges(const ChangeFilter& f) {
  std::string sql = absl::StrCat("SELECT ", kChangeColumns, " FROM changes WHERE seq > $1");
  std::vector<Value> params = {f.after_seq};
  auto param = [&](Value v) {
    params.push_back(std::move(v));
    return absl::StrCat("$", params.size());
  };
  if (!f.city_id.empty()) absl::StrAppend(&sql, " AND city_id = ", param(f.city_id));
  if (!f.country.empty()) absl::StrAppend(&sql, " AND country_code = ", param(f.country));
  if (f.published_only || !f.scope_country.empty() || !f.scope_city.empty()) {
    absl::StrAppend(&sql, " AND (kind IN (", int(ChangeKind::kDatasetPublished), ", ",
                    int(ChangeKind::kDatasetUnpublished), ")");
    if (!f.scope_country.empty()) {
      absl::StrAppend(&sql, " OR country_code = ", param(f.scope_country));
    }
    if (!f.scope_city.empty()) absl::StrAppend(&sql, " OR city_id = ", param(f.scope_city));
    absl::StrAppend(&sql, ")");
  }
  absl::StrAppend(&sql, " ORDER BY seq LIMIT ", param(int64_t{f.limit}));
  ChangePage page;
  page.scanned_to = f.after_seq;
  GNLC_RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(auto rows, conn.Query(sql, params));
    for (const Row& r : rows) page.changes.push_back(ChangeFromRow(r));
    if (static_cast<int>(rows.size()) == f.limit) {
      page.scanned_to = page.changes.back().seq;  // a full page: more may match beyond it
      return absl::OkStatus();
    }
    // Not full: everything up to the newest change in this snapshot was read. Seq order is
    // commit order, so no change at or below it can commit later.
    GNLC_ASSIGN_OR_RETURN(auto newest, conn.Query("SELECT MAX(seq) FROM changes"));
    if (!newest.empty() && !newest[0].IsNull(0)) {
      page.scanned_to = std::max(page.scanned_to, newest[0].Int(0));
    }
    return absl::OkStatus();
  }));
  return page;
}

absl::StatusOr<int64_t> IndicatorStore::LatestChangeSeq() {
  int64_t seq = 0;
  GNLC_RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(auto rows,
                          conn.Query("SELECT value FROM counters WHERE name = 'changes'"));
    if (!rows.empty()) seq = rows[0].Int(0);
    return absl::OkStatus();
  }));
  return seq;
}

// --- Import jobs ----------------------------------------------------------------------------

absl::StatusOr<ImportJob> IndicatorStore::CreateJob(ImportJob job) {
  job.job_id = NewJobId();
  job.state = JobState::kOpen;
  job.created_at_us = job.updated_at_us = NowMicros();
  GNLC_RETURN_IF_ERROR(db_.Write([&](Connection& conn) -> absl::Status {
    return conn
        .Execute(
            "INSERT INTO import_jobs (job_id, owner, mode, scope, dry_run, description, "
            "state, summary, created_at_us, updated_at_us) VALUES ($1, $2, $3, $4, $5, $6, "
            "$7, $8, $9, $9)",
            {job.job_id, job.owner, int64_t(job.mode), ScopeJson(job).dump(), int64_t{job.dry_run},
             job.description, int64_t(job.state), EncodeSummary(job.summary), job.created_at_us})
        .status();
  }));
  return job;
}

absl::StatusOr<ImportJob> IndicatorStore::GetJob(const std::string& job_id) {
  ImportJob job;
  GNLC_RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(job, LoadJob(conn, job_id));
    return absl::OkStatus();
  }));
  return job;
}

absl::StatusOr<std::vector<ImportJob>> IndicatorStore::ListJobs(const std::string& owner,
                                                                const std::string& after_job_id,
                                                                int limit) {
  std::vector<ImportJob> out;
  GNLC_RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(
        auto rows, conn.Query("SELECT job_id FROM import_jobs WHERE (owner = $1 OR $1 = '') AND "
                              "job_id > $2 ORDER BY job_id LIMIT $3",
                              {owner, after_job_id, int64_t{limit}}));
    for (const Row& r : rows) {
      GNLC_ASSIGN_OR_RETURN(ImportJob job, LoadJob(conn, r.Text(0)));
      out.push_back(std::move(job));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<BatchResult> IndicatorStore::ApplyBatch(
    const ImportJob& job, const std::string& batch_id, const std::string& fingerprint,
    int64_t row_count, std::span<const NumberedWrite> rows, const Rejections& pre_rejected,
    const std::map<std::string, std::string>& countries, const std::string& actor) {
  BatchResult result;
  int64_t now = NowMicros();
  WriteOrigin origin{actor, absl::StrCat("importJobs/", job.job_id, "/batches/", batch_id)};
  // A batch seen before answers with its recorded result.
  auto replay = [&](Connection& conn, bool& found) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(auto seen, conn.Query("SELECT fingerprint, result FROM import_batches "
                                                "WHERE job_id = $1 AND batch_id = $2",
                                                {job.job_id, batch_id}));
    found = !seen.empty();
    if (!found) return absl::OkStatus();
    if (seen[0].Text(0) != fingerprint) {
      return InvalidArgumentError(
          {{"batch.batch_id",
            absl::StrCat("batch '", batch_id,
                         "' was already applied with different rows; a batch id names one "
                         "batch for the life of its job")}});
    }
    result = DecodeBatch(seen[0].Text(1));
    result.replayed = true;
    return absl::OkStatus();
  };
  absl::Status st = db_.Write([&](Connection& conn) -> absl::Status {
    result = BatchResult();
    bool seen = false;
    GNLC_RETURN_IF_ERROR(replay(conn, seen));
    if (seen) return absl::OkStatus();
    GNLC_ASSIGN_OR_RETURN(ImportJob current, LoadJob(conn, job.job_id));
    if (current.state != JobState::kOpen) {
      return PreconditionError("JOB_CLOSED",
                               absl::StrCat("importJobs/", job.job_id, " is already committed"),
                               {{"JOB_STATE", absl::StrCat("importJobs/", job.job_id),
                                 "start a new job to send more batches"}});
    }
    WriteOutcome outcome;
    RowApplier applier(conn, catalog_, countries, origin, /*strict=*/false, now);
    if (job.dry_run) {
      // Apply for real inside a savepoint, then undo: the checks and warnings are exact.
      GNLC_RETURN_IF_ERROR(conn.Execute("SAVEPOINT dry_run").status());
      GNLC_RETURN_IF_ERROR(applier.Apply(rows, outcome));
      GNLC_RETURN_IF_ERROR(conn.Execute("ROLLBACK TO SAVEPOINT dry_run").status());
      GNLC_RETURN_IF_ERROR(conn.Execute("RELEASE SAVEPOINT dry_run").status());
    } else {
      GNLC_RETURN_IF_ERROR(applier.Apply(rows, outcome));
    }
    if (job.mode == SyncMode::kReplaceScope) {
      // What the job sent, kept (for a dry run too) so that its commit removes only the rest.
      GNLC_RETURN_IF_ERROR(RecordJobKeys(conn, job.job_id, applier.accepted()));
    }
    result.batch_id = batch_id;
    result.rows = row_count;
    result.applied = outcome.applied + outcome.removed;
    result.unchanged = outcome.unchanged;
    result.warnings = outcome.warnings;
    result.rejections = pre_rejected;
    MergeRejections(result.rejections, outcome.rejections);
    for (const auto& [code, r] : result.rejections) result.rejected += r.rows.size();

    JobSummary& s = current.summary;
    ++s.batches;
    s.Add(result);
    GNLC_RETURN_IF_ERROR(
        conn.Execute("INSERT INTO import_batches (job_id, batch_id, ordinal, fingerprint, "
                     "result, acked_at_us) VALUES ($1, $2, $3, $4, $5, $6)",
                     {job.job_id, batch_id, int64_t(current.batches.size() + 1), fingerprint,
                      EncodeBatch(result), now})
            .status());
    return conn
        .Execute("UPDATE import_jobs SET summary = $2, updated_at_us = $3 WHERE job_id = $1",
                 {job.job_id, EncodeSummary(s), now})
        .status();
  });
  if (st.code() == absl::StatusCode::kAlreadyExists) {
    // The same batch committed first on another stream (a client that reconnected while its
    // first attempt was still running): answer as that one did.
    bool seen = false;
    GNLC_RETURN_IF_ERROR(db_.Read([&](Connection& conn) { return replay(conn, seen); }));
    if (seen) return result;
  }
  if (!st.ok()) return st;
  return result;
}

absl::StatusOr<ImportJob> IndicatorStore::CommitJob(const std::string& job_id,
                                                    const std::string& actor) {
  int64_t now = NowMicros();
  GNLC_RETURN_IF_ERROR(db_.Write([&](Connection& conn) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(ImportJob job, LoadJob(conn, job_id));
    if (job.state == JobState::kCommitted) return absl::OkStatus();  // a retried commit
    std::vector<Change> changes;
    if (job.mode == SyncMode::kReplaceScope) {
      // The values of the scope that no batch of the job sent.
      constexpr absl::string_view kNotSent =
          " FROM dataset_values WHERE city_id = $1 AND year = $2 AND NOT EXISTS (SELECT 1 FROM "
          "import_job_keys k WHERE k.job_id = $3 AND k.city_id = dataset_values.city_id AND "
          "k.year = dataset_values.year AND k.measure = dataset_values.measure AND k.category = "
          "dataset_values.category)";
      for (const std::string& city : job.scope_cities) {
        for (int year : job.scope_years) {
          GNLC_ASSIGN_OR_RETURN(auto d, LockDataset(conn, city, year));
          if (!d) continue;
          if (job.dry_run || d->state != DatasetState::kDraft) {
            GNLC_ASSIGN_OR_RETURN(auto count, conn.Query(absl::StrCat("SELECT COUNT(*)", kNotSent),
                                                         {city, int64_t{year}, job_id}));
            int64_t n = count[0].Int(0);
            if (n == 0) continue;
            if (d->state == DatasetState::kDraft) {  // a dry run: what it would remove
              job.summary.removed += n;
              continue;
            }
            // A rejection without rows: nothing of the file was refused, but the dataset was
            // not replaced.
            Rejection& r = job.summary.rejections["SCOPE_NOT_REPLACED"];
            absl::StrAppend(&r.example, r.example.empty() ? "" : "; ", d->Name(), " is ",
                            StateName(d->state), ", so ", n, " of its values stay as they were");
            continue;
          }
          GNLC_ASSIGN_OR_RETURN(
              auto removed,
              conn.Query(absl::StrCat("DELETE", kNotSent, " RETURNING measure, category"),
                         {city, int64_t{year}, job_id}));
          if (removed.empty()) continue;
          for (const Row& row : removed) {
            Change c;
            c.kind = ChangeKind::kValueRemoved;
            c.city_id = city;
            c.country = d->country;
            c.year = year;
            c.measure = row.Text(0);
            c.category = row.Text(1);
            c.revision = d->revision;
            c.actor = actor;
            c.origin = absl::StrCat("importJobs/", job_id);
            c.comment = "not in the job's replacement data";
            c.at_us = now;
            changes.push_back(std::move(c));
          }
          job.summary.removed += static_cast<int64_t>(removed.size());
          GNLC_RETURN_IF_ERROR(conn.Execute("UPDATE datasets SET etag = etag + 1, updated_at_us "
                                            "= $3 WHERE city_id = $1 AND year = $2",
                                            {city, int64_t{year}, now})
                                   .status());
        }
      }
    }
    GNLC_RETURN_IF_ERROR(AppendChanges(conn, changes));
    return conn
        .Execute(
            "UPDATE import_jobs SET state = $2, summary = $3, updated_at_us = $4 WHERE "
            "job_id = $1",
            {job_id, int64_t(JobState::kCommitted), EncodeSummary(job.summary), now})
        .status();
  }));
  return GetJob(job_id);
}

}  // namespace gnlc::indicators
