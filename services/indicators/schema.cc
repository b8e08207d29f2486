// The indicators database, as numbered migrations. Released steps never change; add a new one.
// Portable SQL: times are microseconds since the epoch (BIGINT), booleans 0/1 integers,
// value flags a bit set (1 estimate, 2 provisional, 4 not applicable, 8 confidential).
#include "services/indicators/indicator_store.h"

namespace gnlc::indicators {

std::span<const sql::Migration> IndicatorMigrations() {
  static constexpr sql::Migration kMigrations[] = {
      {1, "initial schema", R"sql(
CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO counters (name, value) VALUES ('changes', 0);

CREATE TABLE datasets (
  city_id TEXT NOT NULL,
  year INTEGER NOT NULL,
  country_code TEXT NOT NULL,
  state INTEGER NOT NULL,
  revision INTEGER NOT NULL,
  published_revision INTEGER NOT NULL,
  etag BIGINT NOT NULL,
  return_comment TEXT NOT NULL,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL,
  PRIMARY KEY (city_id, year)
);
CREATE INDEX datasets_by_country ON datasets (country_code, city_id, year);

CREATE TABLE review_steps (
  city_id TEXT NOT NULL,
  year INTEGER NOT NULL,
  step INTEGER NOT NULL,
  action TEXT NOT NULL,
  state INTEGER NOT NULL,
  revision INTEGER NOT NULL,
  actor TEXT NOT NULL,
  comment TEXT NOT NULL,
  at_us BIGINT NOT NULL,
  PRIMARY KEY (city_id, year, step)
);

-- The working copy: what writers see and change. No index on
-- country_code: reads by country go through datasets_by_country and the primary key, and
-- every index here is paid for by each value a ministry syncs.
CREATE TABLE dataset_values (
  city_id TEXT NOT NULL,
  year INTEGER NOT NULL,
  measure TEXT NOT NULL,
  category TEXT NOT NULL,
  country_code TEXT NOT NULL,
  value DOUBLE PRECISION,
  flags INTEGER NOT NULL,
  source TEXT NOT NULL,
  comment TEXT NOT NULL,
  warnings TEXT NOT NULL,
  stored_by TEXT NOT NULL,
  stored_at_us BIGINT NOT NULL,
  PRIMARY KEY (city_id, year, measure, category)
){{WITHOUT_ROWID}};

-- The published copy: a snapshot of the working copy taken at publication, replaced only by
-- publishing a new revision. Partners read this.
CREATE TABLE published_values (
  city_id TEXT NOT NULL,
  year INTEGER NOT NULL,
  measure TEXT NOT NULL,
  category TEXT NOT NULL,
  country_code TEXT NOT NULL,
  value DOUBLE PRECISION,
  flags INTEGER NOT NULL,
  source TEXT NOT NULL,
  comment TEXT NOT NULL,
  warnings TEXT NOT NULL,
  stored_by TEXT NOT NULL,
  stored_at_us BIGINT NOT NULL,
  PRIMARY KEY (city_id, year, measure, category)
){{WITHOUT_ROWID}};

-- Every change: value history, "as of" reads and the change feed. A value change holds the
-- value after it; the value before is the previous change of the same key. seq comes from the
-- counters row, which a writer locks before numbering its changes and holds until commit, so
-- seq order is commit order: a follower that has read up to N never sees a change below N
-- appear later.
CREATE TABLE changes (
  seq {{BIGINT_ROW_KEY}},
  kind INTEGER NOT NULL,
  city_id TEXT NOT NULL,
  country_code TEXT NOT NULL,
  year INTEGER NOT NULL,
  measure TEXT NOT NULL,
  category TEXT NOT NULL,
  has_new INTEGER NOT NULL,
  new_value DOUBLE PRECISION,
  new_flags INTEGER NOT NULL,
  new_source TEXT NOT NULL,
  new_comment TEXT NOT NULL,
  new_warnings TEXT NOT NULL,
  revision INTEGER NOT NULL,
  actor TEXT NOT NULL,
  origin TEXT NOT NULL,
  comment TEXT NOT NULL,
  at_us BIGINT NOT NULL
);
CREATE INDEX changes_by_value ON changes (city_id, year, measure, category, seq);

CREATE TABLE idempotency (
  principal TEXT NOT NULL,
  request_id TEXT NOT NULL,
  method TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  answer TEXT NOT NULL,
  created_at_us BIGINT NOT NULL,
  PRIMARY KEY (principal, request_id)
);

CREATE TABLE import_jobs (
  job_id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  mode INTEGER NOT NULL,
  scope TEXT NOT NULL,
  dry_run INTEGER NOT NULL,
  description TEXT NOT NULL,
  state INTEGER NOT NULL,
  summary TEXT NOT NULL,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL
);
CREATE INDEX import_jobs_by_owner ON import_jobs (owner, job_id);

CREATE TABLE import_batches (
  job_id TEXT NOT NULL,
  batch_id TEXT NOT NULL,
  ordinal INTEGER NOT NULL,
  fingerprint TEXT NOT NULL,
  result TEXT NOT NULL,
  acked_at_us BIGINT NOT NULL,
  PRIMARY KEY (job_id, batch_id)
);
CREATE UNIQUE INDEX import_batches_in_order ON import_batches (job_id, ordinal);

-- The keys a replace-scope job sent: at commit, the values of its scope not among them are
-- removed. (Kept per job, not as a mark on each value, which any later writer would change.)
CREATE TABLE import_job_keys (
  job_id TEXT NOT NULL,
  city_id TEXT NOT NULL,
  year INTEGER NOT NULL,
  measure TEXT NOT NULL,
  category TEXT NOT NULL,
  PRIMARY KEY (job_id, city_id, year, measure, category)
){{WITHOUT_ROWID}};
)sql"},
  };
  return kMigrations;
}

}  // namespace gnlc::indicators
