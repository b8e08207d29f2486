// Numbered schema migrations, one list per service, applied in order at start.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "services/common/sql/database.h"

namespace gnlc::sql {

// One schema step. Versions start at 1 and never change once released; a new step gets the
// next number. The SQL must run unchanged on SQLite and PostgreSQL, with two exceptions, both
// for tables that bulk writes fill (each B-tree a row goes into is paid for by every insert):
// - {{BIGINT_ROW_KEY}} declares a 64-bit integer primary key: "INTEGER PRIMARY KEY" on SQLite
//   (the column becomes the row id, so no separate key index) and "BIGINT PRIMARY KEY" on
//   PostgreSQL (where INTEGER is 32 bits);
// - {{WITHOUT_ROWID}} after a CREATE TABLE's closing parenthesis stores the table in its
//   primary key on SQLite ("WITHOUT ROWID"); PostgreSQL needs nothing.
struct Migration {
  int version;
  absl::string_view name;
  absl::string_view sql;
};

// Applies every migration not yet recorded in schema_migrations, each in its own transaction.
// Refuses to start when the database has a version this binary does not know (a newer
// binary migrated it) or when a recorded name differs (the list was edited after release).
absl::Status ApplyMigrations(Database& db, std::span<const Migration> migrations);

// A migration's SQL as `dialect` runs it ({{BIGINT_ROW_KEY}} and {{WITHOUT_ROWID}} written out).
std::string MigrationSql(absl::string_view sql, Dialect dialect);

}  // namespace gnlc::sql
