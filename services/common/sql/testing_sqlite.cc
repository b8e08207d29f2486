#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "services/common/sql/testing.h"

namespace gnlc::sql {
namespace {

class SqliteTestDatabase final : public TestDatabase {
 public:
  explicit SqliteTestDatabase(int pool_size) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "gnlc-sqlite-test.XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    url_ = absl::StrCat("sqlite:", dir_, "/test.db");
    auto db = Database::Open(url_, pool_size);
    if (!db.ok()) {
      skip_reason_ = std::string(db.status().message());
      return;
    }
    db_ = std::move(*db);
  }
  ~SqliteTestDatabase() override {
    db_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

 private:
  std::string dir_;
};

}  // namespace

std::unique_ptr<TestDatabase> OpenTestDatabase(int pool_size) {
  return std::make_unique<SqliteTestDatabase>(pool_size);
}

}  // namespace gnlc::sql
