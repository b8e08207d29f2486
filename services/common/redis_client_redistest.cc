// RedisClient and FailOpenCache against a real Redis: the shared one named by GNLC_TEST_REDIS
// ("host:port"), and private redis-server processes that the failure tests kill and restart.
#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/common/redis_client.h"
#include "services/common/worker_pool.h"

extern char** environ;

namespace gnlc {
namespace {

using namespace std::chrono_literals;

constexpr char kRedisServer[] = "/usr/bin/redis-server";

// The shared test Redis, or empty when GNLC_TEST_REDIS is unset.
std::string SharedRedisAddress() {
  const char* address = std::getenv("GNLC_TEST_REDIS");
  return address == nullptr ? "" : address;
}

#define REQUIRE_SHARED_REDIS(address)                                \
  [[maybe_unused]] const std::string address = SharedRedisAddress(); \
  if (address.empty()) GTEST_SKIP() << "GNLC_TEST_REDIS not set";

#define REQUIRE_REDIS_SERVER_BINARY() \
  if (access(kRedisServer, X_OK) != 0) GTEST_SKIP() << kRedisServer << " not installed";

// Keys unique to this process and test, so runs sharing a Redis do not collide.
std::string TestKey(absl::string_view name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return absl::StrCat("gnlc_test:", getpid(), ":", info->name(), ":", name);
}

// A TCP port on 127.0.0.1 that nothing listens on (bound to port 0, then closed).
int UnusedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(fd);
  return ntohs(addr.sin_port);
}

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using RawContext = std::unique_ptr<redisContext, ContextDeleter>;

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using RawReply = std::unique_ptr<redisReply, ReplyDeleter>;

// A plain hiredis connection, to check what the client wrote without going through it.
RawContext RawConnect(const std::string& address) {
  RawContext ctx;
  const timeval tv{1, 0};
  if (address.rfind("unix:", 0) == 0) {
    ctx.reset(redisConnectUnixWithTimeout(address.substr(5).c_str(), tv));
  } else {
    const auto colon = address.rfind(':');
    ctx.reset(redisConnectWithTimeout(address.substr(0, colon).c_str(),
                                      std::atoi(address.c_str() + colon + 1), tv));
  }
  if (ctx != nullptr && ctx->err == 0) redisSetTimeout(ctx.get(), tv);
  return ctx;
}

bool RawPing(const std::string& address) {
  RawContext ctx = RawConnect(address);
  if (ctx == nullptr || ctx->err != 0) return false;
  RawReply reply(static_cast<redisReply*>(redisCommand(ctx.get(), "PING")));
  return reply != nullptr && reply->type == REDIS_REPLY_STATUS;
}

// A redis-server child process with no persistence, on a fixed port (and optionally a Unix
// socket) so it can be killed and started again at the same address.
class PrivateRedis {
 public:
  explicit PrivateRedis(int port, std::string unix_socket = "")
      : port_(port), unix_socket_(std::move(unix_socket)) {}
  ~PrivateRedis() { Kill(); }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

  // Starts the server and waits (up to 5 s) until it answers PING.
  bool Start() {
    std::vector<std::string> args = {kRedisServer, "--port",       absl::StrCat(port_),
                                     "--bind",     "127.0.0.1",    "--save",
                                     "",           "--appendonly", "no"};
    if (!unix_socket_.empty()) {
      args.insert(args.end(), {"--unixsocket", unix_socket_});
    }
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    const int rc = posix_spawn(&pid_, kRedisServer, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      return false;
    }
    const std::string probe = port_ != 0 ? address() : "unix:" + unix_socket_;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (RawPing(probe)) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  // SIGKILL, so the server gets no chance to close connections politely.
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  const int port_;
  const std::string unix_socket_;
  pid_t pid_ = -1;
};

// Pings until it succeeds or 5 s pass; returns the last status.
absl::Status PingUntilOk(RedisClient& client) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  absl::Status status = client.Ping();
  while (!status.ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
    status = client.Ping();
  }
  return status;
}

TEST(RedisClientTest, RoundTripsBinaryKeysAndValues) {
  REQUIRE_SHARED_REDIS(address);
  RedisClient client({.address = address});
  const std::string key = TestKey(std::string("bin\0key", 7));
  const std::string value("a\0b\xff\r\nc", 7);
  const std::string empty_key = TestKey("empty");

  ASSERT_TRUE(client.Set(key, value, 60s).ok());
  ASSERT_TRUE(client.Set(empty_key, "", 60s).ok());
  absl::StatusOr<std::optional<std::string>> got = client.Get(key);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, value);
  EXPECT_EQ(got->value().size(), 7u);
  // The key without its tail after the NUL is a different key.
  absl::StatusOr<std::optional<std::string>> truncated = client.Get(TestKey("bin"));
  ASSERT_TRUE(truncated.ok());
  EXPECT_FALSE(truncated->has_value());
  // An empty value is a hit, not a miss.
  got = client.Get(empty_key);
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, "");

  ASSERT_TRUE(client.Delete({key, empty_key, TestKey("never-set")}).ok());
  EXPECT_TRUE(client.Delete({}).ok());
  for (const std::string& k : {key, empty_key}) {
    got = client.Get(k);
    ASSERT_TRUE(got.ok());
    EXPECT_FALSE(got->has_value());
  }
}

