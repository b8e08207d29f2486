// The PostgreSQL driver (libpq): text-format parameters typed by the server from context,
// results converted by column type. Serialization failures and deadlocks come back as
// retryable conflicts; a lost connection marks the connection unhealthy so the pool drops it.
#include <libpq-fe.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/sql/database.h"
#include "services/common/sql/driver_errors.h"

namespace gnlc::sql {
namespace {

// Type OIDs from pg_type.h (stable across PostgreSQL versions).
constexpr Oid kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23, kFloat4Oid = 700, kFloat8Oid = 701,
              kBoolOid = 16;

class PostgresConnection final : public Connection {
 public:
  explicit PostgresConnection(PGconn* conn) : conn_(conn) {}
  ~PostgresConnection() override { PQfinish(conn_); }

  Dialect dialect() const override { return Dialect::kPostgres; }

  absl::StatusOr<std::vector<Row>> Query(absl::string_view sql,
                                         std::span<const Value> params) override {
    auto result = Run(sql, params);
    if (!result.ok()) return result.status();
    PGresult* res = result->get();
    int nrows = PQntuples(res), ncols = PQnfields(res);
    std::vector<Row> rows;
    rows.reserve(nrows);
    for (int r = 0; r < nrows; ++r) {
      std::vector<Value> cells;
      cells.reserve(ncols);
      for (int c = 0; c < ncols; ++c) {
        if (PQgetisnull(res, r, c)) {
          cells.emplace_back(std::monostate{});
          continue;
        }
        const char* text = PQgetvalue(res, r, c);
        switch (PQftype(res, c)) {
          case kInt8Oid:
          case kInt4Oid:
          case kInt2Oid:
            cells.emplace_back(static_cast<int64_t>(std::strtoll(text, nullptr, 10)));
            break;
          case kFloat8Oid:
          case kFloat4Oid:
            cells.emplace_back(std::strtod(text, nullptr));
            break;
          case kBoolOid:
            cells.emplace_back(static_cast<int64_t>(text[0] == 't'));
            break;
          default:
            cells.emplace_back(std::string(text, PQgetlength(res, r, c)));
        }
      }
      rows.emplace_back(std::move(cells));
    }
    return rows;
  }

  absl::StatusOr<int64_t> Execute(absl::string_view sql, std::span<const Value> params) override {
    auto result = Run(sql, params);
    if (!result.ok()) return result.status();
    const char* affected = PQcmdTuples(result->get());
    return affected[0] ? std::strtoll(affected, nullptr, 10) : 0;
  }

  absl::Status ExecuteScript(absl::string_view sql) override {
    Result res(PQexec(conn_, std::string(sql).c_str()), &PQclear);
    return Check(res.get());
  }

 protected:
  absl::Status Begin(bool write) override {
    return ExecuteScript(write ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  }
  absl::Status Commit() override { return ExecuteScript("COMMIT"); }
  void Rollback() override { PQclear(PQexec(conn_, "ROLLBACK")); }
  bool Healthy() const override { return PQstatus(conn_) == CONNECTION_OK; }

 private:
  using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

  absl::StatusOr<Result> Run(absl::string_view sql, std::span<const Value> params) {
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (size_t i = 0; i < params.size(); ++i) {
      const Value& v = params[i];
      if (std::holds_alternative<std::monostate>(v)) continue;
      if (auto* n = std::get_if<int64_t>(&v)) {
        texts[i] = std::to_string(*n);
      } else if (auto* d = std::get_if<double>(&v)) {
        texts[i] = ExactDecimal(*d);
      } else if (auto* r = std::get_if<TextRef>(&v)) {
        texts[i] = std::string(r->text);
      } else {
        texts[i] = std::get<std::string>(v);
      }
      values[i] = texts[i].c_str();
    }
    Result res(PQexecParams(conn_, std::string(sql).c_str(), static_cast<int>(params.size()),
                            nullptr, values.data(), nullptr, nullptr, 0),
               &PQclear);
    GNLC_RETURN_IF_ERROR(Check(res.get()));
    return res;
  }

  absl::Status Check(PGresult* res) const {
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return absl::OkStatus();
    std::string message = absl::StrCat("postgresql: ", PQerrorMessage(conn_));
    const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    absl::string_view code = state ? state : "";
    if (code == "23505") {
      return ErrorWithReason(absl::StatusCode::kAlreadyExists, kUniqueViolationReason, message);
    }
    if (code == "40001" || code == "40P01") {
      return ErrorWithReason(absl::StatusCode::kAborted, kConflictReason, message);
    }
    if (PQstatus(conn_) != CONNECTION_OK || absl::StartsWith(code, "08")) {
      return ErrorWithReason(absl::StatusCode::kUnavailable, kUnavailableReason, message);
    }
    return absl::InternalError(message);
  }

  PGconn* conn_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Connection>> OpenPostgres(const std::string& url) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    return ErrorWithReason(absl::StatusCode::kUnavailable, kUnavailableReason,
                           absl::StrCat("cannot connect to PostgreSQL: ", message));
  }
  auto pg = std::make_unique<PostgresConnection>(conn);
  // Warnings such as "there is no transaction in progress" are not errors for us.
  GNLC_RETURN_IF_ERROR(pg->ExecuteScript("SET client_min_messages TO WARNING"));
  return pg;
}

}  // namespace gnlc::sql
