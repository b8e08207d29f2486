// A blocking Redis client (hiredis 0.14) for the worker pool, and the fail-open cache on top.
//
// Redis only ever caches: a cache failure never fails a call. RedisClient reports every failure
// as a status so callers can count it; FailOpenCache turns failures into misses and counts them,
// so a dead Redis shows up in metrics ("Redis down") while every call still succeeds from
// source. Every command is bounded by timeouts, and a connection that fails is not retried until
// a backoff has passed, so a dead Redis costs one fast failure per connection per backoff period,
// never a hang.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace gnlc {

struct RedisOptions {
  // "host:port" or "unix:/path".
  std::string address;
  // Bounds the TCP/Unix connect; a Redis that does not answer must not stall a worker.
  std::chrono::milliseconds connect_timeout{200};
  // Bounds each command's write and read on an established connection.
  std::chrono::milliseconds command_timeout{100};
  // After a failure the connection stays down this long before the next call reconnects.
  std::chrono::milliseconds reconnect_backoff{1000};
  // Connections for pool workers (worker i uses connection i % connections); match the pool size
  // so workers never wait for each other. Threads off the pool share one extra connection.
  int connections = 8;
};

// Thread-safe. Holds one hiredis context per pool worker (a context is not thread-safe), each
// behind its own mutex, connected lazily on first use, so a Redis that is down at start-up does
// not stop a service. Values and keys are binary-safe.
//
// Errors: UNAVAILABLE ("redis GET: <what>") when Redis cannot be reached, times out or the
// connection is in its backoff period; INTERNAL when Redis answers with an error (e.g. INCR on a
// non-integer), which leaves the connection up; INVALID_ARGUMENT for a malformed address or TTL.
class RedisClient {
 public:
  // Does not connect; the first command on each connection does.
  explicit RedisClient(RedisOptions options);
  ~RedisClient();

  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // The value at key, or nullopt when the key does not exist.
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key);

  // Stores value at key (SET key value EX ttl); ttl 0 means no expiry.
  absl::Status Set(std::string_view key, std::string_view value, std::chrono::seconds ttl);

  // Removes the keys (DEL); keys that do not exist are ignored, an empty list is a no-op.
  absl::Status Delete(const std::vector<std::string>& keys);

  // Atomically adds one to the integer at key (a missing key counts as 0); returns the new value.
  absl::StatusOr<int64_t> Incr(std::string_view key);

  // Sends message to the subscribers of channel; OK even when nobody listens.
  absl::Status Publish(std::string_view channel, std::string_view message);

  // Round trip to check that Redis answers (readiness, start-up checks).
  absl::Status Ping();

  const RedisOptions& options() const { return options_; }

 private:
  struct Slot;
  struct Reply;

  Slot& SlotForCaller();
  // Runs one command on the caller's connection; on any I/O error or timeout the connection is
  // dropped and marked down for reconnect_backoff.
  absl::StatusOr<Reply> Command(std::string_view name, const std::vector<std::string_view>& args);

  const RedisOptions options_;
  // Parsed from options_.address; address_error_ is set when it is malformed.
  absl::Status address_error_;
  std::string host_or_path_;
  int port_ = 0;
  bool unix_socket_ = false;
  // options_.connections slots for pool workers, then one for callers off the pool.
  std::vector<std::unique_ptr<Slot>> slots_;
};

// The fail-open face of a RedisClient for caches: never returns an error, so a cache failure
// never fails a call. Failures read as misses and are counted in errors(), which metrics export
// so that "Redis down" is visible. Thread-safe.
class FailOpenCache {
 public:
  // client may be null (no Redis configured): every Get is then a miss and nothing is an error.
  // A non-null client must outlive the cache.
  explicit FailOpenCache(RedisClient* client) : client_(client) {}

  // The cached value; nullopt on a miss or when Redis fails.
  std::optional<std::string> Get(std::string_view key);

  // Caches value at key for ttl (0 = no expiry); a failure is only counted.
  void Set(std::string_view key, std::string_view value, std::chrono::seconds ttl);

  // Invalidates the keys; a failure is only counted.
  void Delete(const std::vector<std::string>& keys);

  // True when a Redis client is configured.
  bool enabled() const { return client_ != nullptr; }

  // Outcome counters since construction, for metrics.
  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }
  uint64_t errors() const { return errors_.load(std::memory_order_relaxed); }

 private:
  RedisClient* const client_;
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
  std::atomic<uint64_t> errors_{0};
};

}  // namespace gnlc