TEST(RedisClientTest, SetAppliesTtlAndZeroMeansNoExpiry) {
  REQUIRE_SHARED_REDIS(address);
  RedisClient client({.address = address});
  RawContext raw = RawConnect(address);
  ASSERT_TRUE(raw != nullptr && raw->err == 0);
  auto ttl_of = [&](const std::string& key) -> long long {
    RawReply reply(
        static_cast<redisReply*>(redisCommand(raw.get(), "TTL %b", key.data(), key.size())));
    EXPECT_TRUE(reply != nullptr && reply->type == REDIS_REPLY_INTEGER);
    return reply != nullptr ? reply->integer : -100;
  };

  const std::string expiring = TestKey("expiring");
  ASSERT_TRUE(client.Set(expiring, "v", 100s).ok());
  const long long ttl = ttl_of(expiring);
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 100);

  const std::string forever = TestKey("forever");
  ASSERT_TRUE(client.Set(forever, "v", 0s).ok());
  EXPECT_EQ(ttl_of(forever), -1);  // exists, no expiry

  EXPECT_EQ(client.Set(forever, "v", -1s).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(client.Delete({expiring, forever}).ok());
}

TEST(RedisClientTest, IncrCountsAndAServerErrorKeepsTheConnection) {
  REQUIRE_SHARED_REDIS(address);
  RedisClient client({.address = address});
  const std::string counter = TestKey("counter");
  ASSERT_TRUE(client.Delete({counter}).ok());
  for (int64_t want = 1; want <= 3; ++want) {
    absl::StatusOr<int64_t> got = client.Incr(counter);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, want);
  }

  const std::string text = TestKey("text");
  ASSERT_TRUE(client.Set(text, "not a number", 60s).ok());
  absl::StatusOr<int64_t> bad = client.Incr(text);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInternal) << bad.status();
  // A Redis error reply is not a connection failure: no backoff, the next call works.
  absl::StatusOr<int64_t> next = client.Incr(counter);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(*next, 4);
  ASSERT_TRUE(client.Delete({counter, text}).ok());
}

TEST(RedisClientTest, PublishReachesASubscriber) {
  REQUIRE_SHARED_REDIS(address);
  RedisClient client({.address = address});
  const std::string channel = TestKey("channel");
  RawContext subscriber = RawConnect(address);
  ASSERT_TRUE(subscriber != nullptr && subscriber->err == 0);
  RawReply subscribed(static_cast<redisReply*>(
      redisCommand(subscriber.get(), "SUBSCRIBE %b", channel.data(), channel.size())));
  ASSERT_NE(subscribed, nullptr);

  const std::string message("hello\0world", 11);
  ASSERT_TRUE(client.Publish(channel, message).ok());
  void* raw = nullptr;
  ASSERT_EQ(redisGetReply(subscriber.get(), &raw), REDIS_OK);
  RawReply delivered(static_cast<redisReply*>(raw));
  ASSERT_EQ(delivered->type, REDIS_REPLY_ARRAY);
  ASSERT_EQ(delivered->elements, 3u);
  EXPECT_EQ(std::string(delivered->element[2]->str, delivered->element[2]->len), message);
}

