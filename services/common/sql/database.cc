#include "services/common/sql/database.h"

#include <charconv>
#include <condition_variable>
#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/sql/driver_errors.h"
#include "services/common/status.h"

namespace gnlc::sql {

bool Row::IsNull(size_t i) const { return std::holds_alternative<std::monostate>(cells_.at(i)); }

int64_t Row::Int(size_t i) const {
  const Value& v = cells_.at(i);
  if (auto* n = std::get_if<int64_t>(&v)) return *n;
  if (auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  if (auto* s = std::get_if<std::string>(&v)) {
    int64_t out = 0;
    if (absl::SimpleAtoi(*s, &out)) return out;
    if (*s == "t" || *s == "true") return 1;  // PostgreSQL booleans in text form
  }
  return 0;
}

double Row::Real(size_t i) const {
  const Value& v = cells_.at(i);
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* n = std::get_if<int64_t>(&v)) return static_cast<double>(*n);
  if (auto* s = std::get_if<std::string>(&v)) {
    double out = 0;
    if (absl::SimpleAtod(*s, &out)) return out;
  }
  return 0;
}

std::string Row::Text(size_t i) const {
  const Value& v = cells_.at(i);
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* n = std::get_if<int64_t>(&v)) return std::to_string(*n);
  if (auto* d = std::get_if<double>(&v)) return ExactDecimal(*d);
  if (auto* r = std::get_if<TextRef>(&v)) return std::string(r->text);
  return "";
}

std::string ExactDecimal(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

// A fixed-size pool: connections are opened on first use and replaced when broken.
class Database::Pool {
 public:
  Pool(Factory factory, int size) : factory_(std::move(factory)), capacity_(size) {}

  absl::StatusOr<std::unique_ptr<Connection>> Acquire() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || opened_ < capacity_; });
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    ++opened_;
    lock.unlock();
    auto conn = factory_();
    if (!conn.ok()) {
      std::lock_guard relock(mu_);
      --opened_;
      cv_.notify_one();
    }
    return conn;
  }

  void Release(std::unique_ptr<Connection> conn) {
    std::lock_guard lock(mu_);
    if (conn->Healthy()) {
      idle_.push_back(std::move(conn));
    } else {
      --opened_;  // dropped; the next Acquire opens a fresh one
    }
    cv_.notify_one();
  }

 private:
  Factory factory_;
  const int capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int opened_ = 0;
};

Database::Database(Dialect dialect, Factory factory, int pool_size)
    : dialect_(dialect), pool_(std::make_unique<Pool>(std::move(factory), pool_size)) {}

Database::~Database() = default;

absl::StatusOr<std::unique_ptr<Database>> Database::Open(absl::string_view url, int pool_size) {
  if (pool_size < 1) return absl::InvalidArgumentError("pool size must be at least 1");
  Dialect dialect;
  Factory factory;
  if (absl::StartsWith(url, "sqlite:")) {
    std::string path(url.substr(absl::string_view("sqlite:").size()));
    if (path.empty()) return absl::InvalidArgumentError("sqlite URL needs a path: sqlite:PATH");
    // Each connection to ":memory:" would be a different database: keep one.
    if (path == ":memory:") pool_size = 1;
    dialect = Dialect::kSqlite;
    factory = [path] { return OpenSqlite(path); };
  } else if (absl::StartsWith(url, "postgresql://") || absl::StartsWith(url, "postgres://")) {
    dialect = Dialect::kPostgres;
    factory = [conninfo = std::string(url)] { return OpenPostgres(conninfo); };
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "unsupported database URL '", url, "': use sqlite:PATH or postgresql://USER@HOST:PORT/DB"));
  }
  std::unique_ptr<Database> db(new Database(dialect, std::move(factory), pool_size));
  // Open one connection now so that a bad path or server fails at start, not at the first call.
  GNLC_RETURN_IF_ERROR(db->Read([](Connection&) { return absl::OkStatus(); }));
  return db;
}

absl::Status Database::Write(const std::function<absl::Status(Connection&)>& fn) {
  return Run(true, fn);
}

absl::Status Database::Read(const std::function<absl::Status(Connection&)>& fn) {
  return Run(false, fn);
}

absl::Status Database::Run(bool write, const std::function<absl::Status(Connection&)>& fn) {
  constexpr int kAttempts = 5;
  absl::Status last;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto conn = pool_->Acquire();
    if (!conn.ok()) return conn.status();
    absl::Status status = (*conn)->Begin(write);
    if (status.ok()) {
      status = fn(**conn);
      if (status.ok()) {
        status = (*conn)->Commit();
      } else {
        (*conn)->Rollback();
      }
    }
    pool_->Release(std::move(*conn));
    if (!IsRetryableConflict(status)) return status;
    last = status;
  }
  return last;
}

}  // namespace gnlc::sql
