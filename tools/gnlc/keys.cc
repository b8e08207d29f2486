// whoami and keys: who the caller is, and the secretariat's API keys.
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "tools/gnlc/arguments.h"
#include "tools/gnlc/commands.h"
#include "tools/gnlc/flags.h"
#include "tools/gnlc/format.h"

namespace gnlc::cli {
namespace {

namespace access_v1 = ::gnlc::access::v1;
using AccessStub = access_v1::AccessService::Stub;

Table KeyTable() { return Table({"KEY", "PRINCIPAL", "DESCRIPTION", "CREATED", "BY", "REVOKED"}); }

void AddKeyRow(Table& table, const access_v1::ApiKey& key) {
  std::string revoked = FormatTimestamp(key.revoke_time());
  if (!revoked.empty() && !key.revoke_reason().empty()) {
    absl::StrAppend(&revoked, " (", key.revoke_reason(), ")");
  }
  table.AddRow({key.name(), key.principal(), key.description(), FormatTimestamp(key.create_time()),
                key.created_by(), revoked});
}

int Issue(Invocation& in) {
  if (in.Arg(1).empty()) return UsageError("keys", "keys issue needs a PRINCIPAL");
  access_v1::IssueApiKeyRequest request;
  request.set_principal(in.Arg(1));
  request.set_description(absl::GetFlag(FLAGS_description));
  request.set_request_id(absl::GetFlag(FLAGS_request_id));
  access_v1::IssueApiKeyResponse response;
  if (auto st = in.connection.Call(&AccessStub::IssueApiKey, request, &response); !st.ok()) {
    return in.Fail(st);
  }
  // On stderr, so that `--json` output or a redirected secret stays clean.
  std::fputs(
      "warning: this is the only time the secret is shown; store it now (it is kept only as a "
      "hash)\n",
      stderr);
  if (in.json) return in.PrintJson(response);
  Table table = KeyTable();
  AddKeyRow(table, response.api_key());
  std::printf("%s\nsecret: %s\n", table.Render().c_str(), response.secret().c_str());
  return kExitOk;
}

int List(Invocation& in) {
  access_v1::ListApiKeysRequest request;
  request.set_principal(absl::GetFlag(FLAGS_principal));
  request.set_include_revoked(absl::GetFlag(FLAGS_include_revoked));
  request.set_page_size(absl::GetFlag(FLAGS_page_size));
  request.set_page_token(absl::GetFlag(FLAGS_page_token));
  access_v1::ListApiKeysResponse all;
  for (;;) {
    access_v1::ListApiKeysResponse page;
    if (auto st = in.connection.Call(&AccessStub::ListApiKeys, request, &page); !st.ok()) {
      return in.Fail(st);
    }
    all.mutable_api_keys()->MergeFrom(page.api_keys());
    all.set_next_page_token(page.next_page_token());
    if (!absl::GetFlag(FLAGS_all) || page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  if (in.json) return in.PrintJson(all);
  Table table = KeyTable();
  for (const auto& key : all.api_keys()) AddKeyRow(table, key);
  std::fputs(table.empty() ? "no keys\n" : table.Render().c_str(), stdout);
  if (!all.next_page_token().empty()) {
    std::fprintf(stderr, "more: --page_token=%s (or --all)\n", all.next_page_token().c_str());
  }
  return kExitOk;
}

int Revoke(Invocation& in) {
  if (in.Arg(1).empty()) return UsageError("keys", "keys revoke needs a KEY (apiKeys/ID or ID)");
  access_v1::RevokeApiKeyRequest request;
  request.set_name(ApiKeyName(in.Arg(1)));
  request.set_reason(absl::GetFlag(FLAGS_reason));
  access_v1::RevokeApiKeyResponse response;
  if (auto st = in.connection.Call(&AccessStub::RevokeApiKey, request, &response); !st.ok()) {
    return in.Fail(st);
  }
  if (in.json) return in.PrintJson(response);
  Table table = KeyTable();
  AddKeyRow(table, response.api_key());
  std::fputs(table.Render().c_str(), stdout);
  return kExitOk;
}

}  // namespace

int RunWhoAmI(Invocation& in) {
  access_v1::WhoAmIResponse response;
  if (auto st = in.connection.Call(&AccessStub::WhoAmI, access_v1::WhoAmIRequest(), &response);
      !st.ok()) {
    return in.Fail(st);
  }
  if (in.json) return in.PrintJson(response);
  const ConnectionSettings& settings = in.connection.settings();
  std::fputs(FormatDetails({{"principal", response.principal()},
                            {"key", response.key_id()},
                            {"key from", settings.api_key_source},
                            {"server", settings.address}})
                 .c_str(),
             stdout);
  return kExitOk;
}

int RunKeys(Invocation& in) {
  const std::string verb = in.Arg(0);
  if (verb == "issue") return Issue(in);
  if (verb == "list") return List(in);
  if (verb == "revoke") return Revoke(in);
  return UsageError("keys", verb.empty() ? "keys needs a subcommand"
                                         : absl::StrCat("unknown subcommand 'keys ", verb, "'"));
}

}  // namespace gnlc::cli
