// Test support: a private database per test, so the same suites run on both drivers. Each
// test binary links exactly one of testing_sqlite.cc (a fresh file in a temp directory) or
// testing_postgres.cc (a fresh schema in the server named by GNLC_TEST_POSTGRES).
#pragma once

#include <memory>
#include <string>

#include "services/common/sql/database.h"

namespace gnlc::sql {

class TestDatabase {
 public:
  virtual ~TestDatabase() = default;
  Database& db() { return *db_; }
  // A URL that reaches the same database, for code that opens its own (a server binary).
  const std::string& url() const { return url_; }
  // Why the database is unavailable (the test should skip), or "" when it is ready.
  const std::string& skip_reason() const { return skip_reason_; }

 protected:
  std::unique_ptr<Database> db_;
  std::string url_;
  std::string skip_reason_;
};

// A new, empty database with a pool of `pool_size` connections.
std::unique_ptr<TestDatabase> OpenTestDatabase(int pool_size = 4);

}  // namespace gnlc::sql
