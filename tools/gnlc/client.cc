#include "tools/gnlc/client.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "tools/gnlc/arguments.h"
#include "tools/gnlc/flags.h"

namespace gnlc::cli {
namespace {

std::mutex interrupt_mu;
// Guarded by interrupt_mu. A plain pointer, never destroyed at exit: the signal thread may
// still run while main returns and static destructors run.
std::function<void()>* interrupt_hook = nullptr;
std::atomic<bool> interrupted{false};

sigset_t InterruptSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

absl::StatusOr<ConnectionSettings> ConnectionSettingsFromFlags() {
  ConnectionSettings s;
  s.address = absl::GetFlag(FLAGS_membership_addr);
  s.indicators_address = absl::GetFlag(FLAGS_indicators_addr);
  s.timeout = absl::GetFlag(FLAGS_timeout);
  if (s.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--timeout must be positive, e.g. 10s");
  }
  if (const char* key = std::getenv("GNLC_API_KEY"); key != nullptr && *key != '\0') {
    s.api_key = std::string(absl::StripAsciiWhitespace(key));
    s.api_key_source = "GNLC_API_KEY";
  } else if (std::string path = absl::GetFlag(FLAGS_key_file); !path.empty()) {
    auto content = ReadFile(path);
    if (!content.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--key_file: cannot read ", path));
    }
    s.api_key = std::string(absl::StripAsciiWhitespace(*content));
    if (s.api_key.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--key_file: ", path, " is empty"));
    }
    s.api_key_source = absl::StrCat("--key_file=", path);
  }
  if (std::string path = absl::GetFlag(FLAGS_tls_ca); !path.empty()) {
    auto pem = ReadFile(path);
    if (!pem.ok()) return absl::InvalidArgumentError(absl::StrCat("--tls_ca: cannot read ", path));
    s.tls_roots_pem = *pem;
  }
  return s;
}

Connection::Connection(ConnectionSettings settings) : settings_(std::move(settings)) {
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (settings_.tls_roots_pem.empty()) {
    credentials = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = settings_.tls_roots_pem;
    credentials = grpc::SslCredentials(options);
  }
  channel_ = grpc::CreateChannel(settings_.address, credentials);
  membership_ = gnlc::membership::v1::MembershipService::NewStub(channel_);
  access_ = gnlc::access::v1::AccessService::NewStub(channel_);
  // Channels connect lazily: a command that never calls indicators never dials it.
  // An import job's summary lists every rejected row, however many: no size limit on answers.
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(-1);
  indicators_ = gnlc::indicators::v1::IndicatorService::NewStub(
      grpc::CreateCustomChannel(settings_.indicators_address, credentials, arguments));
}

void Connection::Prepare(grpc::ClientContext& context, bool with_deadline,
                         const std::string& api_key) const {
  const std::string& key = api_key.empty() ? settings_.api_key : api_key;
  if (!key.empty()) context.AddMetadata("authorization", absl::StrCat("Bearer ", key));
  if (with_deadline) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + settings_.timeout));
  }
}

void InstallInterruptHandler() {
  sigset_t set = InterruptSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    for (;;) {
      int signal = 0;
      if (sigwait(&set, &signal) != 0) continue;
      interrupted = true;
      std::lock_guard lock(interrupt_mu);
      if (interrupt_hook == nullptr) std::_Exit(128 + signal);
      (*interrupt_hook)();
    }
  }).detach();
}

void SetInterruptHook(std::function<void()> hook) {
  std::lock_guard lock(interrupt_mu);
  delete interrupt_hook;
  interrupt_hook = hook ? new std::function<void()>(std::move(hook)) : nullptr;
}

bool Interrupted() { return interrupted; }

}  // namespace gnlc::cli
