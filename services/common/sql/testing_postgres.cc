#include <sodium.h>

#include <cstdlib>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/sql/testing.h"

namespace gnlc::sql {
namespace {

// Each test gets its own schema, reached through the search_path of every pooled connection,
// so tests never see each other's tables and nothing needs cleaning between them.
class PostgresTestDatabase final : public TestDatabase {
 public:
  explicit PostgresTestDatabase(int pool_size) {
    const char* base = std::getenv("GNLC_TEST_POSTGRES");
    if (base == nullptr || *base == '\0') {
      skip_reason_ = "GNLC_TEST_POSTGRES is not set (scripts/test sets it)";
      return;
    }
    base_ = base;
    unsigned char bytes[6];
    randombytes_buf(bytes, sizeof bytes);
    schema_ = absl::StrCat(
        "t_", absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(bytes), 6)));
    auto admin = Database::Open(base_, 1);
    if (!admin.ok()) {
      skip_reason_ = std::string(admin.status().message());
      return;
    }
    auto created = (*admin)->Write(
        [&](Connection& c) { return c.ExecuteScript(absl::StrCat("CREATE SCHEMA ", schema_)); });
    if (!created.ok()) {
      skip_reason_ = std::string(created.message());
      return;
    }
    url_ = absl::StrCat(base_, absl::StrContains(base_, "?") ? "&" : "?",
                        "options=-csearch_path%3D", schema_);
    auto db = Database::Open(url_, pool_size);
    if (!db.ok()) {
      skip_reason_ = std::string(db.status().message());
      return;
    }
    db_ = std::move(*db);
  }

  ~PostgresTestDatabase() override {
    db_.reset();
    if (schema_.empty() || base_.empty()) return;
    if (auto admin = Database::Open(base_, 1); admin.ok()) {
      (void)(*admin)->Write([&](Connection& c) {
        return c.ExecuteScript(absl::StrCat("DROP SCHEMA ", schema_, " CASCADE"));
      });
    }
  }

 private:
  std::string base_;
  std::string schema_;
};

}  // namespace

std::unique_ptr<TestDatabase> OpenTestDatabase(int pool_size) {
  if (sodium_init() < 0) std::abort();
  auto db = std::make_unique<PostgresTestDatabase>(pool_size);
  // In CI a missing PostgreSQL is a failure, not a skip: the suite must really run there.
  if (!db->skip_reason().empty() && std::getenv("CI") != nullptr) {
    std::fprintf(stderr, "PostgreSQL test database unavailable in CI: %s\n",
                 db->skip_reason().c_str());
    std::abort();
  }
  return db;
}

}  // namespace gnlc::sql