// Many threads off the pool share the extra connection: every reply must reach its own caller.
TEST(RedisClientTest, ConcurrentThreadsGetTheirOwnValues) {
  REQUIRE_SHARED_REDIS(address);
  RedisClient client({.address = address, .command_timeout = 2000ms});
  std::atomic<int> failures{0};
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const std::string key = TestKey(absl::StrCat("thread", t));
      for (int i = 0; i < 200; ++i) {
        // Lengths vary so a reply handed to the wrong caller cannot match by accident.
        const std::string value =
            absl::StrCat(t, ":", i, ":", std::string(i % 37, static_cast<char>(t)));
        if (!client.Set(key, value, 60s).ok()) {
          ++failures;
          continue;
        }
        absl::StatusOr<std::optional<std::string>> got = client.Get(key);
        if (!got.ok()) {
          ++failures;
        } else if (!got->has_value() || **got != value) {
          ++mismatches;
        }
      }
      (void)client.Delete({key});
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
}

// Pool workers get per-worker connections; with fewer connections than workers, two workers
// share one, and the per-connection lock must keep their replies apart.
TEST(RedisClientTest, PoolWorkersSharingConnectionsGetTheirOwnValues) {
  REQUIRE_SHARED_REDIS(address);
  RedisClient client({.address = address, .command_timeout = 2000ms, .connections = 3});
  std::atomic<int> failures{0};
  std::atomic<int> mismatches{0};
  std::atomic<int> off_pool{0};
  {
    WorkerPool pool(8, 100);
    for (int t = 0; t < 8; ++t) {
      ASSERT_TRUE(pool.TrySubmit([&, t] {
        if (WorkerPool::CurrentWorker() < 0) ++off_pool;
        const std::string key = TestKey(absl::StrCat("task", t));
        for (int i = 0; i < 200; ++i) {
          const std::string value = absl::StrCat(t, ":", i, std::string(i % 29, 'x'));
          absl::StatusOr<std::optional<std::string>> got;
          if (!client.Set(key, value, 60s).ok() || !(got = client.Get(key)).ok()) {
            ++failures;
          } else if (!got->has_value() || **got != value) {
            ++mismatches;
          }
        }
        (void)client.Delete({key});
      }));
    }
    pool.Drain();
  }
  EXPECT_EQ(off_pool.load(), 0);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(FailOpenCacheTest, CountsHitsAndMisses) {
  REQUIRE_SHARED_REDIS(address);
  RedisClient client({.address = address});
  FailOpenCache cache(&client);
  EXPECT_TRUE(cache.enabled());
  const std::string key = TestKey("cached");
  cache.Delete({key});
  EXPECT_EQ(cache.Get(key), std::nullopt);
  cache.Set(key, "value", 60s);
  EXPECT_EQ(cache.Get(key), "value");
  cache.Delete({key});
  EXPECT_EQ(cache.Get(key), std::nullopt);
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.misses(), 2u);
  EXPECT_EQ(cache.errors(), 0u);
}

TEST(FailOpenCacheTest, WithoutRedisEveryGetIsAMissAndNothingIsAnError) {
  FailOpenCache cache(nullptr);
  EXPECT_FALSE(cache.enabled());
  cache.Set("k", "v", 60s);
  cache.Delete({"k"});
  EXPECT_EQ(cache.Get("k"), std::nullopt);
  EXPECT_EQ(cache.misses(), 1u);
  EXPECT_EQ(cache.hits(), 0u);
  EXPECT_EQ(cache.errors(), 0u);
}

TEST(RedisClientTest, MalformedAddressIsInvalidArgument) {
  for (const char* address : {"", "no-port", "host:notaport", ":6379", "host:70000", "unix:"}) {
    RedisClient client({.address = address});
    EXPECT_EQ(client.Ping().code(), absl::StatusCode::kInvalidArgument) << address;
  }
}

// A Redis that refuses connections costs one fast failure; calls within the backoff fail at once
// without reconnecting, and the fail-open cache turns all of it into counted misses.
TEST(RedisClientTest, ClosedPortFailsFastAndFailOpenCountsErrors) {
  RedisClient client({.address = absl::StrCat("127.0.0.1:", UnusedPort()),
                      .connect_timeout = 200ms,
                      .reconnect_backoff = 10s});
  const auto start = std::chrono::steady_clock::now();
  absl::Status ping = client.Ping();
  EXPECT_EQ(ping.code(), absl::StatusCode::kUnavailable) << ping;
  EXPECT_TRUE(absl::StrContains(ping.message(), "redis PING")) << ping;
  EXPECT_EQ(client.Get("k").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client.Set("k", "v", 1s).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client.Delete({"k"}).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client.Incr("k").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client.Publish("c", "m").code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);

  FailOpenCache cache(&client);
  EXPECT_EQ(cache.Get("k"), std::nullopt);
  EXPECT_EQ(cache.errors(), 1u);
  EXPECT_EQ(cache.misses(), 0u);
  EXPECT_EQ(cache.hits(), 0u);
  cache.Set("k", "v", 60s);
  cache.Delete({"k"});
  EXPECT_EQ(cache.errors(), 3u);
}

