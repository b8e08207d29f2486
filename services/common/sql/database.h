// The SQL layer: one small interface over two drivers, SQLite (embedded default, WAL) and
// PostgreSQL (deployment, through libpq). The same SQL text runs on both: parameters are
// written $1, $2, ... and bound by name on SQLite, where "$2" may otherwise get index 1.
//
// Every call blocks. Services call it from their worker pool, never from a gRPC callback.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace gnlc::sql {

// A text parameter that refers to a string the caller keeps alive for the call: bulk writes
// bind thousands of strings per statement, and copying each into a Value is what they would
// otherwise spend their time on. Never a result cell.
struct TextRef {
  std::string_view text;
};

// A parameter or a result cell.
using Value = std::variant<std::monostate, int64_t, double, std::string, TextRef>;

// A double as the shortest text that reads back as the same value (PostgreSQL parameters and
// text results): "%g"-style formatting would round 123456.78 to 123457.
std::string ExactDecimal(double v);

inline Value Null() { return std::monostate{}; }
// An optional string stored as NULL when empty.
inline Value TextOrNull(const std::string& s) { return s.empty() ? Value{} : Value{s}; }

// One result row. Accessors convert between the two drivers' representations (PostgreSQL
// hands back text for every type) and treat NULL as zero or empty.
class Row {
 public:
  explicit Row(std::vector<Value> cells) : cells_(std::move(cells)) {}
  size_t size() const { return cells_.size(); }
  bool IsNull(size_t i) const;
  int64_t Int(size_t i) const;
  double Real(size_t i) const;
  std::string Text(size_t i) const;
  bool Bool(size_t i) const { return Int(i) != 0; }

 private:
  std::vector<Value> cells_;
};

enum class Dialect { kSqlite, kPostgres };

// A connection inside a transaction (see Database::Write / Database::Read).
class Connection {
 public:
  virtual ~Connection() = default;
  virtual Dialect dialect() const = 0;
  // Runs a statement and returns its rows (RETURNING included).
  virtual absl::StatusOr<std::vector<Row>> Query(absl::string_view sql,
                                                 std::span<const Value> params = {}) = 0;
  // Runs a statement and returns the number of rows it changed.
  virtual absl::StatusOr<int64_t> Execute(absl::string_view sql,
                                          std::span<const Value> params = {}) = 0;
  // Runs several ';'-separated statements without parameters (migrations).
  virtual absl::Status ExecuteScript(absl::string_view sql) = 0;

  // Convenience overloads for a braced parameter list.
  absl::StatusOr<std::vector<Row>> Query(absl::string_view sql, std::initializer_list<Value> p) {
    return Query(sql, std::span<const Value>(p.begin(), p.size()));
  }
  absl::StatusOr<int64_t> Execute(absl::string_view sql, std::initializer_list<Value> p) {
    return Execute(sql, std::span<const Value>(p.begin(), p.size()));
  }

 protected:
  friend class Database;
  virtual absl::Status Begin(bool write) = 0;
  virtual absl::Status Commit() = 0;
  virtual void Rollback() = 0;
  // False once the connection is known broken; the pool then replaces it.
  virtual bool Healthy() const = 0;
};

// A pool of connections to one database. Thread-safe.
class Database {
 public:
  // "sqlite:PATH" (":memory:" for a private in-memory database), or a PostgreSQL URL
  // "postgresql://user@host:port/db". pool_size connections are opened lazily.
  static absl::StatusOr<std::unique_ptr<Database>> Open(absl::string_view url, int pool_size);
  ~Database();

  Dialect dialect() const { return dialect_; }

  // Runs fn in a write transaction; commits when fn returns OK, rolls back otherwise. Retries
  // fn (up to a few times) when the database reports a serialization conflict.
  absl::Status Write(const std::function<absl::Status(Connection&)>& fn);
  // Runs fn in a read-only transaction, on a consistent snapshot.
  absl::Status Read(const std::function<absl::Status(Connection&)>& fn);

 private:
  using Factory = std::function<absl::StatusOr<std::unique_ptr<Connection>>()>;
  Database(Dialect dialect, Factory factory, int pool_size);

  class Pool;
  absl::Status Run(bool write, const std::function<absl::Status(Connection&)>& fn);
  Dialect dialect_;
  std::unique_ptr<Pool> pool_;
};

// Connection factories for each driver (used by Database::Open; exposed for tests).
absl::StatusOr<std::unique_ptr<Connection>> OpenSqlite(const std::string& path);
absl::StatusOr<std::unique_ptr<Connection>> OpenPostgres(const std::string& url);

}  // namespace gnlc::sql
