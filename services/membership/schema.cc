// The membership database, as numbered migrations. Released steps never change; add a new one.
// Portable SQL: times are microseconds since the epoch (BIGINT), days are 'YYYY-MM-DD' text,
// booleans are 0/1 integers.
#include "services/membership/membership_store.h"

namespace gnlc::membership {

std::span<const sql::Migration> MembershipMigrations() {
  static constexpr sql::Migration kMigrations[] = {
      {1, "initial schema", R"sql(
CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO counters (name, value) VALUES ('events', 0);

CREATE TABLE cities (
  city_id TEXT PRIMARY KEY,
  country_code TEXT NOT NULL,
  kind INTEGER NOT NULL,
  population BIGINT NOT NULL,
  population_year INTEGER NOT NULL,
  governing_body TEXT NOT NULL,
  governing_body_elected INTEGER NOT NULL,
  mayor TEXT NOT NULL,
  contact_name TEXT NOT NULL, contact_email TEXT NOT NULL,
  contact_phone TEXT NOT NULL, contact_address TEXT NOT NULL,
  website TEXT NOT NULL,
  member_status INTEGER NOT NULL,
  member_since_us BIGINT NOT NULL,
  member_application TEXT NOT NULL,
  revision BIGINT NOT NULL,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL
);
CREATE INDEX cities_by_country ON cities (country_code, city_id);
CREATE INDEX cities_by_status ON cities (member_status, city_id);

CREATE TABLE city_names (
  city_id TEXT NOT NULL REFERENCES cities (city_id),
  language TEXT NOT NULL,
  name TEXT NOT NULL,
  folded TEXT NOT NULL,
  PRIMARY KEY (city_id, language)
);

CREATE TABLE member_status_changes (
  seq BIGINT PRIMARY KEY,
  city_id TEXT NOT NULL REFERENCES cities (city_id),
  status INTEGER NOT NULL,
  change TEXT NOT NULL,
  reason TEXT NOT NULL,
  actor TEXT NOT NULL,
  at_us BIGINT NOT NULL
);
CREATE INDEX member_status_changes_by_city ON member_status_changes (city_id, seq);

CREATE TABLE applications (
  application_id TEXT PRIMARY KEY,
  city_id TEXT NOT NULL REFERENCES cities (city_id),
  country_code TEXT NOT NULL,
  state INTEGER NOT NULL,
  motivation TEXT NOT NULL,
  contact_name TEXT NOT NULL, contact_email TEXT NOT NULL,
  contact_phone TEXT NOT NULL, contact_address TEXT NOT NULL,
  signatory TEXT NOT NULL,
  signed_on TEXT NOT NULL,
  seal_affixed INTEGER NOT NULL,
  beijing_declaration_adopted_on TEXT NOT NULL,
  key_features_adopted_on TEXT NOT NULL,
  commission_reference TEXT NOT NULL,
  revision BIGINT NOT NULL,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL
);
CREATE INDEX applications_by_city ON applications (city_id);
CREATE INDEX applications_by_country ON applications (country_code, application_id);
-- A city has at most one open (draft, submitted or endorsed) application.
CREATE UNIQUE INDEX applications_one_open_per_city ON applications (city_id)
  WHERE state IN (1, 2, 3);

CREATE TABLE application_transitions (
  seq BIGINT PRIMARY KEY,
  application_id TEXT NOT NULL REFERENCES applications (application_id),
  from_state INTEGER NOT NULL,
  to_state INTEGER NOT NULL,
  action TEXT NOT NULL,
  actor TEXT NOT NULL,
  comment TEXT NOT NULL,
  at_us BIGINT NOT NULL
);
CREATE INDEX application_transitions_by_application ON application_transitions (application_id, seq);

CREATE TABLE representatives (
  representative_id TEXT PRIMARY KEY,
  city_id TEXT NOT NULL REFERENCES cities (city_id),
  role INTEGER NOT NULL,
  full_name TEXT NOT NULL, title TEXT NOT NULL, email TEXT NOT NULL, phone TEXT NOT NULL,
  approved_by TEXT NOT NULL, approved_on TEXT NOT NULL, approval_document TEXT NOT NULL,
  added_at_us BIGINT NOT NULL, added_by TEXT NOT NULL,
  removed_at_us BIGINT NOT NULL, removed_by TEXT NOT NULL, remove_reason TEXT NOT NULL
);
CREATE INDEX representatives_by_city ON representatives (city_id);

CREATE TABLE contributions (
  contribution_id TEXT PRIMARY KEY,
  city_id TEXT NOT NULL REFERENCES cities (city_id),
  currency TEXT NOT NULL,
  amount TEXT NOT NULL,
  received_on TEXT NOT NULL,
  note TEXT NOT NULL,
  recorded_by TEXT NOT NULL,
  created_at_us BIGINT NOT NULL
);
CREATE INDEX contributions_by_city ON contributions (city_id, contribution_id);

-- The change log behind ListMembershipEvents and WatchMembershipEvents. seq comes from the
-- counters row, whose lock serializes writers, so seq order is commit order: a follower
-- that has read up to N never sees an event below N appear later.
CREATE TABLE events (
  seq BIGINT PRIMARY KEY,
  kind INTEGER NOT NULL,
  city_id TEXT NOT NULL,
  country_code TEXT NOT NULL,
  resource TEXT NOT NULL,
  member_status INTEGER NOT NULL,
  actor TEXT NOT NULL,
  comment TEXT NOT NULL,
  published INTEGER NOT NULL,
  at_us BIGINT NOT NULL
);
CREATE INDEX events_by_city ON events (city_id, seq);

CREATE TABLE idempotency (
  principal TEXT NOT NULL,
  request_id TEXT NOT NULL,
  method TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  resource TEXT NOT NULL,
  created_at_us BIGINT NOT NULL,
  PRIMARY KEY (principal, request_id)
);

CREATE TABLE api_keys (
  key_id TEXT PRIMARY KEY,
  hash TEXT NOT NULL,
  principal TEXT NOT NULL,
  description TEXT NOT NULL,
  created_at_us BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  revoked_at_us BIGINT NOT NULL,
  revoked_by TEXT NOT NULL,
  revoke_reason TEXT NOT NULL
);
CREATE INDEX api_keys_by_principal ON api_keys (principal, created_at_us);
)sql"},
  };
  return kMigrations;
}

}  // namespace gnlc::membership