// A server that accepts the connection but never answers must cost command_timeout, not a hang.
TEST(RedisClientTest, CommandTimeoutBoundsASilentServer) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ASSERT_EQ(listen(listener, 16), 0);  // the kernel completes handshakes; nobody reads

  RedisClient client(
      {.address = absl::StrCat("127.0.0.1:", ntohs(addr.sin_port)), .command_timeout = 100ms});
  std::future<absl::Status> ping = std::async(std::launch::async, [&] { return client.Ping(); });
  const bool finished = ping.wait_for(5s) == std::future_status::ready;
  close(listener);  // resets the pending connection, so a hung Ping returns and the test ends
  EXPECT_TRUE(finished) << "Ping hung on a silent server";
  absl::Status status = ping.get();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  if (finished) {
    EXPECT_TRUE(absl::StrContains(status.message(), "timed out")) << status;
  }
}

// Within the backoff a down connection is not retried, even once Redis is back.
TEST(RedisClientTest, NoReconnectBeforeTheBackoffPasses) {
  REQUIRE_SHARED_REDIS(shared);
  REQUIRE_REDIS_SERVER_BINARY();
  PrivateRedis redis(UnusedPort());
  ASSERT_TRUE(redis.Start());
  RedisClient client({.address = redis.address(), .reconnect_backoff = 1h});
  ASSERT_TRUE(client.Ping().ok());

  redis.Kill();
  EXPECT_EQ(client.Ping().code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(redis.Start());
  absl::Status status = client.Ping();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "backoff")) << status;
}

TEST(RedisClientTest, ReconnectsAfterRedisRestarts) {
  REQUIRE_SHARED_REDIS(shared);
  REQUIRE_REDIS_SERVER_BINARY();
  PrivateRedis redis(UnusedPort());
  ASSERT_TRUE(redis.Start());
  RedisClient client({.address = redis.address(), .reconnect_backoff = 50ms});
  ASSERT_TRUE(client.Set("k", "before", 0s).ok());

  redis.Kill();
  EXPECT_EQ(client.Get("k").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client.Ping().code(), absl::StatusCode::kUnavailable);

  ASSERT_TRUE(redis.Start());
  absl::Status ping = PingUntilOk(client);
  ASSERT_TRUE(ping.ok()) << ping;
  ASSERT_TRUE(client.Set("k", "after", 0s).ok());
  absl::StatusOr<std::optional<std::string>> got = client.Get("k");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "after");
}

// hiredis writes with write(2): a large write to a reset connection raises SIGPIPE, which would
// kill the whole service unless the client suppresses it.
TEST(RedisClientTest, WritingToADeadServerDoesNotRaiseSigpipe) {
  REQUIRE_SHARED_REDIS(shared);
  REQUIRE_REDIS_SERVER_BINARY();
  PrivateRedis redis(UnusedPort());
  ASSERT_TRUE(redis.Start());
  RedisClient client({.address = redis.address(), .command_timeout = 1000ms});
  ASSERT_TRUE(client.Ping().ok());
  redis.Kill();
  // Larger than the socket buffers, so hiredis writes again after the peer's reset.
  const std::string big(16 << 20, 'x');
  EXPECT_EQ(client.Set("k", big, 0s).code(), absl::StatusCode::kUnavailable);
}

TEST(RedisClientTest, ConnectsOverAUnixSocket) {
  REQUIRE_SHARED_REDIS(shared);
  REQUIRE_REDIS_SERVER_BINARY();
  const std::string path = absl::StrCat("/tmp/gnlc_redis_test_", getpid(), ".sock");
  PrivateRedis redis(/*port=*/0, path);  // port 0: Unix socket only
  ASSERT_TRUE(redis.Start());
  RedisClient client({.address = "unix:" + path});
  ASSERT_TRUE(client.Set("k", std::string("v\0w", 3), 0s).ok());
  absl::StatusOr<std::optional<std::string>> got = client.Get("k");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, std::string("v\0w", 3));
  redis.Kill();
  unlink(path.c_str());
}

}  // namespace
}  // namespace gnlc
