// The command groups of the gnlc CLI and what they share: the positional arguments, the
// connection, the output mode, and how a command ends (exit codes, error reports, usage).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "tools/gnlc/client.h"

namespace gnlc::cli {

inline constexpr int kExitOk = 0;
// The server refused or failed the request (or could not be reached).
inline constexpr int kExitServerError = 1;
// The command line was wrong: unknown command, missing argument, malformed value.
inline constexpr int kExitUsage = 2;

// One run of a command: `args` are the positional words after the group ("list", "show",
// "cn-hangzhou"...).
struct Invocation {
  Connection& connection;
  std::vector<std::string> args;
  bool json = false;

  // The i-th positional argument, or "" when missing.
  std::string Arg(size_t i) const { return i < args.size() ? args[i] : ""; }
  // Prints `message` in JSON mode, and returns kExitOk.
  int PrintJson(const google::protobuf::Message& message) const;
  // Prints a server error with its details (and a hint when the cause is likely local), and
  // returns kExitServerError.
  int Fail(const absl::Status& status) const;
};

// The usage text: everything, or only the lines of one group ("cities").
std::string Usage(absl::string_view group = "");
// Prints "error: <message>" and the usage of `group` to stderr; returns kExitUsage.
int UsageError(absl::string_view group, absl::string_view message);
// Prints "error: <message>" (a malformed value) to stderr; returns kExitUsage.
int BadValue(const absl::Status& status);

// Command groups; each returns the process exit code.
int RunWhoAmI(Invocation& invocation);
int RunKeys(Invocation& invocation);
int RunCities(Invocation& invocation);
int RunApplications(Invocation& invocation);
int RunMembers(Invocation& invocation);
int RunRepresentatives(Invocation& invocation);
int RunContributions(Invocation& invocation);
int RunEvents(Invocation& invocation);
int RunIndicators(Invocation& invocation);
int RunDemo(Invocation& invocation);

}  // namespace gnlc::cli
