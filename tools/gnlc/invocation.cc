#include <cstdio>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "tools/gnlc/commands.h"
#include "tools/gnlc/format.h"

namespace gnlc::cli {
namespace {

// One command's synopsis, under its group.
struct Synopsis {
  absl::string_view group;
  absl::string_view text;
};

constexpr Synopsis kSynopses[] = {
    {"whoami", "gnlc whoami"},
    {"keys", "gnlc keys issue PRINCIPAL [--description=TEXT] [--request_id=ID]"},
    {"keys", "gnlc keys list [--principal=PRINCIPAL] [--include_revoked] [--all]"},
    {"keys", "gnlc keys revoke KEY --reason=TEXT"},
    {"cities", "gnlc cities create --file=city.json [--city_id=ID] [--request_id=ID]"},
    {"cities",
     "gnlc cities list [--country=CC] [--region=REGION] [--status=STATUS] [--kind=KIND]\n"
     "                   [--query=TEXT] [--page_size=N] [--page_token=T | --all]"},
    {"cities", "gnlc cities show CITY"},
    {"cities", "gnlc cities history CITY"},
    {"cities", "gnlc cities update CITY --file=city.json --fields=population,mayor [--etag=E]"},
    {"applications", "gnlc applications create CITY [--motivation=TEXT] [--request_id=ID]"},
    {"applications", "gnlc applications list [--country=CC] [--city=CITY] [--state=STATE] [--all]"},
    {"applications", "gnlc applications show APPLICATION"},
    {"applications",
     "gnlc applications submit APPLICATION --signatory=NAME --signed_on=DATE --seal\n"
     "                   --beijing_adopted_on=DATE --key_features_adopted_on=DATE"},
    {"applications", "gnlc applications endorse APPLICATION --reference=REF [--comment=TEXT]"},
    {"applications", "gnlc applications return APPLICATION --comment=TEXT"},
    {"applications", "gnlc applications decline APPLICATION --reason=TEXT"},
    {"applications", "gnlc applications withdraw APPLICATION [--reason=TEXT]"},
    {"applications", "gnlc applications register APPLICATION [--comment=TEXT]"},
    {"members", "gnlc members suspend|reinstate|withdraw CITY --reason=TEXT"},
    {"representatives",
     "gnlc representatives add CITY --role=mayor|focal_point|other --name=NAME [--title=T]\n"
     "                   [--email=E] [--phone=P] [--approved_by=NAME --approved_on=DATE\n"
     "                   --approval_document=REF] [--request_id=ID]"},
    {"representatives", "gnlc representatives list CITY [--include_removed]"},
    {"representatives", "gnlc representatives remove cities/CITY/representatives/ID --reason=TEXT"},
    {"contributions",
     "gnlc contributions record CITY --amount=1500.00 --currency=EUR --received_on=DATE\n"
     "                   [--note=TEXT] [--request_id=ID]"},
    {"contributions", "gnlc contributions list CITY [--all]"},
    {"events", "gnlc events watch [--city=CITY] [--country=CC] [--after=CURSOR] [--from_now]"},
    {"indicators", "gnlc indicators catalog"},
    {"indicators",
     "gnlc indicators import FILE.csv [--mode=merge|replace] [--dry_run] [--job=JOB]\n"
     "                   [--batch_rows=1000]"},
    {"indicators",
     "gnlc indicators export [--city=CITY] [--country=CC] [--year=Y] [--measure=M | --feature=F]\n"
     "                   [--working_copy] [--out=FILE.csv]"},
    {"indicators", "gnlc indicators datasets list [--city=CITY] [--country=CC] [--year=Y]"},
    {"indicators",
     "gnlc indicators datasets show|submit|validate|return|publish|unpublish|revise DATASET\n"
     "                   [--comment=TEXT] [--etag=E]"},
    {"indicators", "gnlc indicators jobs list | show JOB"},
    {"indicators", "gnlc indicators quality DATASET [--working_copy]"},
    {"indicators",
     "gnlc indicators changes watch [--city=CITY] [--country=CC] [--after=CURSOR] [--from_now]"},
    {"demo", "gnlc demo load"},
};

constexpr absl::string_view kIntro =
    "gnlc: command-line client of the UNESCO Global Network of Learning Cities platform: the\n"
    "member register and indicator storage.\n"
    "\n"
    "usage: gnlc [flags] COMMAND [ARGUMENTS] [flags]\n"
    "\n"
    "Flags may come anywhere; each can also be set as GNLC_<FLAG> in the environment.\n"
    "  --membership_addr=HOST:PORT  membership service (default 127.0.0.1:50051)\n"
    "  --indicators_addr=HOST:PORT  indicator service (default 127.0.0.1:50052)\n"
    "  --key_file=PATH              API key to call with; GNLC_API_KEY=<key> takes precedence\n"
    "  --tls_ca=PEM                 speak TLS trusting this CA (default plaintext, loopback)\n"
    "  --timeout=10s                deadline of each call\n"
    "  --json                       print responses as JSON\n";

constexpr absl::string_view kNotes =
    "CITY is an id (cn-hangzhou) or a name (cities/cn-hangzhou); APPLICATION (app-...) and KEY\n"
    "likewise. DATASET is cn-hangzhou/2023 or cities/cn-hangzhou/datasets/2023. Indicator CSV\n"
    "files have the columns city_id,year,measure,category,value,flags,source,comment (flags:\n"
    "estimate;provisional;not_applicable;confidential). DATE is YYYY-MM-DD. Updates and\n"
    "workflow steps take --etag=E to refuse a change when someone else changed the object\n"
    "first. Exit status: 0 done, 1 refused or failed by the server (for an import: some rows\n"
    "were rejected, the rest stored), 2 bad command line.\n";

}  // namespace

std::string Usage(absl::string_view group) {
  std::string out;
  if (group.empty()) absl::StrAppend(&out, kIntro, "\nCommands:\n");
  for (const Synopsis& s : kSynopses) {
    if (group.empty() || s.group == group) absl::StrAppend(&out, "  ", s.text, "\n");
  }
  if (group.empty()) absl::StrAppend(&out, "\n", kNotes);
  return out;
}

int UsageError(absl::string_view group, absl::string_view message) {
  std::string usage = Usage(group);
  if (usage.empty()) usage = Usage();
  std::fprintf(stderr, "error: %s\n\nusage:\n%s", std::string(message).c_str(), usage.c_str());
  return kExitUsage;
}

int BadValue(const absl::Status& status) {
  std::fprintf(stderr, "error: %s\n", std::string(status.message()).c_str());
  return kExitUsage;
}

int Invocation::PrintJson(const google::protobuf::Message& message) const {
  std::fputs(ToJson(message).c_str(), stdout);
  return kExitOk;
}

int Invocation::Fail(const absl::Status& status) const {
  std::string report = FormatError(status);
  const ConnectionSettings& settings = connection.settings();
  // Errors from a GNLC server always carry an ErrorInfo; one without came from the transport.
  bool from_transport = ErrorReason(status).empty();
  if (from_transport && (status.code() == absl::StatusCode::kUnavailable ||
                         status.code() == absl::StatusCode::kDeadlineExceeded)) {
    absl::StrAppend(&report, "  (are the services running? membership at ", settings.address,
                    " (--membership_addr), indicators at ", settings.indicators_address,
                    " (--indicators_addr))\n");
  } else if (status.code() == absl::StatusCode::kUnauthenticated && settings.api_key.empty()) {
    absl::StrAppend(&report, "  (no API key was sent: pass --key_file=PATH or set GNLC_API_KEY)\n");
  }
  std::fputs(report.c_str(), stderr);
  return kExitServerError;
}

}  // namespace gnlc::cli
