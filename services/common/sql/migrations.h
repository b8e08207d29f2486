// Numbered schema migrations, one list per service, applied in order at start.
#pragma once

#include <span>
#include <string_view>

#include "absl/status/status.h"
#include "services/common/sql/database.h"

namespace gnlc::sql {

// One schema step. Versions start at 1 and never change once released; a new step gets the
// next number. The SQL must run unchanged on SQLite and PostgreSQL.
struct Migration {
  int version;
  absl::string_view name;
  absl::string_view sql;
};

// Applies every migration not yet recorded in schema_migrations, each in its own transaction.
// Refuses to start when the database has a version this binary does not know (a newer
// binary migrated it) or when a recorded name differs (the list was edited after release).
absl::Status ApplyMigrations(Database& db, std::span<const Migration> migrations);

}  // namespace gnlc::sql
