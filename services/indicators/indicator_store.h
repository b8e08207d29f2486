// The indicators database: datasets and their review history, the working copy of every
// value and the published copy partners read, the change log (history, "as of" reads and
// the change feed in one), import jobs with their acknowledged batches, and idempotency
// records. Every write runs in one transaction with its change records, so a refused request
// writes nothing and no change goes unlogged. Works unchanged on SQLite and PostgreSQL.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/sql/database.h"
#include "services/common/sql/migrations.h"
#include "services/indicators/catalog.h"
#include "services/indicators/domain.h"

namespace gnlc::indicators {

std::span<const sql::Migration> IndicatorMigrations();

struct ReviewRecord {
  std::string action;  // DatasetStep::done, or "created"
  DatasetState state = DatasetState::kDraft;
  int revision = 0;
  std::string actor;
  std::string comment;
  int64_t at_us = 0;
};

struct Dataset {
  std::string city_id;
  std::string country;
  int year = 0;
  DatasetState state = DatasetState::kDraft;
  int revision = 1;
  int published_revision = 0;
  int64_t etag = 0;
  std::string return_comment;
  int value_count = 0;  // of the working copy
  int warning_count = 0;
  int published_value_count = 0;  // of the published copy
  int published_warning_count = 0;
  std::vector<ReviewRecord> history;
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;

  std::string Name() const { return ValueKey{city_id, year, "", ""}.DatasetName(); }
};

// Who writes and through what: kept with every change.
struct WriteOrigin {
  std::string actor;   // principal
  std::string origin;  // "requests/{id}", "importJobs/{job}/batches/{batch}" or ""
};

// A row of a request or batch, with its number in the client's file (0 for unary writes).
struct NumberedWrite {
  int64_t row = 0;
  ValueWrite write;
};

// What a write did.
struct WriteOutcome {
  // Values written or already equal, as stored now (strict writes only: a batch reports counts).
  std::vector<StoredValue> stored;
  int64_t applied = 0;
  int64_t unchanged = 0;
  int64_t removed = 0;
  int64_t warnings = 0;
  int64_t rejected = 0;
  Rejections rejections;
};

// Makes a write safe to retry: the same principal sending the same request_id gets the
// first answer; a different request under that id is refused.
struct Idempotency {
  std::string principal;
  std::string request_id;   // empty: not idempotent
  std::string fingerprint;  // hash of the request
};

enum class SyncMode { kMerge = 1, kReplaceScope = 2 };
enum class JobState { kOpen = 1, kCommitted = 2 };

// What a batch, and a whole job, did with the rows it received.
struct ImportCounts {
  int64_t rows = 0;
  int64_t applied = 0;
  int64_t unchanged = 0;
  int64_t rejected = 0;
  int64_t warnings = 0;
  Rejections rejections;

  // Adds another's counts (a batch to its job's summary).
  void Add(const ImportCounts& other);
};

struct BatchResult : ImportCounts {
  std::string batch_id;
  bool replayed = false;
};

struct JobSummary : ImportCounts {
  int64_t batches = 0;
  int64_t removed = 0;
};

struct ImportJob {
  std::string job_id;
  std::string owner;  // principal
  SyncMode mode = SyncMode::kMerge;
  std::vector<std::string> scope_cities;
  std::vector<int> scope_years;
  bool dry_run = false;
  std::string description;
  JobState state = JobState::kOpen;
  std::vector<std::string> batches;  // acknowledged, in order
  JobSummary summary;
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;
};

struct DatasetFilter {
  std::string city_id;
  std::string country;
  int year = 0;
  DatasetState state = DatasetState::kUnspecified;
  // The caller's reach: published datasets plus those of scope_country or scope_city; with
  // none set, every dataset.
  bool published_only = false;
  std::string scope_country;
  std::string scope_city;
  // Page: datasets after this one in (city_id, year) order.
  std::string after_city;
  int after_year = 0;
  int limit = 50;
};

struct ValueFilter {
  std::string city_id;
  std::string country;
  int year = 0;
  std::vector<std::string> measures;  // empty: all
  // The working copy (writers, secretariat) or the published copy.
  bool working_copy = false;
  // Confidential values are returned only within this reach (all when both empty and
  // confidential_everywhere).
  bool confidential_everywhere = false;
  std::string confidential_country;
  std::string confidential_city;
  // Working copy only: limit to the caller's country or city.
  std::string scope_country;
  std::string scope_city;
  std::optional<ValueKey> after;  // page
  int limit = 500;
};

struct Change {
  int64_t seq = 0;
  ChangeKind kind = ChangeKind::kValueWritten;
  std::string city_id;
  std::string country;
  int year = 0;
  // Value changes only; old_value is filled by ValueHistory (the log keeps the new value).
  std::optional<StoredValue> old_value;
  std::optional<StoredValue> new_value;
  std::string measure;
  std::string category;
  int revision = 0;
  std::string actor;
  std::string origin;
  std::string comment;
  int64_t at_us = 0;
};

struct ChangeFilter {
  std::string city_id;
  std::string country;
  int64_t after_seq = 0;
  int limit = 200;
  // The caller's reach: publication changes of every dataset, plus every change of
  // scope_country or scope_city; with none set, every change.
  bool published_only = false;
  std::string scope_country;
  std::string scope_city;
};

class IndicatorStore {
 public:
  IndicatorStore(sql::Database& db, const Catalog& catalog) : db_(db), catalog_(catalog) {}

