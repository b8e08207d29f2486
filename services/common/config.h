// Settings every server shares, from flags and GNLC_* environment variables, checked at start.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace gnlc {

// Parses the command line. Every flag --foo_bar may also be set as GNLC_FOO_BAR in the
// environment; the command line wins. On a bad value, prints the setting's name and exits 2.
std::vector<char*> ParseCommandLine(int argc, char** argv, absl::string_view usage);

struct ServerConfig {
  // gRPC listen address ("127.0.0.1:50051"; port 0 picks a free port).
  std::string listen_address;
  // Prometheus /metrics HTTP address; empty turns the endpoint off.
  std::string metrics_address;
  // "sqlite:PATH" or "postgresql://...".
  std::string database_url;
  // Redis "host:port" or "unix:/path"; empty runs without a cache.
  std::string redis_address;
  // Threads that run blocking work (SQL, Redis), and how many calls may wait for them.
  int workers = 8;
  int max_queued_calls = 1000;
  std::string log_format = "json";
  std::string log_level = "info";
  // PEM files; when both are set the port speaks TLS.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Plaintext on a non-loopback address must be asked for explicitly (behind a TLS proxy).
  bool allow_plaintext = false;
  // How long in-flight calls may take to finish after SIGTERM.
  absl::Duration shutdown_grace = absl::Seconds(10);
  // Other services this one calls.
  std::string membership_address;
};

// Reads the shared flags into a ServerConfig for `service` ("membership", ...), whose listen
// address is --<service>_addr. INVALID_ARGUMENT names every bad setting (flag and variable).
absl::StatusOr<ServerConfig> ServerConfigFromFlags(absl::string_view service);

// True for 127.0.0.0/8, localhost and [::1] addresses, where plaintext is acceptable.
bool IsLoopbackAddress(absl::string_view address);

}  // namespace gnlc
