// Ingest benchmark (not a test): streams a million indicator values through the real sync path
// (gnlc-indicators over gRPC, checked against the catalog and membership, with history) and
// prints values per second beside a raw SQLite upsert loop measured in the same run on the same
// machine, and the server's memory while it streams.
//
//   build/bench/indicator_sync_bench [--cities=500] [--years=28] [--batch_rows=5000]
//
// It starts its own gnlc-membership and gnlc-indicators (built beside it) on free loopback
// ports with private SQLite files, and stops them at the end.
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gnlc/access/v1/access.grpc.pb.h"
#include "gnlc/indicators/v1/indicators.grpc.pb.h"
#include "gnlc/membership/v1/membership.grpc.pb.h"
#include "services/indicators/catalog.h"

ABSL_FLAG(int, cities, 500, "cities to report for");
ABSL_FLAG(int, years, 28, "reporting years per city (ending in 2023)");
ABSL_FLAG(int, batch_rows, 5000, "rows per sync batch");
ABSL_FLAG(std::string, membership_bin, GNLC_MEMBERSHIP_BIN, "gnlc-membership binary");
ABSL_FLAG(std::string, indicators_bin, GNLC_INDICATORS_BIN, "gnlc-indicators binary");

namespace {

namespace iv1 = gnlc::indicators::v1;
namespace mv1 = gnlc::membership::v1;
namespace av1 = gnlc::access::v1;
using gnlc::indicators::Catalog;
using gnlc::indicators::ValueType;
using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "bench: %s\n", message.c_str());
  std::exit(1);
}

int FreePort() {
  // Bind port 0 through a throwaway server socket and read the number back.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) Die("bind");
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
  std::fflush(stdout);  // or the child would print our buffered lines again
  pid_t pid = fork();
  if (pid == 0) {
    FILE* out = std::freopen(log.c_str(), "w", stdout);
    (void)out;
    dup2(STDOUT_FILENO, STDERR_FILENO);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

void Stop(pid_t pid) {
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
}

std::shared_ptr<grpc::Channel> Connect(const std::string& address) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(20))) {
    Die(absl::StrCat("no server at ", address));
  }
  return channel;
}

// CPU seconds (user + system) a process has used, from /proc.
double CpuSeconds(pid_t pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  std::getline(stat, line);
  // Fields after the command name (which may hold spaces) start after the last ')'.
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
  }
  return ticks / sysconf(_SC_CLK_TCK);
}

// Resident and peak memory of a process, in MiB, from /proc.
std::pair<double, double> MemoryMiB(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  double rss = 0, hwm = 0;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::stod(line.substr(6)) / 1024;
    if (line.rfind("VmHWM:", 0) == 0) hwm = std::stod(line.substr(6)) / 1024;
  }
  return {rss, hwm};
}

struct Row {
  std::string city;
  int year;
  std::string measure, category;
  double value;
};

// Every (city, year, measure, category) in key order, with a valid value for its measure.
std::vector<Row> MakeRows(int cities, int years) {
  const Catalog& catalog = Catalog::Builtin();
  std::vector<Row> rows;
  for (int c = 1; c <= cities; ++c) {
    std::string city = absl::StrFormat("cn-bench-%04d", c);
    for (int y = 2023 - years + 1; y <= 2023; ++y) {
      for (const auto& m : catalog.measures()) {
        for (const auto& category : gnlc::indicators::CategoriesOf(m.disaggregation)) {
          double span = m.max - m.min;
          double v = m.min + span * (0.2 + 0.001 * ((c * 7 + y) % 100));
          if (m.type == ValueType::kRating) v = 1 + (c + y) % 5;
          if (m.type == ValueType::kCount) v = static_cast<int>(v);
          rows.push_back({city, y, m.code, category, v});
        }
      }
    }
  }
  return rows;
}

