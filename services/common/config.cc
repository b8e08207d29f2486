#include "services/common/config.h"

#include <cstdio>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/common/status.h"

ABSL_FLAG(std::string, membership_addr, "127.0.0.1:50051", "membership service gRPC address");
ABSL_FLAG(std::string, indicators_addr, "127.0.0.1:50052", "indicator service gRPC address");
ABSL_FLAG(std::string, scoring_addr, "127.0.0.1:50053", "scoring service gRPC address");
ABSL_FLAG(std::string, recognition_addr, "127.0.0.1:50054", "recognition service gRPC address");
ABSL_FLAG(std::string, metrics_addr, "",
          "Prometheus /metrics HTTP address, e.g. 127.0.0.1:9151 (empty: off)");
ABSL_FLAG(std::string, database, "", "sqlite:PATH or postgresql://USER@HOST:PORT/DB");
ABSL_FLAG(std::string, redis, "", "Redis host:port or unix:/path (empty: no cache)");
ABSL_FLAG(int, workers, 8, "threads for blocking work (SQL, Redis)");
ABSL_FLAG(int, max_queued_calls, 1000,
          "calls that may wait for a worker before RESOURCE_EXHAUSTED");
ABSL_FLAG(std::string, log_format, "json", "json or text");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warn or error");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain; with --tls_key turns TLS on");
ABSL_FLAG(std::string, tls_key, "", "PEM private key");
ABSL_FLAG(bool, allow_plaintext, false,
          "serve plaintext on a non-loopback address (only behind a TLS-terminating proxy)");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "time in-flight calls get to finish after SIGTERM");

namespace gnlc {
namespace {

std::string EnvName(absl::string_view flag) {
  return absl::StrCat("GNLC_", absl::AsciiStrToUpper(flag));
}

std::string Setting(absl::string_view flag) {
  return absl::StrCat("--", flag, " (", EnvName(flag), ")");
}

bool ValidHostPort(absl::string_view address) {
  auto colon = address.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) return false;
  int port = 0;
  return absl::SimpleAtoi(address.substr(colon + 1), &port) && port >= 0 && port <= 65535;
}

}  // namespace

std::vector<char*> ParseCommandLine(int argc, char** argv, absl::string_view usage) {
  absl::SetProgramUsageMessage(usage);
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    const char* value = std::getenv(EnvName(name).c_str());
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      std::fprintf(stderr, "bad setting %s=%s: %s\n", EnvName(name).c_str(), value, error.c_str());
      std::exit(2);
    }
  }
  return absl::ParseCommandLine(argc, argv);
}

bool IsLoopbackAddress(absl::string_view address) {
  return absl::StartsWith(address, "127.") || absl::StartsWith(address, "localhost:") ||
         absl::StartsWith(address, "[::1]:") || absl::StartsWith(address, "unix:");
}

absl::StatusOr<ServerConfig> ServerConfigFromFlags(absl::string_view service) {
  ServerConfig c;
  FieldErrors errors;
  std::string listen_flag = absl::StrCat(service, "_addr");
  auto* listen = absl::FindCommandLineFlag(listen_flag);
  if (listen == nullptr) return absl::InternalError(absl::StrCat("no flag --", listen_flag));
  c.listen_address = listen->CurrentValue();
  c.metrics_address = absl::GetFlag(FLAGS_metrics_addr);
  c.database_url = absl::GetFlag(FLAGS_database);
  c.redis_address = absl::GetFlag(FLAGS_redis);
  c.workers = absl::GetFlag(FLAGS_workers);
  c.max_queued_calls = absl::GetFlag(FLAGS_max_queued_calls);
  c.log_format = absl::GetFlag(FLAGS_log_format);
  c.log_level = absl::GetFlag(FLAGS_log_level);
  c.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  c.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  c.allow_plaintext = absl::GetFlag(FLAGS_allow_plaintext);
  c.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  c.membership_address = absl::GetFlag(FLAGS_membership_addr);

  if (!ValidHostPort(c.listen_address)) {
    errors.Add(Setting(listen_flag), "must be HOST:PORT, e.g. 127.0.0.1:50051");
  }
  if (!c.metrics_address.empty() && !ValidHostPort(c.metrics_address)) {
    errors.Add(Setting("metrics_addr"), "must be HOST:PORT or empty");
  }
  if (c.database_url.empty()) {
    errors.Add(Setting("database"), "is required: sqlite:PATH or postgresql://...");
  } else if (!absl::StartsWith(c.database_url, "sqlite:") &&
             !absl::StartsWith(c.database_url, "postgresql://") &&
             !absl::StartsWith(c.database_url, "postgres://")) {
    errors.Add(Setting("database"), "must start with sqlite: or postgresql://");
  }
  if (!c.redis_address.empty() && !absl::StartsWith(c.redis_address, "unix:") &&
      !ValidHostPort(c.redis_address)) {
    errors.Add(Setting("redis"), "must be HOST:PORT or unix:/path");
  }
  if (c.workers < 1 || c.workers > 256) errors.Add(Setting("workers"), "must be 1..256");
  if (c.max_queued_calls < 1) errors.Add(Setting("max_queued_calls"), "must be at least 1");
  if (c.log_format != "json" && c.log_format != "text") {
    errors.Add(Setting("log_format"), "must be json or text");
  }
  if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" &&
      c.log_level != "error") {
    errors.Add(Setting("log_level"), "must be debug, info, warn or error");
  }
  if (c.tls_cert_file.empty() != c.tls_key_file.empty()) {
    errors.Add(Setting(c.tls_cert_file.empty() ? "tls_cert" : "tls_key"),
               "TLS needs both --tls_cert and --tls_key");
  }
  if (c.tls_cert_file.empty() && !c.allow_plaintext && !IsLoopbackAddress(c.listen_address)) {
    errors.Add(Setting(listen_flag),
               "plaintext is served only on loopback: set --tls_cert and --tls_key, or "
               "--allow_plaintext behind a TLS-terminating proxy");
  }
  if (c.shutdown_grace < absl::ZeroDuration()) {
    errors.Add(Setting("shutdown_grace"), "must not be negative");
  }
  GNLC_RETURN_IF_ERROR(errors.ToStatus());
  return c;
}

}  // namespace gnlc