  absl::Status Migrate();

  // Stores or removes rows already checked against the catalog. `countries` gives each
  // city's country. With `strict`, a row that cannot be applied (its dataset is not a draft)
  // fails the whole call with FAILED_PRECONDITION; otherwise it is rejected on its own.
  // The idempotency record, when given, stores `encode(outcome)` as the first answer.
  absl::StatusOr<WriteOutcome> WriteValues(
      std::span<const NumberedWrite> rows, const std::map<std::string, std::string>& countries,
      const WriteOrigin& origin, bool strict, const Idempotency& idem = {},
      const std::function<std::string(const WriteOutcome&)>& encode = nullptr);
  // The answer recorded for an idempotent request, or nullopt when it is new.
  absl::StatusOr<std::optional<std::string>> RecordedAnswer(const Idempotency& idem,
                                                            absl::string_view method);

  absl::StatusOr<Dataset> GetDataset(const std::string& city_id, int year);
  absl::StatusOr<std::vector<Dataset>> ListDatasets(const DatasetFilter& filter);
  // Moves a dataset through review (publish copies the working copy to the published one,
  // unpublish removes it). `etag`, when set, must match.
  absl::StatusOr<Dataset> Step(const std::string& city_id, int year, DatasetAction action,
                               const std::string& actor, const std::string& comment,
                               std::optional<int64_t> etag);

  absl::StatusOr<std::vector<StoredValue>> ListValues(const ValueFilter& filter);
  // Every change of one value, oldest first.
  absl::StatusOr<std::vector<Change>> ValueHistory(const ValueKey& key);
  // The working copy of a dataset as it stood at `at_us`.
  absl::StatusOr<std::vector<StoredValue>> DatasetAsOf(const std::string& city_id, int year,
                                                       int64_t at_us);

  // The changes after filter.after_seq that the filter lets through, oldest first, and how far
  // the log was read: a follower resumes after `scanned_to`, so changes the filter hides are
  // not read again at every poll.
  struct ChangePage {
    std::vector<Change> changes;
    int64_t scanned_to = 0;
  };
  absl::StatusOr<ChangePage> ListChanges(const ChangeFilter& filter);
  absl::StatusOr<int64_t> LatestChangeSeq();

  // Import jobs. A job belongs to the principal that opened it.
  absl::StatusOr<ImportJob> CreateJob(ImportJob job);
  absl::StatusOr<ImportJob> GetJob(const std::string& job_id);
  absl::StatusOr<std::vector<ImportJob>> ListJobs(const std::string& owner,
                                                  const std::string& after_job_id, int limit);
  // Applies one batch and records its result with the job, in one transaction; a batch id
  // seen before returns its recorded result (replayed) and writes nothing. `pre_rejected`
  // are rows refused before reaching the store. A dry run writes only the batch record.
  absl::StatusOr<BatchResult> ApplyBatch(const ImportJob& job, const std::string& batch_id,
                                         const std::string& fingerprint, int64_t row_count,
                                         std::span<const NumberedWrite> rows,
                                         const Rejections& pre_rejected,
                                         const std::map<std::string, std::string>& countries,
                                         const std::string& actor);
  // Ends a job: with replace-scope, removes the values of its scope that it did not write.
  absl::StatusOr<ImportJob> CommitJob(const std::string& job_id, const std::string& actor);

 private:
  sql::Database& db_;
  const Catalog& catalog_;
};

}  // namespace gnlc::indicators
