#include "services/common/redis_client.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

#include <cerrno>
#include <mutex>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/common/worker_pool.h"

namespace gnlc {
namespace {

using Clock = std::chrono::steady_clock;

// Debian's Abseil is built with its own string_view (ABSL_OPTION_USE_STD_STRING_VIEW 0), which
// does not convert from std::string_view.
absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

void FreeContext(redisContext* ctx) {
  if (ctx != nullptr) redisFree(ctx);
}

// hiredis writes with write(2), so a write to a connection the server has reset raises SIGPIPE,
// whose default action kills the process. Block it on this thread for the duration of a command
// and discard any SIGPIPE the command raised; the failure itself surfaces as EPIPE.
class ScopedSigpipeBlock {
 public:
  ScopedSigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    // A SIGPIPE already pending belongs to someone else; leave it alone.
    already_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~ScopedSigpipeBlock() {
    if (!already_pending_) {
      timespec zero{};
      while (sigtimedwait(&pipe_, nullptr, &zero) == SIGPIPE) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  ScopedSigpipeBlock(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock& operator=(const ScopedSigpipeBlock&) = delete;

 private:
  sigset_t pipe_;
  sigset_t old_;
  bool already_pending_ = false;
};

absl::Status UnexpectedReply(std::string_view name, const redisReply& reply) {
  return absl::InternalError(
      absl::StrCat("redis ", AbslView(name), ": unexpected reply type ", reply.type));
}

}  // namespace

// One connection; mu guards everything, and is held for the whole command because a hiredis
// context is not thread-safe.
struct RedisClient::Slot {
  std::mutex mu;
  redisContext* ctx = nullptr;
  // While ctx is null and now < down_until, calls fail at once instead of reconnecting.
  Clock::time_point down_until{};
};

struct RedisClient::Reply {
  struct Free {
    void operator()(redisReply* r) const { freeReplyObject(r); }
  };
  std::unique_ptr<redisReply, Free> reply;
};

RedisClient::RedisClient(RedisOptions options) : options_(std::move(options)) {
  absl::string_view address = options_.address;
  if (absl::ConsumePrefix(&address, "unix:")) {
    unix_socket_ = true;
    host_or_path_ = std::string(address);
    if (host_or_path_.empty()) address_error_ = absl::InvalidArgumentError("empty socket path");
  } else {
    auto colon = address.rfind(':');
    if (colon == absl::string_view::npos || colon == 0 ||
        !absl::SimpleAtoi(address.substr(colon + 1), &port_) || port_ <= 0 || port_ > 65535) {
      address_error_ = absl::InvalidArgumentError("want host:port or unix:/path");
    } else {
      absl::string_view host = address.substr(0, colon);
      // "[::1]:6379": hiredis wants the bare IPv6 address.
      if (absl::ConsumePrefix(&host, "[")) absl::ConsumeSuffix(&host, "]");
      host_or_path_ = std::string(host);
    }
  }
  if (!address_error_.ok()) {
    address_error_ = absl::InvalidArgumentError(
        absl::StrCat("redis address \"", options_.address, "\": ", address_error_.message()));
  }
  int worker_slots = options_.connections > 0 ? options_.connections : 1;
  slots_.reserve(worker_slots + 1);
  for (int i = 0; i < worker_slots + 1; ++i) slots_.push_back(std::make_unique<Slot>());
}

RedisClient::~RedisClient() {
  for (auto& slot : slots_) FreeContext(slot->ctx);
}

RedisClient::Slot& RedisClient::SlotForCaller() {
  const int worker_slots = static_cast<int>(slots_.size()) - 1;
  const int worker = WorkerPool::CurrentWorker();
  return *slots_[worker >= 0 ? worker % worker_slots : worker_slots];
}

absl::StatusOr<RedisClient::Reply> RedisClient::Command(std::string_view name,
                                                        const std::vector<std::string_view>& args) {
  if (!address_error_.ok()) return address_error_;

  std::vector<const char*> argv;
  std::vector<size_t> argvlen;
  argv.reserve(args.size() + 1);
  argvlen.reserve(args.size() + 1);
  argv.push_back(name.data());
  argvlen.push_back(name.size());
  for (std::string_view arg : args) {
    argv.push_back(arg.data());
    argvlen.push_back(arg.size());
  }

  Slot& slot = SlotForCaller();
  std::lock_guard lock(slot.mu);
  const auto now = Clock::now();
  // Drops the connection and refuses calls on this slot until the backoff has passed, so a dead
  // Redis is not reconnected to (and waited for) on every call. `what` is taken by value because
  // it often points into the context this frees.
  auto fail = [&](std::string what) {
    FreeContext(slot.ctx);
    slot.ctx = nullptr;
    slot.down_until = Clock::now() + options_.reconnect_backoff;
    return absl::UnavailableError(absl::StrCat("redis ", AbslView(name), ": ", what));
  };

  if (slot.ctx == nullptr) {
    if (now < slot.down_until) {
      return absl::UnavailableError(
          absl::StrCat("redis ", AbslView(name), ": connection down, retrying after backoff"));
    }
    const timeval connect_tv = ToTimeval(options_.connect_timeout);
    slot.ctx = unix_socket_ ? redisConnectUnixWithTimeout(host_or_path_.c_str(), connect_tv)
                            : redisConnectWithTimeout(host_or_path_.c_str(), port_, connect_tv);
    if (slot.ctx == nullptr) return fail("cannot allocate context");
    if (slot.ctx->err != 0) {
      return fail(absl::StrCat("connect to ", options_.address, ": ", slot.ctx->errstr));
    }
    if (redisSetTimeout(slot.ctx, ToTimeval(options_.command_timeout)) != REDIS_OK) {
      return fail(absl::StrCat("set timeout: ", slot.ctx->errstr));
    }
  }

  void* raw;
  int command_errno;
  {
    ScopedSigpipeBlock no_sigpipe;
    raw = redisCommandArgv(slot.ctx, static_cast<int>(argv.size()), argv.data(), argvlen.data());
    command_errno = errno;  // before the signal cleanup overwrites it
  }
  if (raw == nullptr) {
    // hiredis reports a read timeout as an I/O error with EAGAIN; say so plainly.
    if (slot.ctx->err == REDIS_ERR_IO &&
        (command_errno == EAGAIN || command_errno == EWOULDBLOCK)) {
      return fail("timed out");
    }
    return fail(slot.ctx->errstr[0] != '\0' ? slot.ctx->errstr : "connection failed");
  }
  Reply reply{std::unique_ptr<redisReply, Reply::Free>(static_cast<redisReply*>(raw))};
  if (reply.reply->type == REDIS_REPLY_ERROR) {
    // Redis answered, so the connection is fine; the command itself was wrong.
    return absl::InternalError(absl::StrCat("redis ", AbslView(name), ": ",
                                            absl::string_view(reply.reply->str, reply.reply->len)));
  }
  return reply;
}

absl::StatusOr<std::optional<std::string>> RedisClient::Get(std::string_view key) {
  absl::StatusOr<Reply> r = Command("GET", {key});
  if (!r.ok()) return r.status();
  const redisReply& reply = *r->reply;
  if (reply.type == REDIS_REPLY_NIL) return std::optional<std::string>();
  if (reply.type != REDIS_REPLY_STRING) return UnexpectedReply("GET", reply);
  return std::optional<std::string>(std::string(reply.str, reply.len));
}

absl::Status RedisClient::Set(std::string_view key, std::string_view value,
                              std::chrono::seconds ttl) {
  if (ttl.count() < 0) return absl::InvalidArgumentError("redis SET: negative ttl");
  absl::StatusOr<Reply> r;
  if (ttl.count() == 0) {
    r = Command("SET", {key, value});
  } else {
    const std::string seconds = absl::StrCat(ttl.count());
    r = Command("SET", {key, value, "EX", seconds});
  }
  if (!r.ok()) return r.status();
  if (r->reply->type != REDIS_REPLY_STATUS) return UnexpectedReply("SET", *r->reply);
  return absl::OkStatus();
}

absl::Status RedisClient::Delete(const std::vector<std::string>& keys) {
  if (keys.empty()) return absl::OkStatus();
  std::vector<std::string_view> args(keys.begin(), keys.end());
  absl::StatusOr<Reply> r = Command("DEL", args);
  if (!r.ok()) return r.status();
  if (r->reply->type != REDIS_REPLY_INTEGER) return UnexpectedReply("DEL", *r->reply);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> RedisClient::Incr(std::string_view key) {
  absl::StatusOr<Reply> r = Command("INCR", {key});
  if (!r.ok()) return r.status();
  if (r->reply->type != REDIS_REPLY_INTEGER) return UnexpectedReply("INCR", *r->reply);
  return static_cast<int64_t>(r->reply->integer);
}

absl::Status RedisClient::Publish(std::string_view channel, std::string_view message) {
  absl::StatusOr<Reply> r = Command("PUBLISH", {channel, message});
  if (!r.ok()) return r.status();
  if (r->reply->type != REDIS_REPLY_INTEGER) return UnexpectedReply("PUBLISH", *r->reply);
  return absl::OkStatus();
}

absl::Status RedisClient::Ping() {
  absl::StatusOr<Reply> r = Command("PING", {});
  if (!r.ok()) return r.status();
  if (r->reply->type != REDIS_REPLY_STATUS) return UnexpectedReply("PING", *r->reply);
  return absl::OkStatus();
}

std::optional<std::string> FailOpenCache::Get(std::string_view key) {
  if (client_ == nullptr) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  absl::StatusOr<std::optional<std::string>> value = client_->Get(key);
  if (!value.ok()) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  (value->has_value() ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed);
  return *std::move(value);
}

void FailOpenCache::Set(std::string_view key, std::string_view value, std::chrono::seconds ttl) {
  if (client_ == nullptr) return;
  if (!client_->Set(key, value, ttl).ok()) errors_.fetch_add(1, std::memory_order_relaxed);
}

void FailOpenCache::Delete(const std::vector<std::string>& keys) {
  if (client_ == nullptr) return;
  if (!client_->Delete(keys).ok()) errors_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace gnlc
