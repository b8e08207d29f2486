// gnlc: the command-line client of the GNLC platform (member register and indicators), for
// the secretariat, National Commissions, ministries and city coordinators. Parses the command line
// and hands over to a command group.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/config.h"
#include "tools/gnlc/arguments.h"
#include "tools/gnlc/client.h"
#include "tools/gnlc/commands.h"
#include "tools/gnlc/flags.h"

namespace {

struct Group {
  absl::string_view name;
  int (*run)(gnlc::cli::Invocation&);
};

constexpr Group kGroups[] = {
    {"whoami", gnlc::cli::RunWhoAmI},
    {"keys", gnlc::cli::RunKeys},
    {"cities", gnlc::cli::RunCities},
    {"applications", gnlc::cli::RunApplications},
    {"members", gnlc::cli::RunMembers},
    {"representatives", gnlc::cli::RunRepresentatives},
    {"contributions", gnlc::cli::RunContributions},
    {"events", gnlc::cli::RunEvents},
    {"indicators", gnlc::cli::RunIndicators},
    {"demo", gnlc::cli::RunDemo},
};

bool AsksForHelp(const std::vector<std::string>& args) {
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--") return false;
    if (args[i] == "--help" || args[i] == "-help" || args[i] == "-h") return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace gnlc::cli;
  const std::vector<std::string> raw(argv, argv + argc);
  if (AsksForHelp(raw)) {
    std::fputs(Usage().c_str(), stdout);
    return kExitOk;
  }
  if (auto errors = CommandLineErrors(raw); !errors.empty()) {
    return UsageError("", absl::StrJoin(errors, "\nerror: "));
  }
  std::vector<char*> positional = gnlc::ParseCommandLine(argc, argv, Usage());
  std::vector<std::string> args(positional.begin() + 1, positional.end());
  if (args.empty()) return UsageError("", "missing command");
  if (args[0] == "help") {
    std::fputs(Usage(args.size() > 1 ? args[1] : "").c_str(), stdout);
    return kExitOk;
  }

  const Group* group = nullptr;
  for (const Group& g : kGroups) {
    if (g.name == args[0]) group = &g;
  }
  if (group == nullptr) return UsageError("", absl::StrCat("unknown command '", args[0], "'"));

  auto settings = ConnectionSettingsFromFlags();
  if (!settings.ok()) return BadValue(settings.status());
  // Before the channel exists, so that gRPC's threads inherit the blocked signals.
  InstallInterruptHandler();
  Connection connection(*std::move(settings));
  Invocation invocation{connection, {args.begin() + 1, args.end()}, absl::GetFlag(FLAGS_json)};
  return group->run(invocation);
}
