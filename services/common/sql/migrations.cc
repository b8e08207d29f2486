#include "services/common/sql/migrations.h"

#include <chrono>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "services/common/status.h"

namespace gnlc::sql {

std::string MigrationSql(absl::string_view sql, Dialect dialect) {
  bool sqlite = dialect == Dialect::kSqlite;
  return absl::StrReplaceAll(
      sql, {{"{{BIGINT_ROW_KEY}}", sqlite ? "INTEGER PRIMARY KEY" : "BIGINT PRIMARY KEY"},
            {"{{WITHOUT_ROWID}}", sqlite ? " WITHOUT ROWID" : ""}});
}

absl::Status ApplyMigrations(Database& db, std::span<const Migration> migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return absl::InternalError(absl::StrCat("migration list out of order at '",
                                              migrations[i].name, "': expected version ", i + 1));
    }
  }
  GNLC_RETURN_IF_ERROR(db.Write([](Connection& conn) {
    return conn.ExecuteScript(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at_us BIGINT NOT NULL)");
  }));
  std::map<int64_t, std::string> applied;
  GNLC_RETURN_IF_ERROR(db.Read([&](Connection& conn) {
    auto rows = conn.Query("SELECT version, name FROM schema_migrations ORDER BY version");
    if (!rows.ok()) return rows.status();
    for (const Row& row : *rows) applied[row.Int(0)] = row.Text(1);
    return absl::OkStatus();
  }));
  for (const auto& [version, name] : applied) {
    if (version > static_cast<int64_t>(migrations.size())) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the database is at schema version ", version, " ('", name,
          "'), newer than this binary knows (", migrations.size(), "): run a newer release"));
    }
    if (migrations[version - 1].name != name) {
      return absl::FailedPreconditionError(
          absl::StrCat("schema version ", version, " was applied as '", name,
                       "' but this binary calls it '", migrations[version - 1].name, "'"));
    }
  }
  for (const Migration& m : migrations) {
    if (applied.contains(m.version)) continue;
    int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    absl::Status status = db.Write([&](Connection& conn) {
      GNLC_RETURN_IF_ERROR(conn.ExecuteScript(MigrationSql(m.sql, conn.dialect())));
      return conn
          .Execute(
              "INSERT INTO schema_migrations (version, name, applied_at_us) VALUES ($1, $2, $3)",
              {int64_t{m.version}, std::string(m.name), now_us})
          .status();
    });
    // Another replica applying the same step at the same time wins the insert: fine.
    if (status.code() == absl::StatusCode::kAlreadyExists) continue;
    if (!status.ok()) {
      return absl::Status(status.code(), absl::StrCat("migration ", m.version, " '", m.name,
                                                      "' failed: ", status.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace gnlc::sql
