// The SQL layer's contract, run against SQLite (common_test) and PostgreSQL (common_pgtest).
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/common/sql/driver_errors.h"
#include "services/common/sql/migrations.h"
#include "services/common/sql/testing.h"
#include "services/common/status.h"

namespace gnlc::sql {
namespace {

class DatabaseSuite : public ::testing::Test {
 protected:
  void SetUp() override {
    test_db_ = OpenTestDatabase();
    if (!test_db_->skip_reason().empty()) GTEST_SKIP() << test_db_->skip_reason();
    ASSERT_TRUE(db().Write([](Connection& c) {
                      return c.ExecuteScript(
                          "CREATE TABLE items (id TEXT PRIMARY KEY, n BIGINT NOT NULL, "
                          "x DOUBLE PRECISION, note TEXT)");
                    })
                    .ok());
  }
  Database& db() { return test_db_->db(); }

  int64_t Count() {
    int64_t n = -1;
    EXPECT_TRUE(db().Read([&](Connection& c) {
                      auto rows = c.Query("SELECT COUNT(*) FROM items");
                      if (!rows.ok()) return rows.status();
                      n = (*rows)[0].Int(0);
                      return absl::OkStatus();
                    })
                    .ok());
    return n;
  }

  std::unique_ptr<TestDatabase> test_db_;
};

TEST_F(DatabaseSuite, ParametersBindByNumberNotByFirstAppearance) {
  // On SQLite "$2" appearing first would take index 1 if bound by position.
  std::vector<Row> rows;
  ASSERT_TRUE(db().Read([&](Connection& c) {
                    auto r = c.Query("SELECT CAST($2 AS TEXT), CAST($1 AS TEXT)",
                                     {std::string("one"), std::string("two")});
                    if (!r.ok()) return r.status();
                    rows = *r;
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].Text(0), "two");
  EXPECT_EQ(rows[0].Text(1), "one");
}

TEST_F(DatabaseSuite, ValuesRoundTripWithTheirTypes) {
  ASSERT_TRUE(db().Write([](Connection& c) {
                    return c
                        .Execute("INSERT INTO items (id, n, x, note) VALUES ($1, $2, $3, $4)",
                                 {std::string("a"), int64_t{9007199254740993}, 2.5, Null()})
                        .status();
                  })
                  .ok());
  ASSERT_TRUE(db().Read([](Connection& c) {
                    auto rows = c.Query("SELECT id, n, x, note FROM items WHERE id = $1",
                                        {std::string("a")});
                    if (!rows.ok()) return rows.status();
                    const Row& r = (*rows)[0];
                    EXPECT_EQ(r.Text(0), "a");
                    EXPECT_EQ(r.Int(1), 9007199254740993);  // beyond double precision
                    EXPECT_DOUBLE_EQ(r.Real(2), 2.5);
                    EXPECT_TRUE(r.IsNull(3));
                    return absl::OkStatus();
                  })
                  .ok());
}

TEST_F(DatabaseSuite, DoublesKeepEveryDigitAndTextRefsBind) {
  // PostgreSQL takes parameters as text: a rounded rendering would lose data silently.
  const std::vector<double> values = {123456.789012345, 0.1, 1e-7, 27600.5, -3.25e12};
  std::string note = "referenced, not copied";
  ASSERT_TRUE(db().Write([&](Connection& c) {
                    for (size_t i = 0; i < values.size(); ++i) {
                      GNLC_RETURN_IF_ERROR(
                          c.Execute("INSERT INTO items (id, n, x, note) VALUES ($1, $2, $3, $4)",
                                    {absl::StrCat("d", i), int64_t(i), values[i], TextRef{note}})
                              .status());
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_TRUE(db().Read([&](Connection& c) {
                    auto rows = c.Query("SELECT x, note FROM items WHERE id LIKE 'd%' ORDER BY n");
                    if (!rows.ok()) return rows.status();
                    EXPECT_EQ(rows->size(), values.size());
                    for (size_t i = 0; i < rows->size(); ++i) {
                      EXPECT_EQ((*rows)[i].Real(0), values[i]);  // exactly, not nearly
                      EXPECT_EQ((*rows)[i].Text(1), note);
                    }
                    return absl::OkStatus();
                  })
                  .ok());
}

TEST_F(DatabaseSuite, UniqueViolationIsAlreadyExists) {
  auto insert = [&] {
    return db().Write([](Connection& c) {
      return c.Execute("INSERT INTO items (id, n) VALUES ('dup', 1)").status();
    });
  };
  ASSERT_TRUE(insert().ok());
  absl::Status second = insert();
  EXPECT_EQ(second.code(), absl::StatusCode::kAlreadyExists) << second;
  EXPECT_EQ(ErrorReason(second), kUniqueViolationReason);
}

TEST_F(DatabaseSuite, AFailedTransactionWritesNothing) {
  absl::Status status = db().Write([](Connection& c) {
    GNLC_RETURN_IF_ERROR(c.Execute("INSERT INTO items (id, n) VALUES ('x', 1)").status());
    return absl::FailedPreconditionError("the rule said no");
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Count(), 0);
}

TEST_F(DatabaseSuite, ExecuteReportsRowsChanged) {
  int64_t changed = -1;
  ASSERT_TRUE(db().Write([&](Connection& c) {
                    GNLC_RETURN_IF_ERROR(
                        c.Execute("INSERT INTO items (id, n) VALUES ('a', 1), ('b', 2)").status());
                    auto n = c.Execute("UPDATE items SET n = n + 1 WHERE n >= $1", {int64_t{1}});
                    if (!n.ok()) return n.status();
                    changed = *n;
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(changed, 2);
}

TEST_F(DatabaseSuite, ConcurrentWritersAllCommit) {
  constexpr int kThreads = 4, kEach = 25;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        absl::Status s = db().Write([&](Connection& c) {
          return c
              .Execute("INSERT INTO items (id, n) VALUES ($1, $2)",
                       {std::to_string(t) + "-" + std::to_string(i), int64_t{i}})
              .status();
        });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(Count(), kThreads * kEach);
}

constexpr Migration kTwoSteps[] = {
    {1, "create a", "CREATE TABLE a (id BIGINT PRIMARY KEY)"},
    {2, "create b", "CREATE TABLE b (id BIGINT PRIMARY KEY); INSERT INTO b (id) VALUES (7)"},
};

TEST_F(DatabaseSuite, MigrationsApplyOnceInOrder) {
  ASSERT_TRUE(ApplyMigrations(db(), std::span(kTwoSteps, 1)).ok());
  ASSERT_TRUE(ApplyMigrations(db(), kTwoSteps).ok());
  // A second start applies nothing (the INSERT would fail on the primary key).
  absl::Status again = ApplyMigrations(db(), kTwoSteps);
  EXPECT_TRUE(again.ok()) << again;
  int64_t rows = 0;
  ASSERT_TRUE(db().Read([&](Connection& c) {
                    auto r = c.Query("SELECT COUNT(*) FROM schema_migrations");
                    if (!r.ok()) return r.status();
                    rows = (*r)[0].Int(0);
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(rows, 2);
}

TEST_F(DatabaseSuite, MigrationsRefuseANewerOrRenamedSchema) {
  ASSERT_TRUE(ApplyMigrations(db(), kTwoSteps).ok());
  absl::Status older_binary = ApplyMigrations(db(), std::span(kTwoSteps, 1));
  EXPECT_EQ(older_binary.code(), absl::StatusCode::kFailedPrecondition) << older_binary;
  constexpr Migration kRenamed[] = {{1, "create a table", "SELECT 1"}, kTwoSteps[1]};
  absl::Status renamed = ApplyMigrations(db(), kRenamed);
  EXPECT_EQ(renamed.code(), absl::StatusCode::kFailedPrecondition) << renamed;
}

TEST_F(DatabaseSuite, AFailedMigrationLeavesNoTrace) {
  constexpr Migration kBroken[] = {
      {1, "half", "CREATE TABLE c (id BIGINT PRIMARY KEY); INSERT INTO nowhere VALUES (1)"}};
  EXPECT_FALSE(ApplyMigrations(db(), kBroken).ok());
  // Fixed, it applies: neither table c nor the version was left behind.
  constexpr Migration kFixed[] = {{1, "half", "CREATE TABLE c (id BIGINT PRIMARY KEY)"}};
  absl::Status fixed = ApplyMigrations(db(), kFixed);
  EXPECT_TRUE(fixed.ok()) << fixed;
}

TEST_F(DatabaseSuite, DialectTokensOfMigrations) {
  constexpr Migration kLog[] = {{1, "log", "CREATE TABLE log (seq {{BIGINT_ROW_KEY}}, t TEXT)"}};
  ASSERT_TRUE(ApplyMigrations(db(), kLog).ok());
  const int64_t big = int64_t{1} << 40;  // beyond PostgreSQL's 32-bit INTEGER
  absl::Status st = db().Write([&](Connection& c) {
    GNLC_RETURN_IF_ERROR(c.Execute("INSERT INTO log (seq, t) VALUES ($1, 'a')", {big}).status());
    // Still a key: a second row with the same seq is refused.
    return c.Execute("INSERT INTO log (seq, t) VALUES ($1, 'b')", {big}).status();
  });
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists) << st;
  ASSERT_TRUE(db().Write([&](Connection& c) {
                    return c.Execute("INSERT INTO log (seq, t) VALUES ($1, 'a')", {big}).status();
                  })
                  .ok());
  ASSERT_TRUE(db().Read([&](Connection& c) {
                    auto rows = c.Query("SELECT seq FROM log");
                    if (!rows.ok()) return rows.status();
                    EXPECT_EQ((*rows)[0].Int(0), big);
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(MigrationSql("x {{BIGINT_ROW_KEY}}", Dialect::kSqlite), "x INTEGER PRIMARY KEY");
  EXPECT_EQ(MigrationSql("x {{BIGINT_ROW_KEY}}", Dialect::kPostgres), "x BIGINT PRIMARY KEY");
  EXPECT_EQ(MigrationSql("CREATE TABLE t (k TEXT PRIMARY KEY){{WITHOUT_ROWID}}", Dialect::kSqlite),
            "CREATE TABLE t (k TEXT PRIMARY KEY) WITHOUT ROWID");
  EXPECT_EQ(
      MigrationSql("CREATE TABLE t (k TEXT PRIMARY KEY){{WITHOUT_ROWID}}", Dialect::kPostgres),
      "CREATE TABLE t (k TEXT PRIMARY KEY)");
}

}  // namespace
}  // namespace gnlc::sql
