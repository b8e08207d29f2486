// The SQLite driver: WAL journal, a busy timeout instead of immediate SQLITE_BUSY, foreign
// keys on, prepared statements cached per connection, parameters bound by name ("$1").
#include <sqlite3.h>

#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/sql/database.h"
#include "services/common/sql/driver_errors.h"

namespace gnlc::sql {
namespace {

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    for (auto& [sql, statement] : statements_) sqlite3_finalize(statement.stmt);
    sqlite3_close_v2(db_);
  }

  Dialect dialect() const override { return Dialect::kSqlite; }

  absl::StatusOr<std::vector<Row>> Query(absl::string_view sql,
                                         std::span<const Value> params) override {
    std::vector<Row> rows;
    GNLC_RETURN_IF_ERROR(Run(sql, params, &rows));
    return rows;
  }

  absl::StatusOr<int64_t> Execute(absl::string_view sql, std::span<const Value> params) override {
    GNLC_RETURN_IF_ERROR(Run(sql, params, nullptr));
    return sqlite3_changes64(db_);
  }

  absl::Status ExecuteScript(absl::string_view sql) override {
    char* message = nullptr;
    int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &message);
    std::string text = message ? message : "";
    sqlite3_free(message);
    return rc == SQLITE_OK ? absl::OkStatus() : Error(rc, text);
  }

 protected:
  // Writers take the lock up front: a deferred transaction that later upgrades to a write
  // can fail with SQLITE_BUSY even under a busy timeout.
  absl::Status Begin(bool write) override {
    return ExecuteScript(write ? "BEGIN IMMEDIATE" : "BEGIN");
  }
  absl::Status Commit() override { return ExecuteScript("COMMIT"); }
  void Rollback() override { sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); }
  bool Healthy() const override { return true; }

 private:
  absl::Status Error(int rc, absl::string_view detail) const {
    int primary = rc & 0xff;
    std::string message = absl::StrCat("sqlite: ", detail.empty() ? sqlite3_errstr(rc) : detail);
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return ErrorWithReason(absl::StatusCode::kAlreadyExists, kUniqueViolationReason, message);
    }
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
      return ErrorWithReason(absl::StatusCode::kUnavailable, kUnavailableReason,
                             absl::StrCat(message, " (database busy; retry)"));
    }
    return absl::InternalError(message);
  }

  // A prepared statement and where each "$n" parameter sits in it: SQLite numbers parameters
  // by first appearance, so "$2" may be index 1. Worked out once per statement, since binding
  // by name costs a search per parameter on every call.
  struct Statement {
    sqlite3_stmt* stmt = nullptr;
    std::vector<int> index_of;  // index_of[n - 1] is the index of "$n", 0 when unused
  };

  // Fills statement.index_of from the SQL text: SQLite gives each distinct parameter the next
  // index at its first appearance, so one pass over the text finds them all. (Asking SQLite
  // for each parameter's name is a linear search each: quadratic for a multi-row insert.)
  static bool MapParameters(absl::string_view sql, Statement& statement) {
    int next_index = 1;
    char quote = 0;
    for (size_t i = 0; i < sql.size(); ++i) {
      char c = sql[i];
      if (quote != 0) {
        if (c == quote) quote = 0;
        continue;
      }
      if (c == '\'' || c == '"') {
        quote = c;
        continue;
      }
      if (c != '$') continue;
      size_t j = i + 1;
      int n = 0;
      while (j < sql.size() && absl::ascii_isdigit(sql[j]) && n < 1000000) {
        n = n * 10 + (sql[j++] - '0');
      }
      if (j == i + 1 || n < 1) return false;
      if (static_cast<size_t>(n) > statement.index_of.size()) statement.index_of.resize(n, 0);
      if (statement.index_of[n - 1] == 0) statement.index_of[n - 1] = next_index++;
      i = j - 1;
    }
    return next_index - 1 == sqlite3_bind_parameter_count(statement.stmt);
  }

  absl::StatusOr<const Statement*> Prepare(absl::string_view sql) {
    if (auto it = statements_.find(sql); it != statements_.end()) return &it->second;
    Statement statement;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &statement.stmt, nullptr);
    if (rc != SQLITE_OK) return Error(rc, absl::StrCat(sqlite3_errmsg(db_), " in: ", sql));
    if (!MapParameters(sql, statement)) {
      sqlite3_finalize(statement.stmt);
      return absl::InternalError(absl::StrCat("parameters must be written $1, $2...: ", sql));
    }
    return &statements_.emplace(std::string(sql), std::move(statement)).first->second;
  }

  absl::Status Run(absl::string_view sql, std::span<const Value> params, std::vector<Row>* rows) {
    auto prepared = Prepare(sql);
    if (!prepared.ok()) return prepared.status();
    sqlite3_stmt* stmt = (*prepared)->stmt;
    const std::vector<int>& index_of = (*prepared)->index_of;
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    for (size_t i = 0; i < params.size(); ++i) {
      int index = i < index_of.size() ? index_of[i] : 0;
      if (index == 0) continue;  // parameter not used by this statement
      const Value& v = params[i];
      int rc = SQLITE_OK;
      if (std::holds_alternative<std::monostate>(v)) {
        rc = sqlite3_bind_null(stmt, index);
      } else if (auto* n = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, index, *n);
      } else if (auto* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(stmt, index, *d);
      } else if (auto* r = std::get_if<TextRef>(&v)) {
        rc = sqlite3_bind_text(stmt, index, r->text.data(), static_cast<int>(r->text.size()),
                               SQLITE_STATIC);
      } else {
        const std::string& s = std::get<std::string>(v);
        // STATIC: params outlive the step, and the next Run clears the bindings first.
        rc = sqlite3_bind_text(stmt, index, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
      }
      if (rc != SQLITE_OK) return Error(rc, sqlite3_errmsg(db_));
    }
    while (true) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        absl::Status status = Error(sqlite3_extended_errcode(db_), sqlite3_errmsg(db_));
        sqlite3_reset(stmt);
        return status;
      }
      if (rows == nullptr) continue;
      int columns = sqlite3_column_count(stmt);
      std::vector<Value> cells;
      cells.reserve(columns);
      for (int c = 0; c < columns; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_NULL:
            cells.emplace_back(std::monostate{});
            break;
          case SQLITE_INTEGER:
            cells.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, c)));
            break;
          case SQLITE_FLOAT:
            cells.emplace_back(sqlite3_column_double(stmt, c));
            break;
          default: {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
            cells.emplace_back(std::string(text, sqlite3_column_bytes(stmt, c)));
          }
        }
      }
      rows->emplace_back(std::move(cells));
    }
    sqlite3_reset(stmt);
    return absl::OkStatus();
  }

  sqlite3* db_;
  // Looked up by the SQL text itself, without copying it.
  absl::flat_hash_map<std::string, Statement> statements_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Connection>> OpenSqlite(const std::string& path) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return absl::UnavailableError(
        absl::StrCat("cannot open SQLite database '", path, "': ", message));
  }
  sqlite3_busy_timeout(db, 5000);
  auto conn = std::make_unique<SqliteConnection>(db);
  // synchronous=FULL: a commit is on disk before it returns, so what a service acknowledges
  // (a synced batch, a submitted application) survives a power cut, not only a crash.
  GNLC_RETURN_IF_ERROR(conn->ExecuteScript(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"));
  return conn;
}

}  // namespace gnlc::sql