// The baseline: the fastest way to put the same rows into SQLite by hand (one prepared
// upsert, 1,000-row transactions, key order, WAL), with no checks and no history.
double RawSqliteRowsPerSecond(const std::vector<Row>& rows, const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) Die("open raw db");
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
               "CREATE TABLE v (city_id TEXT NOT NULL, year INTEGER NOT NULL, measure TEXT NOT "
               "NULL, category TEXT NOT NULL, value DOUBLE PRECISION, PRIMARY KEY (city_id, "
               "year, measure, category));",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO v VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (city_id, year, "
                     "measure, category) DO UPDATE SET value = excluded.value",
                     -1, &stmt, nullptr);
  auto start = Clock::now();
  for (size_t i = 0; i < rows.size(); i += 1000) {
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    for (size_t j = i; j < std::min(rows.size(), i + 1000); ++j) {
      const Row& r = rows[j];
      sqlite3_bind_text(stmt, 1, r.city.data(), static_cast<int>(r.city.size()), SQLITE_STATIC);
      sqlite3_bind_int(stmt, 2, r.year);
      sqlite3_bind_text(stmt, 3, r.measure.data(), static_cast<int>(r.measure.size()),
                        SQLITE_STATIC);
      sqlite3_bind_text(stmt, 4, r.category.data(), static_cast<int>(r.category.size()),
                        SQLITE_STATIC);
      sqlite3_bind_double(stmt, 5, r.value);
      if (sqlite3_step(stmt) != SQLITE_DONE) Die(sqlite3_errmsg(db));
      sqlite3_reset(stmt);
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows.size() / seconds;
}

std::string ReadKey(const std::string& path) {
  for (int i = 0; i < 200; ++i) {
    std::ifstream in(path);
    std::string key;
    if (in >> key && !key.empty()) return key;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Die("the membership server wrote no bootstrap key");
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int cities = absl::GetFlag(FLAGS_cities);
  const int batch_rows = absl::GetFlag(FLAGS_batch_rows);
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / absl::StrCat("gnlc-bench-", getpid());
  std::filesystem::create_directories(dir);

  std::vector<Row> rows = MakeRows(cities, absl::GetFlag(FLAGS_years));
  std::printf("%zu values: %d cities x %d years x %zu measure categories\n", rows.size(), cities,
              absl::GetFlag(FLAGS_years), rows.size() / cities / absl::GetFlag(FLAGS_years));
  double raw = RawSqliteRowsPerSecond(rows, (dir / "raw.db").string());
  std::printf("raw SQLite upsert loop (1,000-row transactions, key order):  %10.0f rows/s\n", raw);

  std::string member_addr = absl::StrCat("127.0.0.1:", FreePort());
  std::string indicator_addr = absl::StrCat("127.0.0.1:", FreePort());
  std::string key_file = (dir / "secretariat.key").string();
  pid_t membership =
      Spawn({absl::GetFlag(FLAGS_membership_bin), absl::StrCat("--membership_addr=", member_addr),
             absl::StrCat("--database=sqlite:", (dir / "m.db").string()),
             absl::StrCat("--bootstrap_key_file=", key_file), "--log_format=text"},
            (dir / "membership.log").string());
  pid_t indicators = Spawn(
      {absl::GetFlag(FLAGS_indicators_bin), absl::StrCat("--indicators_addr=", indicator_addr),
       absl::StrCat("--membership_addr=", member_addr),
       absl::StrCat("--database=sqlite:", (dir / "i.db").string()), "--log_format=text"},
      (dir / "indicators.log").string());
  auto member_channel = Connect(member_addr);
  auto indicator_channel = Connect(indicator_addr);
  std::string secretariat = ReadKey(key_file);

  // The cities and a key for their ministry.
  auto members = mv1::MembershipService::NewStub(member_channel);
  for (int c = 1; c <= cities; ++c) {
    mv1::CreateCityRequest req;
    req.set_city_id(absl::StrFormat("cn-bench-%04d", c));
    auto* name = req.mutable_city()->add_display_names();
    name->set_language("en");
    name->set_text(absl::StrFormat("Bench City %d", c));
    req.mutable_city()->set_country_code("CN");
    req.mutable_city()->set_kind(mv1::CITY);
    req.mutable_city()->set_population(100000 + c);
    req.mutable_city()->set_population_year(2022);
    req.mutable_city()->mutable_governing_body()->set_name("City Council");
    req.mutable_city()->mutable_governing_body()->set_elected(true);
    req.mutable_city()->set_mayor("Mayor");
    req.mutable_city()->mutable_contact()->set_email("office@example.org");
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + secretariat);
    mv1::CreateCityResponse resp;
    grpc::Status st = members->CreateCity(&ctx, req, &resp);
    if (!st.ok()) Die(st.error_message());
  }
  std::string ministry;
  {
    auto access = av1::AccessService::NewStub(member_channel);
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + secretariat);
    av1::IssueApiKeyRequest req;
    req.set_principal("ministry:CN");
    av1::IssueApiKeyResponse resp;
    grpc::Status st = access->IssueApiKey(&ctx, req, &resp);
    if (!st.ok()) Die(st.error_message());
    ministry = resp.secret();
  }

  // The sync path: one stream, one batch acknowledged at a time, then commit.
  auto stub = iv1::IndicatorService::NewStub(indicator_channel);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + ministry);
  auto stream = stub->SyncValues(&ctx);
  iv1::SyncValuesRequest start;
  start.mutable_start()->set_mode(iv1::MERGE);
  iv1::SyncValuesResponse resp;
  auto begin = Clock::now();
  double cpu_before = CpuSeconds(indicators);
  if (!stream->Write(start) || !stream->Read(&resp)) Die(stream->Finish().error_message());
  int64_t applied = 0, rejected = 0;
  std::vector<std::pair<int, std::pair<double, double>>> samples;
  int next_sample = 10;
  // One batch in flight ahead of the acknowledgement being waited for: the client builds and
  // sends batch n+1 while the server applies batch n (the server still applies them in order).
  size_t sent = 0, acked = 0;
  auto send = [&](size_t i) {
    iv1::SyncValuesRequest req;
    auto* batch = req.mutable_batch();
    batch->set_batch_id(absl::StrCat("b", i));
    batch->set_first_row(static_cast<int64_t>(i) + 1);
    for (size_t j = i; j < std::min(rows.size(), i + batch_rows); ++j) {
      auto* w = batch->add_rows();
      w->set_city_id(rows[j].city);
      w->set_year(rows[j].year);
      w->set_measure(rows[j].measure);
      w->set_category(rows[j].category);
      w->set_value(rows[j].value);
      w->set_source("bench");
    }
    if (!stream->Write(req)) Die(stream->Finish().error_message());
  };
  auto receive = [&] {
    if (!stream->Read(&resp)) Die(stream->Finish().error_message());
    applied += resp.batch().applied();
    rejected += resp.batch().rejected();
    acked += resp.batch().rows();
    int percent = static_cast<int>(100 * acked / rows.size());
    if (percent >= next_sample) {
      samples.push_back({percent, MemoryMiB(indicators)});
      next_sample += 10;
    }
  };
  for (size_t i = 0; i < rows.size(); i += batch_rows) {
    send(i);
    if (++sent > 1) receive();
  }
  if (sent > 0) receive();
  iv1::SyncValuesRequest commit;
  commit.mutable_commit();
  if (!stream->Write(commit) || !stream->Read(&resp)) Die(stream->Finish().error_message());
  double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  double server_cpu = CpuSeconds(indicators) - cpu_before;
  stream->WritesDone();
  grpc::Status st = stream->Finish();
  if (!st.ok()) Die(st.error_message());
  if (rejected != 0 || applied != static_cast<int64_t>(rows.size())) {
    Die(absl::StrCat("expected every row applied: applied ", applied, ", rejected ", rejected));
  }
  double rate = rows.size() / seconds;
  std::printf(
      "sync path (gRPC stream, catalog + membership checks, history): %10.0f values/s"
      "  (%.0f%% of raw; %.1f s)\n",
      rate, 100 * rate / raw, seconds);
  std::printf("gnlc-indicators CPU while streaming: %.1f s of %.1f s wall\n", server_cpu, seconds);
  std::printf("gnlc-indicators memory while streaming (RSS MiB at %% of rows):");
  for (const auto& [percent, mem] : samples) std::printf(" %d%%:%.0f", percent, mem.first);
  std::printf("\ngnlc-indicators peak memory (VmHWM): %.0f MiB\n", MemoryMiB(indicators).second);

  Stop(indicators);
  Stop(membership);
  std::filesystem::remove_all(dir);
  return 0;
}
